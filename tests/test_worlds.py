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


def test_the_parts_world_labels_each_part_at_its_real_size(tmp_path):
    """worlds/parts.toml: every format's part, labeled with the size trimesh reads from its
    file (millimetres, or metres for glTF), and every asset listed with its license."""
    import numpy as np
    import trimesh

    root = Path(__file__).parent.parent / "worlds"
    library = json.loads((root / "parts" / "models" / "models.json").read_text())
    expected = {}
    for name, info in library["models"].items():
        mesh = trimesh.load(root / "parts" / "models" / name, force="mesh")
        scale = 1.0 if info.get("unit") == "m" else 0.001
        expected[info["category"]] = np.sort(mesh.extents * scale)
    summary = run(load_world(root / "parts.toml"), RunOptions(tmp_path / "out", frames=2))
    records = [
        json.loads(line) for line in (summary.root / "frames.jsonl").read_text().splitlines()
    ]
    seen = set()
    for record in records:
        for obj in record["objects"]:
            size = np.sort(obj["box3d"]["size"])
            assert np.allclose(size, expected[obj["category"]], atol=1e-5), obj["category"]
            seen.add(obj["category"])
    assert len(seen) >= 4
    manifest = json.loads((summary.root / "manifest.json").read_text())
    listed = {
        Path(a["path"]).name: a["license"] for a in manifest["assets"] if a["spawner"] == "parts"
    }
    assert listed == {name: "CC0-1.0" for name in library["models"]}


@pytest.mark.parametrize("name", sorted(p.stem for p in WORLDS))
def test_no_bundled_world_fails_to_build_a_scene_over_2000_frames(name):
    """Every bundled world builds 2,000 scenes: room for every scattered object, every sky,
    studio and material drawn; every spawner and randomizer runs but settle and throw
    (physics moves objects; it cannot fail, and simulating 2,000 frames' worth is slow)."""
    import re

    from simulator.capture.pipeline import Pipeline, host_for
    from simulator.world.load import parse_world

    path = Path(__file__).parent.parent / "worlds" / f"{name}.toml"
    physics = r'\[\[randomizers\]\]\ntype = "(settle|throw)".*?\n\n'
    text = re.sub(physics, "", path.read_text(), flags=re.S)
    assert 'type = "settle"' not in text and 'type = "throw"' not in text
    world = parse_world(text, path.resolve())
    pipeline = Pipeline(world, host_for(world))
    for frame in range(2000):
        pipeline.build_scene(frame)


def test_a_bundled_world_runs_by_name_from_any_directory(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from simulator.cli import app

    monkeypatch.chdir(tmp_path)  # no worlds/ here
    runner = CliRunner()
    listed = runner.invoke(app, ["worlds"])
    assert listed.exit_code == 0
    assert {line.split()[0] for line in listed.output.splitlines() if not line.startswith(" ")} == {
        p.stem for p in WORLDS
    }
    result = runner.invoke(app, ["run", "shapes", "--frames", "2", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert len((tmp_path / "out" / "frames.jsonl").read_text().splitlines()) == 2
    wrong = runner.invoke(app, ["validate", "shapez"])
    assert wrong.exit_code == 2 and "did you mean 'shapes'?" in wrong.output


def test_the_pipes_clip_world_drops_its_pipes_onto_the_table_as_the_sun_sinks():
    """worlds/pipes_clip.toml: over each clip the thrown objects come down onto the table
    (none below it), the sun's elevation falls every frame (its keys drawn once per clip) and
    its azimuth holds."""
    import numpy as np

    from simulator.capture.pipeline import Pipeline, host_for

    world = load_world(Path(__file__).parent.parent / "worlds" / "pipes_clip.toml")
    assert world.clip is not None
    frames = world.clip.frames
    pipeline = Pipeline(world, host_for(world))
    for clip in range(2):
        scenes = [pipeline.build_scene(clip * frames + k) for k in range(frames)]
        thrown = [e for e in scenes[0].entities if e.source != "table"]
        for scene in scenes:
            for entity in scene.entities:
                if entity.source != "table":
                    assert entity.position[2] > 0.0, "nothing falls through the table"
        last = {e.instance_id: e for e in scenes[-1].entities}
        assert all(last[e.instance_id].position[2] < e.position[2] for e in thrown)
        assert all(last[e.instance_id].position[2] < 0.6 for e in thrown), "they land"
        suns = np.array([s.lights[0].direction for s in scenes])
        elevations = np.degrees(np.arcsin(-suns[:, 2]))
        assert np.all(np.diff(elevations) < 0) and elevations[0] - elevations[-1] >= 5
        azimuths = np.arctan2(suns[:, 1], suns[:, 0])
        assert np.allclose(azimuths, azimuths[0])
