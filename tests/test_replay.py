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


MARKER_PLUGIN = """
from pathlib import Path
Path(__file__).with_name("ran").write_text("plugin code ran")
"""


def test_replay_runs_no_plugin_file_a_manifest_names_unless_trusted(write_world, tmp_path):
    """A manifest is data: a tampered one naming a plugin file must not run code silently."""
    root = run(load_world(write_world()), RunOptions(tmp_path / "out", frames=1)).root
    (tmp_path / "evil.py").write_text(MARKER_PLUGIN)
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["world"]["plugins"]["paths"] = [str(tmp_path / "evil.py")]
    (root / "manifest.json").write_text(json.dumps(manifest))
    refused = runner.invoke(app, ["replay", str(root), "--frame", "0"])
    assert refused.exit_code == 2
    assert "loads plugin files" in refused.output and "--trust-plugins" in refused.output
    assert not (tmp_path / "ran").exists() and not (root / "replay").exists()
    trusted = runner.invoke(app, ["replay", str(root), "--frame", "0", "--trust-plugins"])
    assert trusted.exit_code == 0, trusted.output
    assert (tmp_path / "ran").read_text() == "plugin code ran"


def test_replay_replaces_an_earlier_replay_only_with_overwrite(write_world, tmp_path):
    root = run(load_world(write_world()), RunOptions(tmp_path / "out", frames=1)).root
    assert runner.invoke(app, ["replay", str(root), "--frame", "0"]).exit_code == 0
    again = runner.invoke(app, ["replay", str(root), "--frame", "0"])
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert runner.invoke(app, ["replay", str(root), "--frame", "0", "--overwrite"]).exit_code == 0
