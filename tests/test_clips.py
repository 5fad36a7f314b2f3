"""Clips: frames that share one scene evolving in time ([clip]), sharded, resumed and
reproduced whole; a world without [clip] renders exactly as before."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from datasets import dataset_files, resume_run, run_killed_at

from simulator.errors import WorldError
from simulator.run import shards
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world, parse_world

WORLD = """
[world]
name = "clips"
seed = 5
frames = 8
[camera]
resolution = [64, 48]
{clip}
[[spawners]]
type = "primitive"
shape = {{ choice = ["box", "sphere"] }}
count = {{ range = [2, 4] }}
[[randomizers]]
type = "position"
[[randomizers]]
type = "color"
[[randomizers]]
type = "camera_orbit"
[output]
labels = ["boxes", "masks", "visibility", "instance", "depth"]
"""

CLIP = "[clip]\nframes = {frames}\nfps = 10"
CLIP_KEYS = ("clip", "tracks")


def _world(tmp_path: Path, clip: str = CLIP.format(frames=4), name: str = "world.toml") -> Path:
    path = tmp_path / name
    path.write_text(WORLD.format(clip=clip))
    return path


def _records(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def _without_time(record: dict) -> dict:
    """A record less what clips add: the clip, the tracks, and every entity's motion."""
    out = {k: v for k, v in record.items() if k not in CLIP_KEYS}
    for entity in out["scene"]["entities"]:
        entity.pop("velocity")
        entity.pop("spin")
    return out


def test_a_world_without_clip_writes_no_trace_of_time(tmp_path):
    root = run(load_world(_world(tmp_path, clip="")), RunOptions(tmp_path / "plain")).root
    manifest = json.loads((root / "manifest.json").read_text())
    assert "clip" not in manifest["world"]
    for record in _records(root):
        assert not set(CLIP_KEYS) & set(record)
        assert all("velocity" not in e and "spin" not in e for e in record["scene"]["entities"])


def test_clips_of_one_frame_render_what_independent_frames_render(tmp_path):
    """The golden is the non-clip path's own dataset: a clip of one frame draws from the
    streams of its index, as a frame does, so every pass file is the same byte for byte and
    every record the same but for the clip's additions."""
    plain = run(load_world(_world(tmp_path, clip="")), RunOptions(tmp_path / "plain")).root
    one = CLIP.format(frames=1)
    clipped = run(load_world(_world(tmp_path, one, "c.toml")), RunOptions(tmp_path / "c")).root
    golden, files = dataset_files(plain), dataset_files(clipped)
    assert golden.keys() == files.keys()
    for name in golden:
        if name != "frames.jsonl":
            assert files[name] == golden[name], name
    assert [_without_time(r) for r in _records(clipped)] == _records(plain)


def test_frames_of_a_clip_share_its_scene_and_know_their_time(tmp_path):
    root = run(load_world(_world(tmp_path)), RunOptions(tmp_path / "out")).root
    records = _records(root)
    for record in records:
        clip = record["clip"]
        assert (clip["index"], clip["frame"]) == divmod(record["frame"], 4)
        assert clip["time"] == pytest.approx(clip["frame"] / 10)
        assert (clip["frames"], clip["fps"]) == (4, 10)
    for first in (0, 4):
        # Nothing moves in this world: every frame of a clip is its first one, and its
        # objects keep their ids (the tracks) and their pixels.
        scene = records[first]["scene"]
        for record in records[first + 1 : first + 4]:
            assert record["scene"] == scene
            assert record["tracks"] == records[first]["tracks"]
            assert record["objects"] == records[first]["objects"]
    assert records[0]["scene"] != records[4]["scene"], "a new scene for each clip"
    tracks = records[0]["tracks"]
    assert [t["track_id"] for t in tracks] == [e["instance_id"] for e in scene["entities"]]
    areas = {o["instance_id"]: o["area"] for o in records[0]["objects"]}
    assert all(t["area"] == areas.get(t["track_id"], 0) for t in tracks)


def test_a_clip_depends_only_on_the_seed_and_its_index(tmp_path):
    world = load_world(_world(tmp_path))
    whole = dataset_files(run(world, RunOptions(tmp_path / "whole")).root)
    alone = dataset_files(run(world, RunOptions(tmp_path / "alone", start=4, frames=4)).root)
    for name in ("images/000005.jpg", "instances/000007.png", "depth/000004.png"):
        assert alone[name] == whole[name]
    assert alone["frames.jsonl"].splitlines() == whole["frames.jsonl"].splitlines()[4:]


def test_one_and_two_workers_write_the_same_clips(tmp_path):
    world = load_world(_world(tmp_path))
    one = run(world, RunOptions(tmp_path / "one", shard_size=4)).root
    two = run(world, RunOptions(tmp_path / "two", shard_size=4, workers=2)).root
    assert dataset_files(one) == dataset_files(two)


