"""What every writer must give: the same bytes with one worker, two workers in small shards,
and a run stopped after its first shard and resumed."""

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from datasets import dataset_files

from simulator.run import backends
from simulator.run.backend import Backend, Work
from simulator.run.in_process import InProcess
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world


class StopsAfterOneShard(Backend):
    """Renders the first pending shard, then stops as a killed run would."""

    def __init__(self) -> None:
        super().__init__(workers=1)

    def render(self, work: Work) -> dict[str, Any]:
        InProcess().render(replace(work, pending=work.pending[:1]))
        raise KeyboardInterrupt


def assert_same_bytes_across_workers_and_resume(
    world: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, bytes]:
    """The dataset of `world` (every file but the manifest), checked to be byte-identical
    across --workers 1, --workers 2 with shards of 2 frames, and --resume."""
    one = dataset_files(run(load_world(world), RunOptions(tmp_path / "one")).root)
    pooled = run(load_world(world), RunOptions(tmp_path / "two", workers=2, shard_size=2)).root
    assert dataset_files(pooled) == one
    monkeypatch.setitem(backends.BACKENDS, "stops", lambda options, spec: StopsAfterOneShard())
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        run(load_world(world), RunOptions(out, shard_size=2, backend="stops"))
    run(load_world(world), RunOptions(out, shard_size=2, resume=True))
    assert dataset_files(out) == one
    return one
