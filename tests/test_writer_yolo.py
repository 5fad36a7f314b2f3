"""The yolo writer's layout read by an independent reader (supervision), and its pose and obb
tasks against geometry computed here from the native record and the instance pass."""

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
import supervision as sv
import yaml
from PIL import Image
from writer_runs import assert_same_bytes_across_workers_and_resume

from sim_plugins.yolo import YoloParams, YoloWriter, is_val
from simulator import DatasetInfo, KeypointSchema, WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

MARKED = """
import numpy as np
from simulator import Entity, FrameContext, KeypointSchema, Spawner, hookimpl, meshes


class Marked(Spawner):
    name = "marked"

    def keypoints(self):
        return {"marked": KeypointSchema(("top", "left_side", "right_side"))}

    def spawn(self, ctx: FrameContext) -> Entity:
        points = {"top": np.array([0.0, 0.0, 0.5]), "left_side": np.array([-0.5, 0.0, 0.0]),
                  "right_side": np.array([0.5, 0.0, 0.0])}
        return Entity(meshes.box(), keypoints=points, scale=[0.8] * 3)
"""

WORLD = """
[world]
name = "yolo"
seed = 11
frames = 6
[camera]
resolution = [160, 120]
[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "torus"] }
count = { range = [2, 4] }
[[spawners]]
type = "marked"
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
[[randomizers]]
type = "position"
targets = ["primitive", "marked"]
[[randomizers]]
type = "rotation"
targets = ["primitive", "marked"]
uniform_3d = true
[[randomizers]]
type = "camera_orbit"
[plugins]
paths = ["marked.py"]
[output]
"""
WIDTH, HEIGHT = 160, 120


def write_world(tmp_path: Path, writer: str) -> Path:
    (tmp_path / "marked.py").write_text(
        MARKED + "\n\n@hookimpl\ndef sim_register_spawners(register):\n    register(Marked)\n"
    )
    path = tmp_path / "world.toml"
    path.write_text(textwrap.dedent(WORLD) + f'writers = ["native", {writer}]\n')
    return path


def render(tmp_path: Path, writer: str) -> Path:
    return run(load_world(write_world(tmp_path, writer)), RunOptions(tmp_path / "out")).root


def records(root: Path) -> dict[str, dict]:
    """Native records by image file name."""
    lines = (root / "frames.jsonl").read_text().splitlines()
    return {Path(r["files"]["image"]).name: r for r in map(json.loads, lines)}


def read_split(root: Path, split: str, **kw) -> sv.DetectionDataset:
    folder = root / "yolo"
    return sv.DetectionDataset.from_yolo(
        images_directory_path=str(folder / "images" / split),
        annotations_directory_path=str(folder / "labels" / split),
        data_yaml_path=str(folder / "data.yaml"),
        **kw,
    )


def instance(root: Path, record: dict) -> np.ndarray:
    return np.asarray(Image.open(root / record["files"]["instance"]))


def test_detect_splits_and_boxes_read_back_in_supervision(tmp_path):
    root = render(tmp_path, '{ type = "yolo", val_fraction = 0.5 }')
    by_name = records(root)
    seen = 0
    for split in ("train", "val"):
        dataset = read_split(root, split)
        assert dataset.classes == ["box", "sphere", "torus", "marked"]
        names = sorted(Path(p).name for p in dataset.image_paths)
        expected = [
            n for n, r in sorted(by_name.items()) if is_val(11, r["frame"], 0.5) == (split == "val")
        ]
        assert names == expected and names, split
        for path in dataset.image_paths:
            objects = by_name[Path(path).name]["objects"]
            detections = dataset.annotations[path]
            boxes = [[x, y, x + w, y + h] for x, y, w, h in (o["bbox"] for o in objects)]
            assert np.allclose(detections.xyxy, boxes, atol=1e-3, rtol=0)
            assert detections.class_id.tolist() == [o["category_id"] - 1 for o in objects]
            seen += len(objects)
    assert seen > 10


def test_segment_masks_read_back_in_supervision(tmp_path):
    root = render(tmp_path, '{ type = "yolo", task = "segment", tolerance = 0 }')
    by_name = records(root)
    checked = 0
    for split in ("train", "val"):
        dataset = read_split(root, split, force_masks=True)
        for path in dataset.image_paths:
            record = by_name[Path(path).name]
            ids = instance(root, record)
            detections = dataset.annotations[path]
            assert detections.mask.shape == (len(record["objects"]), HEIGHT, WIDTH)
            for obj, drawn in zip(record["objects"], detections.mask, strict=True):
                if obj["area"] < 200:
                    continue
                mask = ids == obj["instance_id"]
                # supervision fills the polygon by pixel centres; the outline runs on pixel
                # edges and covers holes: most pixels agree, not all.
                assert (drawn & mask).sum() / (drawn | mask).sum() > 0.8
                checked += 1
    assert checked > 3


def smallest_rectangle_area(points: np.ndarray, steps: int = 9000) -> float:
    """Brute force: the least area of an upright-in-its-own-axes rectangle around the points,
    over rotations 0..90 degrees in 0.01 degree steps (numpy only, no OpenCV)."""
    angles = np.radians(np.arange(steps) * 90 / steps)
    axes = np.stack([np.cos(angles), np.sin(angles)], 1)
    u = points @ axes.T
    v = points @ np.stack([-axes[:, 1], axes[:, 0]], 1).T
    return float(((u.max(0) - u.min(0)) * (v.max(0) - v.min(0))).min())


