"""`sim run`: render a world's frames and write the dataset.

Everything a user can get wrong is checked before the output directory is touched: the world
file, plugin parameters, the GL context, and the first frame itself. Then the frames are
rendered shard by shard (simulator.run.shards) by the backend the options choose
(simulator.run.backends: here, in worker processes or on Ray), and the writers merge their
shard parts into the final files. What a run is asked to do is one RunOptions object
(simulator.run.options), built by `sim run` from its flags or by a script.
"""

from __future__ import annotations

import errno
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from simulator.capture.frame import Renderer
from simulator.dataset import layout
from simulator.dataset.lock import RunLock
from simulator.dataset.read import is_dataset, open_dataset
from simulator.errors import Interrupted, OutputError, PluginError, SimError
from simulator.labels.records import FrameLabels
from simulator.plugin.components import DatasetInfo
from simulator.run import shards
from simulator.run.backend import Backend, RendererSpec, Work
from simulator.run.backends import backend_for
from simulator.run.options import RunCallbacks, RunOptions
from simulator.run.shards import Job, Shard
from simulator.world.schema import MAX_FRAMES, World

# A script needs only this module: run(world, RunOptions(out, workers=2)).
__all__ = ["RunCallbacks", "RunOptions", "RunSummary", "run"]


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


def run(world: World, options: RunOptions, callbacks: RunCallbacks | None = None) -> RunSummary:
    """Render frames [start, start + frames) of `world` into a dataset at `options.out`.

    Frames are rendered in shards (see simulator.run.shards) by the backend the options name
    (simulator.run.backends); the files are the same whatever the backend and worker count. A
    plugin error stops the run, leaving nothing of that frame; with `skip_failed` the frame is
    left out instead, recorded in the manifest's `skipped_frames`. `resume` continues a run
    that stopped, redoing only unfinished shards. The machine's own trouble (a read-only or
    full disk, a parent that is a file, a name too long) is one OutputError line.
    """
    try:
        return _run(world, options, callbacks)
    except OSError as error:
        if error.errno not in FILESYSTEM_TROUBLE:
            raise
        root = _root(world, options)
        try:
            started = is_dataset(root)
        except OSError:  # the path itself is the trouble (a name too long, a parent a file)
            started = False
        where = error.filename or root
        if not started:
            raise OutputError(
                f"cannot write {where}: {error.strerror}; no dataset was started"
            ) from None
        failed = OutputError(f"cannot write {where}: {error.strerror}")
        raise failed.stopped_run(root) from None


def _root(world: World, options: RunOptions) -> Path:
    """Where the dataset goes: --out, else the world's `[output] dir` or out/<name>."""
    return Path(options.out) if options.out is not None else world.output_dir()


def _run(world: World, options: RunOptions, callbacks: RunCallbacks | None) -> RunSummary:
    callbacks = callbacks or RunCallbacks()
    root = _root(world, options)
    start = options.start
    count = world.world.frames if options.frames is None else options.frames
    if count < 1 or start < 0:
        raise OutputError(f"nothing to render: start {start}, frames {count}")
    if count > MAX_FRAMES:
        raise OutputError(
            f"{count:,} frames is more than one run plans ({MAX_FRAMES:,}); split the work "
            "into runs with --start and --frames"
        )
    backend = backend_for(options, RendererSpec.of(world, options.plugins_dirs, options.trace))
    if options.plugins and (options.workers > 1 or options.backend != "local"):
        raise PluginError(
            f"in-process plugin objects cannot reach worker processes (workers "
            f"{options.workers}, backend {options.backend!r}): render with one local worker, "
            "or put the plugins in a plugin file or an installed package"
        )
    held: RunLock | None = None
    manifest: dict[str, Any] | None = None
    if options.resume:
        held, manifest = _resumable(root, world, start, count)
        if manifest["status"] == "complete":
            shards.clear(root)  # scratch state of a run killed right after it completed
            held.release()
            return RunSummary(
                root,
                manifest["frames_done"],
                0.0,
                0,
                len(manifest["skipped_frames"]),
                already_complete=True,
            )
    else:
        layout.check_output_dir(root, options.overwrite)
    began = time.perf_counter()
    renderer = Renderer(world, list(options.plugins_dirs), options.trace, plugins=options.plugins)
    try:
        ready: dict[int, FrameLabels] = {}
        if manifest is None:
            # Fails before anything is written. Rendered here, the frame is reused by its
            # shard if this process renders it; otherwise it is only a check, so its hooks
            # wait for the renderer that renders it.
            first = _first_frame(renderer, start, options.skip_failed, backend.renders_here)
            if first is not None and backend.renders_here:
                ready[start] = first
            root.mkdir(parents=True, exist_ok=True)
            held = RunLock(root)
            layout.check_output_dir(root, options.overwrite, locked=True)  # none came meanwhile
            if options.overwrite:
                layout.clear_dataset(root)
            manifest = _manifest(world, renderer, start, count)
            manifest["shard_size"] = options.shard_size
            layout.write_manifest(root, manifest)
        job = Job(root, _dataset(root, world, renderer, count, manifest), options.skip_failed)
        # A resumed run keeps the shards it was cut into: its done markers name those.
        size = int(manifest.get("shard_size", options.shard_size))
        plan = shards.plan(start, count, size, world.clip.frames if world.clip else None)
        tally = Tally(root, manifest, plan, callbacks)
        tally.begin(backend)
        renderer.host.call("sim_run_start", dataset=job.dataset)
        if tally.pending:
            work = Work(
                job,
                tally.pending,
                renderer,
                ready,
                callbacks.on_frame,
                tally.shard_done,
                callbacks.on_labels,
            )
            manifest.update(backend.render(work))  # where the shards went, if it says
        return _finish(renderer, job, plan, manifest, began)
    except SimError as error:
        if manifest is not None and held is not None:  # a dataset was started: resumable
            error.stopped_run(root)
        raise
    except KeyboardInterrupt:
        if manifest is None or held is None:
            raise
        manifest["status"] = "interrupted"
        layout.write_manifest(root, manifest)
        raise Interrupted(root, int(manifest.get("frames_done", 0)), count) from None
    finally:
        renderer.close()
        if held is not None:
            held.release()


