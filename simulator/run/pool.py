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
from multiprocessing.pool import AsyncResult
from pathlib import Path
from typing import Any

from simulator.capture.frame import Renderer
from simulator.labels.records import FrameLabels
from simulator.run.shards import Job, Shard, write_shard
from simulator.world.load import WorldState, restore_world, world_state
from simulator.world.schema import World

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