def test_shards_hold_whole_clips():
    assert shards.plan(0, 10, 3) == [
        shards.Shard(0, 0, 3),
        shards.Shard(1, 3, 6),
        shards.Shard(2, 6, 9),
        shards.Shard(3, 9, 10),
    ]  # independent frames, as before
    cut = shards.plan(0, 48, 50, clip=24)
    assert [(s.start, s.stop) for s in cut] == [(0, 48)]
    cut = shards.plan(0, 100, 10, clip=24)  # a shard is never less than a clip
    assert [(s.start, s.stop) for s in cut] == [(0, 24), (24, 48), (48, 72), (72, 96), (96, 100)]
    cut = shards.plan(30, 50, 48, clip=24)  # cut at clip boundaries, also from a frame mid-clip
    assert [(s.start, s.stop) for s in cut] == [(30, 48), (48, 80)]


def test_per_frame_randomizers_draw_again_on_every_frame(tmp_path):
    plugin = tmp_path / "flicker.py"
    plugin.write_text(
        "from simulator import Params, Randomizer, hookimpl\n"
        "class Flicker(Randomizer[Params]):\n"
        "    name = 'flicker'\n"
        "    timing = 'frame'\n"
        "    def randomize(self, ctx, entities):\n"
        "        ctx.scene.background = ctx.rng.uniform(size=3)\n"
        "        ctx.scene.lights[0].intensity = 0.1 + ctx.clip.time\n"
        "@hookimpl\n"
        "def sim_register_randomizers(register):\n"
        "    register(Flicker)\n"
    )
    text = WORLD.format(clip=CLIP.format(frames=4)) + '[plugins]\npaths = ["flicker.py"]\n'
    text += '[[randomizers]]\ntype = "flicker"\n'
    (tmp_path / "world.toml").write_text(text)
    root = run(load_world(tmp_path / "world.toml"), RunOptions(tmp_path / "out")).root
    records = _records(root)
    backgrounds = {tuple(r["scene"]["background"]) for r in records}
    assert len(backgrounds) == 8, "a draw of its own on every frame"
    assert [r["scene"]["lights"][0]["intensity"] for r in records[:4]] == [0.1, 0.2, 0.3, 0.4]
    assert records[1]["scene"]["entities"] == records[0]["scene"]["entities"]


def test_flow_without_clip_is_one_clear_message(write_world):
    path = write_world(WORLD.format(clip="").replace('"depth"]', '"depth", "flow"]'))
    with pytest.raises(WorldError, match=r"add a \[clip\] section") as caught:
        load_world(path)
    assert "world.toml" in str(caught.value)


def test_clip_parameters_are_checked(write_world):
    with pytest.raises(WorldError, match="fps"):
        parse_world("[clip]\nframes = 4\nfps = 0\n")
    with pytest.raises(WorldError, match="frames"):
        load_world(write_world(WORLD.format(clip="[clip]\nframes = 0")))


def test_a_kill_mid_clip_resumes_to_the_uninterrupted_dataset(tmp_path):
    path = _world(tmp_path)
    reference = dataset_files(
        run(load_world(path), RunOptions(tmp_path / "ref", shard_size=4)).root
    )
    out = tmp_path / "out"
    run_killed_at(path, out, at=6, shard_size=4)  # mid-way through the second clip
    assert json.loads((out / "manifest.json").read_text())["frames_done"] == 4
    resume_run(path, out, shard_size=4)
    assert dataset_files(out) == reference


def test_the_time_strip_script_draws_frames_over_their_flow_colours(tmp_path):
    root = Path(__file__).parent.parent
    made = subprocess.run(
        [sys.executable, str(root / "docs" / "time_strip.py"), "--out", str(tmp_path)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    from PIL import Image

    with Image.open(tmp_path / "images" / "time" / "movi.png") as image:
        assert image.size == (4 * 240, 2 * 180)
    sys.path.insert(0, str(root / "docs"))
    import numpy as np
    from time_strip import flow_colour

    from simulator.labels.records import FLOW_OCCLUDED, FLOW_VALID, Flow

    vectors = np.array([[[4.0, 0.0], [0.0, 4.0], [2.0, 0.0], [1.0, 1.0]]], np.float32)
    flags = np.array([[FLOW_VALID, FLOW_VALID, FLOW_VALID, FLOW_OCCLUDED]], np.uint8)
    colours = flow_colour(Flow(vectors, flags), fastest=4.0)
    assert colours[0, 0].tolist() == [255, 0, 0]  # rightwards: red, at full speed
    assert colours[0, 2].tolist() == [255, 128, 128]  # half the speed: half saturated
    assert colours[0, 3].tolist() == [0, 0, 0]  # not valid: black
    assert colours[0, 1, 0] < colours[0, 1, 1], "downwards (90 degrees): towards green"
