"""Lifecycle hooks, labelers, skipping failed frames, and tracing plugin calls."""

import json
import re
import sys
import textwrap

import numpy as np
from typer.testing import CliRunner

from simulator.cli import app
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

runner = CliRunner()

LIFECYCLE = '''
import numpy as np
from simulator import Labeler, Params, hookimpl
from simulator.seeding import stream

calls = []


@hookimpl
def sim_run_start(dataset):
    calls.append(("sim_run_start", dataset.frames))


@hookimpl
def sim_frame_start(frame, seed, scene):
    calls.append(("sim_frame_start", frame))
    scene.background = stream(seed, frame, "lifecycle").uniform(0, 1, 3)


@hookimpl
def sim_after_capture(frame):
    calls.append(("sim_after_capture", frame.index))
    frame.extra["mean_red"] = float(frame.passes.color[:, :, 0].mean())


@hookimpl
def sim_frame_end(frame):
    calls.append(("sim_frame_end", frame.index))


@hookimpl
def sim_run_end(dataset, frames, seconds):
    calls.append(("sim_run_end", frames))


class Distance(Labeler):
    """Each object's distance from the camera, as an attribute."""

    name = "distance_to_camera"

    def label(self, frame):
        eye = frame.scene.camera.position
        for obj in frame.objects:
            entity = frame.scene.entities[obj.instance_id - 1]
            obj.attributes["distance"] = round(float(np.linalg.norm(entity.position - eye)), 4)


@hookimpl
def sim_register_labelers(register):
    register(Distance)
'''

WORLD = """
[world]
frames = 3
[camera]
resolution = [64, 48]
[[spawners]]
type = "primitive"
[[labelers]]
type = "distance_to_camera"
[plugins]
paths = ["lifecycle.py"]
"""


def world_with(tmp_path, plugin: str, world: str = WORLD):
    (tmp_path / "lifecycle.py").write_text(textwrap.dedent(plugin))
    (tmp_path / "world.toml").write_text(textwrap.dedent(world))
    return tmp_path / "world.toml"


def test_lifecycle_hooks_run_in_order_and_can_change_the_frame(tmp_path):
    root = run(load_world(world_with(tmp_path, LIFECYCLE)), RunOptions(tmp_path / "out")).root
    calls = sys.modules["sim_local_plugins.lifecycle"].calls
    per_frame = [
        c
        for i in range(3)
        for c in (("sim_frame_start", i), ("sim_after_capture", i), ("sim_frame_end", i))
    ]
    # Frame 0 renders before the run starts (to fail early), so its start comes first.
    assert calls == [*per_frame[:2], ("sim_run_start", 3), *per_frame[2:], ("sim_run_end", 3)]
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    assert all("mean_red" in r["extra"] for r in records)
    backgrounds = [tuple(r["scene"]["background"]) for r in records]
    assert len(set(backgrounds)) == 3, "sim_frame_start changed each frame's scene"


def test_a_labeler_adds_object_attributes_to_the_native_record(tmp_path):
    root = run(load_world(world_with(tmp_path, LIFECYCLE)), RunOptions(tmp_path / "out")).root
    record = json.loads((root / "frames.jsonl").read_text().splitlines()[0])
    (obj,) = record["objects"]
    camera = np.array(record["camera"]["position"])
    entity = record["scene"]["entities"][0]
    assert obj["attributes"]["distance"] == round(
        float(np.linalg.norm(camera - entity["position"])), 4
    )


def test_a_hook_that_raises_is_named_with_its_frame(tmp_path):
    plugin = LIFECYCLE.replace(
        '    calls.append(("sim_frame_end", frame.index))',
        '    if frame.index == 1:\n        raise KeyError("lost")',
    )
    result = runner.invoke(
        app, ["run", str(world_with(tmp_path, plugin)), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 1
    assert re.search(
        r"plugin 'lifecycle' raised KeyError: 'lost' in sim_frame_end\(\) at frame 1 "
        r"\(seed 0\); re-render that frame alone with: sim run .*world\.toml --start 1",
        " ".join(result.output.split()),
    )


def test_skip_failed_frames_leaves_the_frame_out_and_records_it(tmp_path):
    plugin = LIFECYCLE.replace(
        '    calls.append(("sim_frame_start", frame))',
        '    if frame == 1:\n        raise RuntimeError("bad frame")',
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app, ["run", str(world_with(tmp_path, plugin)), "--out", str(out), "--skip-failed-frames"]
    )
    assert result.exit_code == 0, result.output
    assert "skipped 1 failed frames" in " ".join(result.output.split())
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["frames_done"] == 2 and manifest["status"] == "complete"
    (skipped,) = manifest["skipped_frames"]
    assert skipped["frame"] == 1 and "bad frame" in skipped["error"]
    frames = [json.loads(line)["frame"] for line in (out / "frames.jsonl").read_text().splitlines()]
    assert frames == [0, 2]
    assert sorted(p.name for p in (out / "images").iterdir()) == ["000000.jpg", "000002.jpg"]
    coco = json.loads((out / "annotations" / "instances.json").read_text())
    assert [i["id"] for i in coco["images"]] == [1, 3]


def test_tracing_prints_every_plugin_call(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("SIM_TRACE_PLUGINS", "1")
    run(load_world(world_with(tmp_path, LIFECYCLE)), RunOptions(tmp_path / "out", frames=1))
    err = capfd.readouterr().err
    for line in (
        "sim_register_spawners() -> plugin 'primitives'",
        "sim_register_labelers() -> plugin 'lifecycle'",
        "spawner 'primitive'.spawn() at frame 0",
        "sim_frame_start() at frame 0 -> plugin 'lifecycle'",
        "labeler 'distance_to_camera'.label() at frame 0",
        "sim_after_capture() at frame 0 -> plugin 'lifecycle'",
        "sim_run_end() -> plugin 'lifecycle'",
    ):
        assert f"sim trace: {line}" in err


def test_unknown_labeler_suggests_the_closest(tmp_path):
    world = world_with(
        tmp_path, LIFECYCLE, WORLD.replace('"distance_to_camera"', '"distance_to_camra"')
    )
    result = runner.invoke(app, ["validate", str(world)])
    assert result.exit_code == 2
    assert (
        "unknown labeler 'distance_to_camra'; did you mean 'distance_to_camera'?" in result.output
    )


def test_sim_plugins_lists_every_parameter(tmp_path):
    result = runner.invoke(app, ["plugins", "--json"])
    assert result.exit_code == 0
    found = json.loads(result.output)
    primitive = next(c for c in found["spawners"] if c["name"] == "primitive")
    shape = next(p for p in primitive["parameters"] if p["name"] == "shape")
    assert shape == {
        "name": "shape",
        "type": "one of box, sphere, cylinder, cone, torus, plane",
        "default": "box",
        "description": "Which primitive, or a choice of them.",
    }
    orbit = next(c for c in found["randomizers"] if c["name"] == "camera_orbit")
    distance = next(p for p in orbit["parameters"] if p["name"] == "distance")
    assert distance["default"] == {"uniform": [4.0, 7.0]}
    text = runner.invoke(app, ["plugins"]).output
    assert 'shape: one of box, sphere, cylinder, cone, torus, plane = "box"' in text
