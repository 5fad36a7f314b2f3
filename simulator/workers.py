"""Rendering shards: in this process, or in a pool of worker processes.

Each worker process builds its own Renderer (its own GL context) once, then renders whole
shards. Workers are started with the "spawn" method: a fresh interpreter, no GL state
inherited from the parent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator import output, shards
from simulator.components import DatasetInfo, Writer
from simulator.errors import PluginError
from simulator.labels import FrameLabels
from simulator.shards import Shard
from simulator.world import World
from simulator.worldfile import WorldState, restore_world, world_state

if TYPE_CHECKING:
    from simulator.runner import Renderer


@dataclass(frozen=True)
class Job:
    """What every shard of a run shares."""

    root: Path
    dataset: DatasetInfo
    skip_failed: bool


def write_shard(
    renderer: Renderer,
    job: Job,
    shard: Shard,
    progress: Callable[[int], None] = lambda index: None,
    ready: dict[int, FrameLabels] | None = None,
    on_labels: Callable[[FrameLabels], None] | None = None,
) -> None:
    """Render, label and write one shard from scratch, then mark it done. `ready` holds
    frames this renderer already rendered (with their hooks), to be used instead."""
    shards.begin(job.root, shard)
    writers: list[Writer] = []
    skipped: list[dict[str, Any]] = []
    objects = 0
    # Pass files are encoded on a thread (Pillow and zlib release the GIL) while the next frame
    # renders; at most two frames wait, so memory stays bounded.
    encoding: deque[Future[None]] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="encode") as encoder:
        try:
            for bound in renderer.pipeline.writers:
                part = shards.part(job.root, shard, bound.entry.key)
                writers.append(bound.component(bound.params, replace(job.dataset, part=part)))
            for index in shard.frames:
                try:
                    frame = (ready or {}).pop(index, None) or renderer.frame(index)
                except PluginError as error:
                    if not job.skip_failed:
                        raise
                    skipped.append({"frame": index, "error": str(error)})
                    progress(index)
                    continue
                frame.files, jobs = output.frame_files(frame, renderer.world.output)
                encoding.append(encoder.submit(output.write_files, job.root, jobs))
                for writer in writers:
                    writer.write(frame)
                renderer.frame_end(frame)
                if on_labels:
                    on_labels(frame)
                objects += len(frame.objects)
                while len(encoding) > 2:
                    encoding.popleft().result()
                progress(index)
            while encoding:
                encoding.popleft().result()
            for writer in writers:
                writer.close()
            writers.clear()
            shards.finish(job.root, shard, objects, skipped)
        finally:
            for writer in writers:  # emptied on success: only a shard that failed aborts
                writer.abort()
            for pending in encoding:
                pending.cancel()


# ---------------------------------------------------------------------------- worker pool

_worker: dict[str, Any] = {}

REPORT_SECONDS = 0.1  # how often a worker tells the parent which frames it has finished


class FrameReports:
    """A worker's finished frames, sent to the parent in batches: a queue message wakes both
    processes, so one goes out per REPORT_SECONDS rather than one per frame."""

    def __init__(self, frames_done: Any) -> None:
        self.frames_done = frames_done
        self.pending: list[int] = []
        self.sent = time.monotonic()

    def __call__(self, index: int) -> None:
        self.pending.append(index)
        if time.monotonic() - self.sent >= REPORT_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.frames_done.put(self.pending)
            self.pending = []
        self.sent = time.monotonic()


def _start_worker(
    state: WorldState,
    plugins_dirs: list[Path],
    trace: bool | None,
    job: Job,
    frames_done: Any,
) -> None:
    from simulator.runner import Renderer

    renderer = Renderer(restore_world(state), plugins_dirs, trace)
    _worker.update(renderer=renderer, job=job, reports=FrameReports(frames_done))


def _render(shard: Shard) -> int:
    reports = _worker["reports"]
    try:
        write_shard(_worker["renderer"], _worker["job"], shard, reports)
    finally:
        reports.flush()
    return shard.index


def render_in_pool(
    world: World,
    plugins_dirs: Iterable[Path],
    trace: bool | None,
    job: Job,
    pending: list[Shard],
    workers: int,
    on_frame: Callable[[int], None],
    on_shard: Callable[[Shard], None],
    local: Renderer | None = None,
    ready: dict[int, FrameLabels] | None = None,
) -> None:
    """Render `pending` shards with `workers` renderers, reporting frames and shards done.

    With a `local` renderer (this process's own, which has already rendered the first frame:
    `ready`) it is one of them: it renders shards here, starting with the first, while
    `workers - 1` processes render the rest, so one process fewer is spawned (its start-up and
    its memory saved). Shards go to whichever renderer is free next."""
    context = multiprocessing.get_context("spawn")
    frames_done = context.Queue()  # handed to each worker as it is spawned
    state = world_state(world)
    todo = deque(pending)
    spawned = workers - 1 if local is not None else workers
    mine = todo.popleft() if local is not None else None  # the first frame's shard
    with context.Pool(
        spawned, _start_worker, (state, list(plugins_dirs), trace, job, frames_done)
    ) as pool:
        running: dict[Shard, AsyncResult[int]] = {}

        def collect(wait: float = 0.0) -> None:
            """Report the workers' frames and shards, and give each idle worker a shard."""
            with contextlib.suppress(queue.Empty):
                batch = frames_done.get(timeout=wait) if wait else frames_done.get_nowait()
                while True:
                    for index in batch:
                        on_frame(index)
                    batch = frames_done.get_nowait()
            for shard, result in list(running.items()):
                if result.ready():
                    del running[shard]
                    result.get()  # re-raises a worker's error here
                    on_shard(shard)
            while todo and len(running) < spawned:
                shard = todo.popleft()
                running[shard] = pool.apply_async(_render, (shard,))

        def progress(index: int) -> None:
            on_frame(index)
            collect()

        collect()
        while local is not None and mine is not None:
            write_shard(local, job, mine, progress, ready)
            on_shard(mine)
            mine = todo.popleft() if todo else None
        while running or todo:
            collect(wait=0.1)
        collect()  # the last frames reported
