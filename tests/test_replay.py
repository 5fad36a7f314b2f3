"""`sim replay`: any frame of a finished run, rendered again from the manifest alone."""

import json

from typer.testing import CliRunner

from simulator.cli import app
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

runner = CliRunner()


def test_replay_reproduces_a_frame_byte_for_byte(write_world, tmp_path):
    root = run(load_world(write_world()), RunOptions(tmp_path / "out")).root
    result = runner.invoke(app, ["replay", str(root), "--frame", "2"])
    assert result.exit_code == 0, result.output
    again = root / "replay" / "000002"
    for name in (
        "images/000002.jpg",
        "instances/000002.png",
        "semantic/000002.png",
        "depth/000002.png",
    ):
        assert (again / name).read_bytes() == (root / name).read_bytes(), name
    original = (root / "frames.jsonl").read_text().splitlines()[2]
    assert (again / "frames.jsonl").read_text().strip() == original
    coco = json.loads((root / "annotations/instances.json").read_text())
    replayed = json.loads((again / "annotations/instances.json").read_text())
    strip = [
        {k: v for k, v in a.items() if k != "id"} for a in coco["annotations"] if a["image_id"] == 3
    ]
    assert [{k: v for k, v in a.items() if k != "id"} for a in replayed["annotations"]] == strip


def test_replay_of_a_frame_outside_the_dataset_is_refused(write_world, tmp_path):
    root = run(load_world(write_world()), RunOptions(tmp_path / "out", frames=2)).root
    result = runner.invoke(app, ["replay", str(root), "--frame", "5"])
    assert result.exit_code == 2
    assert "frame 5 is not in" in result.output and "(frames 0 to 1)" in result.output
    missing = runner.invoke(app, ["replay", str(tmp_path), "--frame", "0"])
    assert missing.exit_code == 2 and "holds no sim dataset" in missing.output
