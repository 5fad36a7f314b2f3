"""`sim run`: render a world's frames and write the dataset.

Everything a user can get wrong is checked before the output directory is touched: the world
file, plugin parameters, the GL context, and the first frame itself. Then the frames are
rendered shard by shard (simulator.run.shards), here, in worker processes (simulator.run.pool)
or on Ray (simulator.run.ray_backend), and the writers merge their shard parts into the final
files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.capture.frame import Renderer
from simulator.dataset import layout
from simulator.errors import OutputError, PluginError
from simulator.labels.records import FrameLabels
from simulator.plugin.components import DatasetInfo
from simulator.run import shards
from simulator.run.pool import render_in_pool
from simulator.run.ray_backend import render_on_ray
from simulator.run.shards import Job, Shard, write_shard
from simulator.world.schema import World


@dataclass
class RunSummary:
    root: Path
    frames: int
    seconds: float
    objects: int
    skipped: int = 0
    bytes: int = 0  # size of the dataset on disk
    already_complete: bool = False  # --resume found nothing left to do

    @property
    def frames_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


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
    workers: int = 1,
    resume: bool = False,
    shard_size: int = shards.SHARD_SIZE,
    backend: str = "local",
    address: str = "auto",
    on_shard: Callable[[int, int, int], None] | None = None,
    on_labels: Callable[[FrameLabels], None] | None = None,
    plugins: Sequence[object] = (),
) -> RunSummary:
    """Render frames [start, start + frames) of `world` into a dataset at `out`.

    Frames are rendered in shards (see simulator.run.shards) by `workers` processes; the files
    are the same whatever the worker count. A plugin error stops the run, leaving nothing of
    that frame; with `skip_failed` the frame is left out instead, recorded in the manifest's
    `skipped_frames`. `resume` continues a run that stopped, redoing only unfinished shards.
    """
    root = Path(out) if out is not None else world.output_dir()
    count = world.world.frames if frames is None else frames
    if count < 1 or start < 0:
        raise OutputError(f"nothing to render: start {start}, frames {count}")
    if plugins and (workers > 1 or backend != "local"):
        raise PluginError(
            f"in-process plugin objects cannot reach worker processes (workers {workers}, "
            f"backend {backend!r}): render with one local worker, or put the plugins in a "
            "plugin file or an installed package"
        )
    plugins_dirs = list(plugins_dirs)
    progress = on_frame or (lambda index: None)
    manifest = _resumable(root, world, start, count) if resume else None
    if manifest is not None and manifest["status"] == "complete":
        return RunSummary(
            root,
            manifest["frames_done"],
            0.0,
            0,
            len(manifest["skipped_frames"]),
            already_complete=True,
        )
    if manifest is None:
        layout.check_output_dir(root, overwrite)
    began = time.perf_counter()
    renderer = Renderer(world, plugins_dirs, trace, plugins=plugins)
    plan = shards.plan(start, count, shard_size)
    in_process = backend == "local" and (workers <= 1 or len(plan) <= 1)
    first: FrameLabels | None = None
    try:
        if manifest is None:
            # Fails before anything is written. Rendered here, the frame is reused by its
            # shard, which this process renders; on Ray it is only a check, so its hooks wait
            # for the node that renders it.
            first = _first_frame(renderer, start, skip_failed, hooks=backend == "local")
            if root.exists() and overwrite:
                layout.clear_dataset(root)
            root.mkdir(parents=True, exist_ok=True)
            manifest = _manifest(world, renderer, start, count)
            layout.write_manifest(root, manifest)
        job = Job(root, _dataset(root, world, renderer, count, manifest), skip_failed)
        pending = [shard for shard in plan if not shards.is_done(root, shard)]
        active = 1 if in_process or len(pending) <= 1 else min(workers, len(pending))
        if on_shard:
            on_shard(len(plan) - len(pending), len(plan), active)
        for shard in plan:
            if shard not in pending:
                for index in shard.frames:
                    progress(index)
        renderer.host.call("sim_run_start", dataset=job.dataset)

        finished = [s for s in plan if s not in pending]
        frames_done = sum(shards.result(root, s)["frames"] for s in finished)

        def shard_done(shard: Shard) -> None:
            nonlocal frames_done
            finished.append(shard)
            frames_done += shards.result(root, shard)["frames"]
            manifest["frames_done"] = frames_done
            layout.write_manifest(root, manifest)
            if on_shard:
                on_shard(len(finished), len(plan), active)

        ready = {start: first} if first is not None and backend == "local" else {}
        if backend == "ray" and pending:
            nodes = render_on_ray(
                world, plugins_dirs, trace, job, pending, address, progress, shard_done
            )
            manifest["nodes"] = nodes  # which node rendered which shards
        elif in_process or len(pending) <= 1:
            for shard in pending:
                write_shard(renderer, job, shard, progress, ready, on_labels)
                shard_done(shard)
        else:
            render_in_pool(
                world,
                plugins_dirs,
                trace,
                job,
                pending,
                min(workers, len(pending)),
                progress,
                shard_done,
                local=renderer,
                ready=ready,
            )
        for bound in renderer.pipeline.writers:
            parts = [shards.part(root, shard, bound.entry.key) for shard in plan]
            bound.component.merge(bound.params, job.dataset, parts)
        results = [shards.result(root, shard) for shard in plan]
        shards.clear(root)
        seconds = time.perf_counter() - began
        written = sum(r["frames"] for r in results)
        skipped = [entry for r in results for entry in r["skipped"]]
        manifest.update(
            status="complete",
            frames_done=written,
            skipped_frames=skipped,
            seconds=round(seconds, 3),
            finished=_now(),
        )
        layout.write_manifest(root, manifest)
        renderer.host.call("sim_run_end", dataset=job.dataset, frames=written, seconds=seconds)
        objects = sum(r["objects"] for r in results)
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        return RunSummary(root, written, seconds, objects, len(skipped), size)
    finally:
        renderer.close()


def _first_frame(
    renderer: Renderer, start: int, skip_failed: bool, hooks: bool
) -> FrameLabels | None:
    """Render the first frame before writing anything: a broken world or plugin fails here
    with nothing on disk (a plugin error is tolerated with skip_failed)."""
    try:
        return renderer.frame(start, hooks)
    except PluginError:
        if not skip_failed:
            raise
        return None


def _dataset(
    root: Path, world: World, renderer: Renderer, count: int, manifest: dict[str, Any]
) -> DatasetInfo:
    return DatasetInfo(
        root,
        world.world.name,
        renderer.pipeline.categories,
        *world.camera.resolution,
        count,
        manifest["world"],
        list(world.output.labels),
        renderer.pipeline.keypoints,
    )


def _resumable(root: Path, world: World, start: int, count: int) -> dict[str, Any]:
    """The manifest of an interrupted run that this world and frame range continue."""
    if not (root / layout.MANIFEST).is_file():
        raise OutputError(f"nothing to resume: {root} holds no sim dataset")
    manifest = layout.read_manifest(root)
    same = (
        manifest.get("world") == world.model_dump(mode="json")
        and manifest.get("start") == start
        and manifest.get("frames") == count
    )
    if not same:
        raise OutputError(
            f"{root} was rendered from another world, seed or frame range; --resume continues "
            "only the run that made it (or pass --overwrite to start over)"
        )
    manifest.setdefault("skipped_frames", [])
    return manifest


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
        "skipped_frames": [],
        "categories": renderer.pipeline.categories,
        "keypoints": {
            category: {"names": list(schema.names), "skeleton": [list(p) for p in schema.skeleton]}
            for category, schema in renderer.pipeline.keypoints.items()
        },
        "labels": list(world.output.labels),
        "writers": [w.entry.type for w in renderer.pipeline.writers],
        "renderer": renderer.engine.renderer,
        "versions": layout.versions(),
        "started": _now(),
    }
