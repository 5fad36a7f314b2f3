"""`sim run`: render a world's frames and write the dataset.

Everything a user can get wrong is checked before the output directory is touched: the world
file, plugin parameters, the GL context, and the first frame itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from simulator import output
from simulator.components import DatasetInfo, Writer
from simulator.engine import Engine
from simulator.errors import OutputError, PluginError
from simulator.labels import FrameLabels, derive
from simulator.pipeline import Pipeline, host_for, rerender_hint
from simulator.world import World


@dataclass
class RunSummary:
    root: Path
    frames: int
    seconds: float
    objects: int
    skipped: int = 0

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


class Renderer:
    """A pipeline and an engine: renders and labels any frame index of a world."""

    def __init__(
        self, world: World, plugins_dirs: Iterable[Path] = (), trace: bool | None = None
    ) -> None:
        self.world = world
        self.host = host_for(world, plugins_dirs, trace)
        self.pipeline = Pipeline(world, self.host)
        width, height = world.camera.resolution
        self.engine = Engine(width, height)

    def frame(self, index: int) -> FrameLabels:
        seed = self.world.world.seed
        scene = self.pipeline.build_scene(index)
        self._hook("sim_frame_start", index, frame=index, seed=seed, scene=scene)
        passes = self.engine.render(scene)
        labels = derive(
            index,
            self.world.world.seed,
            scene,
            passes,
            self.pipeline.categories,
            self.world.output.labels,
            self.engine,
            self.pipeline.keypoints,
        )
        self.pipeline.label(labels)
        self._hook("sim_after_capture", index, frame=labels)
        return labels

    def _hook(self, hook: str, index: int, **kwargs: object) -> None:
        try:
            self.host.call(hook, at_frame=index, **kwargs)
        except PluginError as error:
            raise PluginError(f"{error} {rerender_hint(self.world, index)}") from error.__cause__

    def close(self) -> None:
        self.engine.close()


def run(
    world: World,
    out: Path | None = None,
    start: int = 0,
    frames: int | None = None,
    overwrite: bool = False,
    plugins_dirs: Iterable[Path] = (),
    on_frame: Callable[[int], None] | None = None,
    skip_failed: bool = False,
    trace: bool | None = None,
) -> RunSummary:
    """Render frames [start, start + frames) of `world` into a dataset at `out`.

    A plugin error stops the run, leaving nothing of that frame; with `skip_failed` the frame
    is left out instead, recorded in the manifest's `skipped_frames`, and the run goes on.
    """
    root = Path(out) if out is not None else world.output_dir()
    count = world.world.frames if frames is None else frames
    if count < 1 or start < 0:
        raise OutputError(f"nothing to render: start {start}, frames {count}")
    output.check_output_dir(root, overwrite)
    began = time.perf_counter()
    renderer = Renderer(world, plugins_dirs, trace)
    writers: list[Writer] = []
    skipped: list[dict[str, object]] = []

    def render(index: int) -> FrameLabels | None:
        try:
            return renderer.frame(index)
        except PluginError as error:
            if not skip_failed:
                raise
            skipped.append({"frame": index, "error": str(error)})
            return None

    try:
        first = render(start)  # a broken world fails here, before anything is written
        if root.exists() and overwrite:
            output.clear_dataset(root)
        root.mkdir(parents=True, exist_ok=True)
        manifest = _manifest(world, renderer, start, count)
        output.write_manifest(root, manifest)
        dataset = DatasetInfo(
            root,
            world.world.name,
            renderer.pipeline.categories,
            *world.camera.resolution,
            count,
            manifest["world"],
            list(world.output.labels),
            renderer.pipeline.keypoints,
        )
        for bound in renderer.pipeline.writers:
            writers.append(bound.component(bound.params, dataset))
        renderer.host.call("sim_run_start", dataset=dataset)
        objects = written = 0
        for index in range(start, start + count):
            frame = first if index == start else render(index)
            if frame is not None:
                frame.files = output.write_frame_files(root, frame, world.output)
                for writer in writers:
                    writer.write(frame)
                renderer._hook("sim_frame_end", index, frame=frame)
                objects += len(frame.objects)
                written += 1
            if on_frame:
                on_frame(index)
        for writer in writers:
            writer.close()
        writers.clear()
        seconds = time.perf_counter() - began
        manifest.update(
            status="complete",
            frames_done=written,
            skipped_frames=skipped,
            seconds=round(seconds, 3),
            finished=_now(),
        )
        output.write_manifest(root, manifest)
        renderer.host.call("sim_run_end", dataset=dataset, frames=written, seconds=seconds)
        return RunSummary(root, written, seconds, objects, len(skipped))
    finally:
        for writer in writers:  # emptied on success: only a run that stopped early aborts
            writer.abort()
        renderer.close()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _manifest(world: World, renderer: Renderer, start: int, count: int) -> dict:
    return {
        "format": "sim-dataset/1",
        "status": "running",
        "world_file": str(world.file) if world.file else None,
        "world": world.model_dump(mode="json"),
        "seed": world.world.seed,
        "start": start,
        "frames": count,
        "frames_done": 0,
        "categories": renderer.pipeline.categories,
        "keypoints": {
            category: {"names": list(schema.names), "skeleton": [list(p) for p in schema.skeleton]}
            for category, schema in renderer.pipeline.keypoints.items()
        },
        "labels": list(world.output.labels),
        "writers": [w.entry.type for w in renderer.pipeline.writers],
        "renderer": renderer.engine.renderer,
        "versions": output.versions(),
        "started": _now(),
    }
