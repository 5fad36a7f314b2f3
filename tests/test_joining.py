"""Objects joining a clip: a spawner's `count` keyed over the clip spawns its most at the
clip's start, and each object is in the frames from the one its count first passes its
place: absent before (not drawn, labeled, tracked or simulated), then thrown from its placed
pose, with the same track id throughout."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from sim_plugins.physics import MAX_STEP
from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import WorldError
from simulator.labels.records import FLOW_OUTSIDE, FLOW_VALID
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world, parse_world

WORLD = """
[world]
name = "joining"
seed = 2
frames = {frames}
[camera]
resolution = [80, 60]
position = [0, -5, 3]
target = [0, 0, 0.3]
[clip]
frames = 5
fps = 12
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
[[spawners]]
type = "primitive"
shape = "box"
count = {count}
size = 0.5
[[randomizers]]
type = "scatter"
targets = ["box"]
low = [-1.5, -1, {low}]
high = [1.5, 1, {low}]
{more}
[output]
labels = {labels}
writers = ["native"]
image_format = "png"
"""
RISING = '{ keyframes = [[0, 1], [0.5, 3]], curve = "step" }'  # frames 0, 1: one; 2 on: three
THROW = """
[[randomizers]]
type = "throw"
targets = ["box"]
velocity = [0.5, 0, 1]
surface = -50
damping = 0
"""


LABELS = '["boxes", "instance"]'
EVERY = (
    '["boxes", "masks", "visibility", "amodal_masks", "boxes3d", "instance", "semantic", "depth"]'
)


def _text(
    count: str = RISING, frames: int = 10, low: float = 0.25, more: str = "", labels: str = LABELS
) -> str:
    return WORLD.format(count=count, frames=frames, low=low, more=more, labels=labels)


def _pipeline(**kwargs) -> Pipeline:
    world = parse_world(_text(**kwargs))
    return Pipeline(world, host_for(world))


def _records(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def test_objects_join_at_the_frame_their_count_reaches_them_with_their_ids():
    pipeline = _pipeline()
    base = pipeline.clip_scene(0)
    assert [e.instance_id for e in base.entities] == [1, 2, 3, 4]  # the floor, three boxes
    assert [e.appears for e in base.entities] == [0, 0, 2, 2]
    for frame, ids in enumerate([[1, 2], [1, 2], [1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]]):
        scene = pipeline.build_scene(frame)
        assert [e.instance_id for e in scene.entities] == ids, frame
        for entity in scene.entities:  # posed where the clip's scene placed it
            np.testing.assert_array_equal(
                entity.position, base.entities[entity.instance_id - 1].position
            )
    second = pipeline.build_scene(7)  # clip 1, frame 2: its own draws, the same joining
    assert [e.instance_id for e in second.entities] == [1, 2, 3, 4]


def test_a_rising_count_renders_as_the_lower_then_the_higher_count(tmp_path):
    """Frames before the key are those of a world of one box, byte for byte (pixels, masks,
    labels), and the frames from it on those of a world of three."""
    roots = {}
    for name, count in (("rising", RISING), ("one", "1"), ("three", "3")):
        world = tmp_path / f"{name}.toml"
        world.write_text(_text(count=count, labels=EVERY))
        roots[name] = run(load_world(world), RunOptions(tmp_path / name)).root
    records = {name: _records(root) for name, root in roots.items()}
    for index, record in enumerate(records["rising"]):
        alone = "one" if record["clip"]["frame"] < 2 else "three"
        other = records[alone][index]
        assert record["objects"] == other["objects"] and record["tracks"] == other["tracks"]
        assert [t["track_id"] for t in record["tracks"]] == ([2] if alone == "one" else [2, 3, 4])
        files = sorted(roots["rising"].glob(f"*/{index:06d}.*"))  # images, masks, depth...
        assert len(files) >= 4
        for file in files:
            name = file.relative_to(roots["rising"])
            assert file.read_bytes() == (roots[alone] / name).read_bytes(), name
        mask = cv2.imread(
            str(roots["rising"] / "instances" / f"{index:06d}.png"), cv2.IMREAD_UNCHANGED
        )
        seen = set(np.unique(mask).tolist()) - {0, 1}  # the boxes' ids in the instance pass
        assert seen == ({2} if alone == "one" else {2, 3, 4}), index


def test_a_joining_object_is_thrown_from_its_placed_pose_when_it_joins():
    """Free flight (no ground in reach, no damping) from the frame it joins: x = x0 + v t,
    z = z0 + vz t - g (t^2 + t dt) / 2, t counted from its joining; the box there from the
    start flies as it would alone."""
    pipeline = _pipeline(low=20.0, more=THROW)
    alone = _pipeline(count="1", low=20.0, more=THROW)
    placed = pipeline.clip_scene(0).entities
    dt = 1 / 12 / np.ceil(1 / (12 * MAX_STEP) - 1e-9)
    for k in range(5):
        scene = {e.instance_id: e for e in pipeline.build_scene(k).entities}
        np.testing.assert_array_equal(scene[2].position, alone.build_scene(k).entities[1].position)
        for entity in scene.values():
            if entity.category is None:
                continue
            t = (k - entity.appears) / 12
            expected = placed[entity.instance_id - 1].position + np.array([0.5, 0.0, 1.0]) * t
            expected[2] -= 9.81 * (t * t + t * dt) / 2
            np.testing.assert_allclose(entity.position, expected, atol=1e-4)
            np.testing.assert_allclose(entity.velocity, [0.5, 0.0, 1.0 - 9.81 * t], atol=1e-4)
    assert {e.instance_id for e in pipeline.build_scene(1).entities} == {1, 2}


def test_a_count_that_falls_is_refused(tmp_path):
    path = tmp_path / "world.toml"
    path.write_text(_text(count="{ keyframes = [[0, 3], [0.5, 1]] }"))
    world = load_world(path)
    with pytest.raises(WorldError, match=r"spawners\[1\]\.count: the count falls from 3 to 1"):
        Pipeline(world, host_for(world))


def test_a_keyed_count_needs_a_clip(tmp_path):
    path = tmp_path / "world.toml"
    path.write_text(_text().replace("[clip]\nframes = 5\nfps = 12\n", ""))
    world = load_world(path)
    with pytest.raises(WorldError, match=r"spawners\[1\]\.count: an animated value .* no \[clip\]"):
        Pipeline(world, host_for(world))


def test_flow_back_from_the_frame_an_object_joins_finds_it_gone(tmp_path):
    path = tmp_path / "world.toml"
    path.write_text(_text(frames=5, labels='["boxes", "instance", "flow"]'))
    root = run(load_world(path), RunOptions(tmp_path / "out")).root
    mask = cv2.imread(str(root / "instances" / "000002.png"), cv2.IMREAD_UNCHANGED)
    flags = cv2.imread(str(root / "flow_backward_flags" / "000002.png"), cv2.IMREAD_UNCHANGED)
    joined = np.isin(mask, [3, 4])
    assert joined.any() and (flags[joined] == FLOW_OUTSIDE).all()  # not at frame 1
    assert (flags[mask == 2] == FLOW_VALID).all()  # the box there all along, still


def test_ids_after_the_joining_objects_keep_their_labels(tmp_path):
    """A spawner after the rising one: its ball is id 5 while ids 3 and 4 have not joined;
    the semantic mask still gives every pixel of an id its category."""
    ball = '[[spawners]]\ntype = "primitive"\nshape = "sphere"\ncategory = "ball"\n'
    ball += "size = 0.6\nposition = [0, 1.2, 0.3]\n"
    path = tmp_path / "world.toml"
    text = _text(frames=5, labels='["boxes", "instance", "semantic"]')
    path.write_text(text.replace("[[randomizers]]", ball + "[[randomizers]]", 1))
    root = run(load_world(path), RunOptions(tmp_path / "out")).root
    categories = {2: 1, 3: 1, 4: 1, 5: 2}  # boxes, then the ball (the floor: a distractor)
    for frame, ids in ((0, {1, 2, 5}), (4, {1, 2, 3, 4, 5})):
        instance = cv2.imread(str(root / "instances" / f"{frame:06d}.png"), cv2.IMREAD_UNCHANGED)
        semantic = cv2.imread(str(root / "semantic" / f"{frame:06d}.png"), cv2.IMREAD_UNCHANGED)
        assert set(np.unique(instance).tolist()) - {0} == ids
        expected = np.zeros_like(semantic)
        for instance_id, category in categories.items():
            expected[instance == instance_id] = category
        np.testing.assert_array_equal(semantic, expected)