# What the machine can get wrong when a run writes: one line each, not a traceback.
FILESYSTEM_TROUBLE = {
    errno.EACCES,  # permission denied
    errno.EPERM,
    errno.EROFS,  # read-only filesystem
    errno.ENOSPC,  # disk full
    errno.EDQUOT,  # over quota
    errno.ENOTDIR,  # a parent is a file
    errno.EEXIST,  # a file where a folder goes
    errno.EISDIR,
    errno.ENAMETOOLONG,
}


class Tally:
    """The shards done so far: reported, and counted in the manifest as each one finishes."""

    def __init__(
        self, root: Path, manifest: dict[str, Any], plan: list[Shard], callbacks: RunCallbacks
    ) -> None:
        self.root, self.manifest, self.plan, self.callbacks = root, manifest, plan, callbacks
        self.pending = [shard for shard in plan if not shards.is_done(root, shard)]
        self.finished = [shard for shard in plan if shard not in self.pending]
        self.frames_done = sum(shards.result(root, s)["frames"] for s in self.finished)
        self.active = 1

    def begin(self, backend: Backend) -> None:
        """Report the shards (and their frames) a resumed run found done."""
        self.active = backend.active(len(self.pending))
        self.callbacks.on_shard(len(self.finished), len(self.plan), self.active)
        for shard in self.finished:
            for index in shard.frames:
                self.callbacks.on_frame(index)

    def shard_done(self, shard: Shard) -> None:
        self.finished.append(shard)
        self.frames_done += shards.result(self.root, shard)["frames"]
        self.manifest["frames_done"] = self.frames_done
        layout.write_manifest(self.root, self.manifest)
        self.callbacks.on_shard(len(self.finished), len(self.plan), self.active)


def _finish(
    renderer: Renderer, job: Job, plan: list[Shard], manifest: dict[str, Any], began: float
) -> RunSummary:
    """Merge the writers' shard parts into the final files and mark the dataset complete."""
    root = job.root
    for bound in renderer.pipeline.writers:
        parts = [shards.part(root, shard, bound.entry.key) for shard in plan]
        bound.component.merge(bound.params, job.dataset, parts)
    results = [shards.result(root, shard) for shard in plan]
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
    # Every instant stays resumable: killed before this write, --resume finds every shard done
    # and merges again; after it, the dataset is complete and --resume only removes the scratch
    # state, which goes last.
    layout.write_manifest(root, manifest)
    shards.clear(root)
    renderer.host.call("sim_run_end", dataset=job.dataset, frames=written, seconds=seconds)
    objects = sum(r["objects"] for r in results)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return RunSummary(root, written, seconds, objects, len(skipped), size)


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


def _resumable(root: Path, world: World, start: int, count: int) -> tuple[RunLock, dict[str, Any]]:
    """The lock and manifest of an interrupted run that this world and frame range continue."""
    if not is_dataset(root):
        raise OutputError(f"nothing to resume: {root} holds no sim dataset")
    held = RunLock(root)
    try:
        layout.check_no_links(root)
        manifest = open_dataset(root).manifest
        same = (
            manifest.get("world") == world.model_dump(mode="json")
            and manifest.get("start") == start
            and manifest.get("frames") == count
        )
        if not same:
            raise OutputError(
                f"{root} was rendered from another world, seed or frame range; --resume "
                "continues only the run that made it (or pass --overwrite to start over)"
            )
    except BaseException:
        held.release()
        raise
    manifest.setdefault("skipped_frames", [])
    return held, manifest


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _manifest(world: World, renderer: Renderer, start: int, count: int) -> dict:
    return {
        "format": layout.FORMAT + "1",
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
        "assets": renderer.pipeline.assets,
        "labels": list(world.output.labels),
        "writers": [w.entry.type for w in renderer.pipeline.writers],
        "renderer": renderer.engine.renderer,
        "versions": layout.versions(),
        "started": _now(),
    }
