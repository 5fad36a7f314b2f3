"""The in-process backend: this process's Renderer renders every shard, one after another.

The one backend that shows each frame's labels as it goes (`sim run --preview`), and the
one a run of a single shard uses whatever it was asked for: spawning a worker for one shard
would only add its start-up.
"""

from __future__ import annotations

from typing import Any

from simulator.run.backend import Backend, Work
from simulator.run.shards import write_shard


class InProcess(Backend):
    """Shards rendered here, in frame order, by `work.local`."""

    def __init__(self) -> None:
        super().__init__(workers=1)

    def render(self, work: Work) -> dict[str, Any]:
        for shard in work.pending:
            write_shard(work.local, work.job, shard, work.on_frame, work.ready, work.on_labels)
            work.on_shard(shard)
        return {}
