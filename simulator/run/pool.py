"""The process-pool backend: shards rendered by spawned worker processes and by this one.

Each worker process builds its own Renderer (its own GL context) once, from a RendererSpec,
then renders whole shards. Workers are started with the "spawn" method: a fresh interpreter,
no GL state inherited from the parent.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import signal
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from simulator.errors import OutputError
from simulator.run.backend import Backend, RendererSpec, Work
from simulator.run.in_process import InProcess
from simulator.run.shards import Job, Shard, write_shard

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


@contextlib.contextmanager
def _ignoring_ctrl_c() -> Iterator[None]:
    """Ctrl-C reaches the whole process group; the parent stops the run and the pool, so the
    workers it starts here ignore SIGINT (a disposition they inherit) rather than die with
    tracebacks of their own."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals are not ours to change
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_worker(spec: RendererSpec, job: Job, frames_done: Any) -> None:
    _worker.update(renderer=spec.build(), job=job, reports=FrameReports(frames_done))


def _result(future: Future[int], shard: Shard) -> int:
    try:
        return future.result()
    except BrokenProcessPool:
        raise OutputError(
            f"a worker process died (killed, or out of memory?) while rendering frames "
            f"{shard.start} to {shard.stop - 1}; the shards done so far are kept: run again "
            "with --resume"
        ) from None


def _render(shard: Shard) -> int:
    reports = _worker["reports"]
    try:
        write_shard(_worker["renderer"], _worker["job"], shard, reports)
    finally:
        reports.flush()
    return shard.index


class ProcessPool(Backend):
    """`workers` renderers: this process's own and `workers - 1` spawned processes.

    This process has already rendered the first frame (`work.ready`, to check the world before
    writing anything), so it renders that frame's shard, then whichever shard is next, while
    the spawned processes render the rest: one process fewer is spawned (its start-up and its
    memory saved). Shards go to whichever renderer is free next. One pending shard is
    rendered here alone."""

    def __init__(self, spec: RendererSpec, workers: int) -> None:
        super().__init__(workers)
        self.spec = spec

    def render(self, work: Work) -> dict[str, Any]:
        if len(work.pending) <= 1 or self.workers <= 1:
            return InProcess().render(work)
        context = multiprocessing.get_context("spawn")
        frames_done = context.Queue()  # handed to each worker as it is spawned
        todo = deque(work.pending)
        spawned = min(self.workers, len(todo)) - 1
        mine: Shard | None = todo.popleft()  # the first frame's shard
        # concurrent.futures rather than multiprocessing.Pool: a worker that dies (kill -9,
        # out of memory) breaks the executor and fails its futures, where Pool would wait for
        # the lost shard forever.
        pool = ProcessPoolExecutor(
            spawned, context, initializer=_start_worker, initargs=(self.spec, work.job, frames_done)
        )
        running: dict[Shard, Future[int]] = {}

        def collect(wait: float = 0.0) -> None:
            """Report the workers' frames and shards, and give each idle worker a shard."""
            with contextlib.suppress(queue.Empty):
                batch = frames_done.get(timeout=wait) if wait else frames_done.get_nowait()
                while True:
                    for index in batch:
                        work.on_frame(index)
                    batch = frames_done.get_nowait()
            for shard, result in list(running.items()):
                if result.done():
                    del running[shard]
                    _result(result, shard)  # re-raises a worker's error here
                    work.on_shard(shard)
            while todo and len(running) < spawned:
                shard = todo.popleft()
                with _ignoring_ctrl_c():  # workers start as shards are handed out
                    running[shard] = pool.submit(_render, shard)

        def progress(index: int) -> None:
            work.on_frame(index)
            collect()

        before = set(multiprocessing.active_children())
        try:
            collect()
            while mine is not None:
                write_shard(work.local, work.job, mine, progress, work.ready)
                work.on_shard(mine)
                mine = todo.popleft() if todo else None
            while running or todo:
                collect(wait=0.1)
            collect()  # the last frames reported
        except BaseException:
            # Stopped (an error, Ctrl-C): the workers' shards are unfinished and will be
            # redone on --resume, so they are ended now rather than awaited, starting ones too.
            for process in set(multiprocessing.active_children()) - before:
                process.terminate()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return {}
