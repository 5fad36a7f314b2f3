"""Backends: where a run's shards are rendered, behind one interface.

The runner does everything else a run needs (checking the world, the manifest, resume,
merging the writers' parts), then hands the shards still to do to a `Backend`, which renders
each whole with `write_shard` and reports every frame and shard done. The backends are
`InProcess` (simulator.run.in_process: this process's Renderer), `ProcessPool`
(simulator.run.pool: spawned worker processes beside this one) and `Ray`
(simulator.run.ray_backend: actors on a cluster); simulator.run.backends chooses one by name.
Every backend writes the same bytes, since a shard's files depend only on the shard.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.capture.frame import Renderer
from simulator.labels.records import FrameLabels
from simulator.run.shards import Job, Shard
from simulator.world.load import WorldState, restore_world, world_state
from simulator.world.schema import World


@dataclass(frozen=True)
class RendererSpec:
    """What a renderer in another process needs to build itself: plain, picklable data."""

    world_state: WorldState
    plugins_dirs: tuple[Path, ...] = ()
    trace: bool | None = None

    @classmethod
    def of(
        cls, world: World, plugins_dirs: Iterable[Path] = (), trace: bool | None = None
    ) -> RendererSpec:
        return cls(world_state(world), tuple(plugins_dirs), trace)

    def build(self) -> Renderer:
        """The renderer (and its GL context), built in the process that calls this."""
        return Renderer(restore_world(self.world_state), list(self.plugins_dirs), self.trace)


@dataclass
class Work:
    """The shards a backend is handed, and what it reports to."""

    job: Job
    pending: list[Shard]  # in frame order
    local: Renderer  # this process's renderer, for backends that render here too
    ready: dict[int, FrameLabels]  # frames `local` has rendered already (with their hooks)
    on_frame: Callable[[int], None]  # a frame is done (written, or skipped)
    on_shard: Callable[[Shard], None]  # a shard is done: its marker is written
    on_labels: Callable[[FrameLabels], None] | None = None  # labels of frames rendered here


class Backend(ABC):
    """Renders a run's pending shards: one method, `render`."""

    # Whether this process's renderer renders the first frame's shard: then the frame it
    # renders to check the world (before anything is written) runs its hooks and is reused.
    renders_here = True

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers  # renderers at work at once, at most

    def active(self, pending: int) -> int:
        """How many renderers work on `pending` shards at once (shown in the progress bar)."""
        return 1 if pending <= 1 else min(self.workers, pending)

    @abstractmethod
    def render(self, work: Work) -> dict[str, Any]:
        """Render every shard in `work.pending`, calling `work.on_frame` for each frame and
        `work.on_shard` for each shard done; a renderer's error is raised here, as it was
        raised. Returns what the manifest records of where the shards went (may be empty)."""