def pixel_corners(mask: np.ndarray) -> np.ndarray:
    rows, cols = np.nonzero(mask)
    return np.concatenate(
        [np.stack([cols + dx, rows + dy], 1) for dx in (0, 1) for dy in (0, 1)]
    ).astype(float)


def test_oriented_boxes_are_the_smallest_rectangles_around_the_visible_pixels(tmp_path):
    root = render(tmp_path, '{ type = "yolo", task = "obb" }')
    by_name = records(root)
    checked = tilted = 0
    for split in ("train", "val"):
        dataset = read_split(root, split, is_obb=True)
        for path in dataset.image_paths:
            record = by_name[Path(path).name]
            ids = instance(root, record)
            corners = dataset.annotations[path].data["xyxyxyxy"]
            assert len(corners) == len(record["objects"])
            for obj, quad in zip(record["objects"], corners, strict=True):
                quad = np.asarray(quad, float)
                edges = np.roll(quad, -1, 0) - quad
                sides = np.linalg.norm(edges, axis=1)
                assert abs(edges[0] @ edges[1]) <= 1e-3 * sides[0] * sides[1] + 1e-6, "right angles"
                points = pixel_corners(ids == obj["instance_id"])
                # Every visible pixel square lies inside the rectangle.
                centre, axes = quad.mean(0), edges[:2] / sides[:2, None]
                local = np.abs((points - centre) @ axes.T)
                assert (local <= sides[:2] / 2 + 2e-3).all()
                # And none smaller holds them.
                area = sides[0] * sides[1]
                assert area <= smallest_rectangle_area(points) * (1 + 1e-3) + 1e-3
                checked += 1
                tilted += min(abs(edges[0, 0]), abs(edges[0, 1])) > 0.1
    assert checked > 10 and tilted > 3


def test_pose_lines_hold_the_native_keypoints_and_data_yaml_the_shape(tmp_path):
    root = render(tmp_path, '{ type = "yolo", task = "pose" }')
    data = yaml.safe_load((root / "yolo/data.yaml").read_text())
    assert data["kpt_shape"] == [3, 3] and data["flip_idx"] == [0, 2, 1]
    assert data["kpt_names"] == {i: ["top", "left_side", "right_side"] for i in range(4)}
    by_name = records(root)
    labeled = 0
    for split in ("train", "val"):
        for label in sorted((root / "yolo/labels" / split).iterdir()):
            record = by_name[label.stem + ".jpg"]
            lines = [list(map(float, line.split())) for line in label.read_text().splitlines()]
            assert len(lines) == len(record["objects"])
            for values, obj in zip(lines, record["objects"], strict=True):
                assert len(values) == 5 + 3 * 3
                x, y, w, h = obj["bbox"]
                box = [(x + w / 2) / WIDTH, (y + h / 2) / HEIGHT, w / WIDTH, h / HEIGHT]
                assert np.allclose(values[1:5], box, atol=1e-6)
                points = np.array(values[5:]).reshape(3, 3)
                expected = [
                    [k["x"] / WIDTH, k["y"] / HEIGHT, k["v"]] for k in obj.get("keypoints", [])
                ]
                expected = expected or [[0, 0, 0]] * 3  # a category without keypoints
                assert np.allclose(points, expected, atol=1e-6)
                labeled += obj["category"] == "marked" and points[:, 2].max() > 0
        # supervision reads the boxes of a pose dataset (it drops the keypoints).
        dataset = read_split(root, split)
        for path in dataset.image_paths:
            assert len(dataset.annotations[path]) == len(by_name[Path(path).name]["objects"])
    assert labeled > 2


@pytest.mark.parametrize("task", ["pose", "obb"])
def test_pose_and_obb_are_byte_identical_across_workers_and_resume(tmp_path, monkeypatch, task):
    world = write_world(tmp_path, f'{{ type = "yolo", task = "{task}" }}')
    files = assert_same_bytes_across_workers_and_resume(world, tmp_path, monkeypatch)
    assert "yolo/data.yaml" in files
    assert sum(name.startswith("yolo/labels/") for name in files) == 6
    assert sum(name.startswith("yolo/images/") for name in files) == 6


def hand(keypoints: dict[str, KeypointSchema]) -> DatasetInfo:
    return DatasetInfo(Path("unused"), "hand", ["a", "b"], 20, 10, 1, {}, [], keypoints)


def test_pose_needs_one_keypoint_schema_and_known_flip_pairs():
    one = KeypointSchema(("l", "r"))
    with pytest.raises(
        WorldError,
        match=r"needs one keypoint schema shared by every category that has keypoints; categories with keypoints: none",
    ):
        YoloWriter(YoloParams(task="pose"), hand({}))
    with pytest.raises(WorldError, match=r"categories with keypoints: a, b"):
        YoloWriter(YoloParams(task="pose"), hand({"a": one, "b": KeypointSchema(("x",))}))
    with pytest.raises(
        WorldError, match=r"flip_pairs names keypoints the schema lacks: \['nose'\]"
    ):
        YoloWriter(YoloParams(task="pose", flip_pairs=[("l", "nose")]), hand({"a": one}))
    assert YoloWriter.requires(YoloParams(task="pose")) == {"keypoints"}


def test_an_unknown_task_is_one_clear_error(tmp_path):
    with pytest.raises(
        WorldError, match=r"output\.writers\[1\]\.task.*'detect', 'segment', 'pose' or 'obb'"
    ):
        render(tmp_path, '{ type = "yolo", task = "keypoints" }')
    assert not (tmp_path / "out").exists()
