"""Every bundled world runs as it is."""

import json
from pathlib import Path

import pytest

from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

WORLDS = sorted((Path(__file__).parent.parent / "worlds").glob("*.toml"))


def test_there_are_bundled_worlds():
    assert {p.stem for p in WORLDS} >= {"tabletop", "shapes"}


@pytest.mark.parametrize("path", WORLDS, ids=lambda p: p.stem)
def test_bundled_world_renders_labeled_frames(path, tmp_path):
    world = load_world(path)
    summary = run(world, RunOptions(tmp_path / "out", frames=3))
    records = [
        json.loads(line) for line in (summary.root / "frames.jsonl").read_text().splitlines()
    ]
    assert len(records) == 3
    assert sum(len(r["objects"]) for r in records) > 0
