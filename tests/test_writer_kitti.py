"""The kitti writer read back as the object devkit's readme defines the files: boxes from the
instance pass, 3D boxes rebuilt the devkit's way (R_y(ry), corners from h w l around the
bottom centre) against sim's box corners, P2 against sim's projection."""

import json
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from writer_runs import assert_same_bytes_across_workers_and_resume

from sim_plugins.kitti import KittiParams, KittiWriter
from sim_plugins.splits import is_val
from simulator import DatasetInfo, WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

WORLD = """
[world]
name = "kitti"
seed = 9
frames = 6
[camera]
resolution = [160, 120]
[[spawners]]
type = "primitive"
shape = "box"
count = { range = [3, 5] }
size = { uniform = [0.6, 1.2] }
[[randomizers]]
type = "position"
position = { uniform = [[-2.0, -2.0, 0.5], [2.0, 2.0, 1.5]] }
[[randomizers]]
type = "rotation"
{rotation}
[[randomizers]]
type = "camera_orbit"
elevation = {elevation}
distance = 7.0
[output]
"""


def write_world(tmp_path: Path, writer: str = '"kitti"', level: bool = True) -> Path:
    text = textwrap.dedent(WORLD).replace("{rotation}", "" if level else "uniform_3d = true")
    text = text.replace("{elevation}", "0.0" if level else "35.0")
    path = tmp_path / "world.toml"
    path.write_text(text + f'writers = ["native", {writer}]\n')
    return path


def render(tmp_path: Path, writer: str = '"kitti"', level: bool = True) -> Path:
    return run(load_world(write_world(tmp_path, writer, level)), RunOptions(tmp_path / "out")).root


def records(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def read_labels(path: Path) -> list[dict]:
    """label_2 lines by the devkit's readme (15 values)."""
    out = []
    for line in path.read_text().splitlines():
        v = line.split()
        assert len(v) == 15
        f = [float(x) for x in v[1:]]
        out.append(
            {
                "type": v[0],
                "truncated": f[0],
                "occluded": int(v[2]),
                "alpha": f[2],
                "bbox": f[3:7],
                "hwl": f[7:10],
                "xyz": f[10:13],
                "ry": f[13],
            }
        )
    return out


def read_calib(path: Path) -> dict[str, np.ndarray]:
    rows = dict(line.split(":", 1) for line in path.read_text().splitlines())
    return {k: np.array(v.split(), float) for k, v in rows.items()}


def devkit_corners(label: dict) -> np.ndarray:
    """computeBox3D of the devkit: corners in the camera frame."""
    h, w, length = label["hwl"]
    x = [length / 2, length / 2, -length / 2, -length / 2] * 2
    y = [0, 0, 0, 0, -h, -h, -h, -h]
    z = [w / 2, -w / 2, -w / 2, w / 2, w / 2, -w / 2, -w / 2, w / 2]
    c, s = math.cos(label["ry"]), math.sin(label["ry"])
    rotation = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return (rotation @ np.array([x, y, z])).T + label["xyz"]


def camera_corners(record: dict, obj: dict) -> np.ndarray:
    world_to_cam = np.linalg.inv(np.array(record["camera"]["cam_to_world"]))
    corners = np.array(obj["box3d"]["corners_world"])
    return corners @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]


def same_points(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
    """Equal as sets of points (the two corner orders differ)."""
    return all(np.min(np.linalg.norm(b - p, axis=1)) <= atol for p in a)


def test_upright_objects_under_a_level_camera_get_their_exact_box(tmp_path):
    root = render(tmp_path)
    count = 0
    for record in records(root):
        stem = f"{record['frame']:06d}"
        labels = read_labels(root / "kitti/training/label_2" / f"{stem}.txt")
        tilts = [
            float(t) for t in (root / "kitti/training/tilt_2" / f"{stem}.txt").read_text().split()
        ]
        ids = np.asarray(Image.open(root / record["files"]["instance"]))
        assert len(labels) == len(record["objects"]) == len(tilts)
        for label, obj, tilt in zip(labels, record["objects"], tilts, strict=True):
            assert label["type"] == obj["category"]
            rows, cols = np.nonzero(ids == obj["instance_id"])
            assert label["bbox"] == [cols.min(), rows.min(), cols.max(), rows.max()]
            assert label["truncated"] == pytest.approx(obj["truncation"], abs=1e-6)
            v = obj["visibility"]
            assert label["occluded"] == (0 if v == 1 else 1 if v >= 0.5 else 2)
            assert tilt < 1e-3
            assert same_points(devkit_corners(label), camera_corners(record, obj), atol=2e-5)
            x, _, z = label["xyz"]
            alpha = (label["ry"] - math.atan2(x, z) + math.pi) % (2 * math.pi) - math.pi
            assert label["alpha"] == pytest.approx(alpha, abs=2e-6)
            count += 1
    assert count > 10


def test_p2_projects_like_sims_camera(tmp_path):
    root = render(tmp_path)
    for record in records(root):
        stem = f"{record['frame']:06d}"
        calib = read_calib(root / "kitti/training/calib" / f"{stem}.txt")
        assert set(calib) == {"P0", "P1", "P2", "P3", "R0_rect", "Tr_velo_to_cam", "Tr_imu_to_velo"}
        assert np.array_equal(calib["R0_rect"], np.eye(3).ravel())
        p2 = calib["P2"].reshape(3, 4)
        assert len(read_labels(root / "kitti/training/label_2" / f"{stem}.txt")) == len(
            record["objects"]
        )
        for obj in record["objects"]:
            corners = camera_corners(record, obj)
            projected = np.c_[corners, np.ones(8)] @ p2.T
            pixels = projected[:, :2] / projected[:, 2:]
            # sim's pixel-edge coordinates are half a pixel from P2's pixel centres
            assert np.allclose(pixels + 0.5, obj["box3d"]["corners_pixels"], atol=1e-4)


def test_freely_turned_objects_are_flagged_by_their_tilt(tmp_path):
    root = render(tmp_path, level=False)
    tilted = 0
    for record in records(root):
        stem = f"{record['frame']:06d}"
        labels = read_labels(root / "kitti/training/label_2" / f"{stem}.txt")
        tilts = [
            float(t) for t in (root / "kitti/training/tilt_2" / f"{stem}.txt").read_text().split()
        ]
        for label, obj, tilt in zip(labels, record["objects"], tilts, strict=True):
            corners = camera_corners(record, obj)
            edges = [corners[4] - corners[0], corners[2] - corners[0], corners[1] - corners[0]]
            angles = [math.degrees(math.acos(min(1, abs(e[1]) / np.linalg.norm(e)))) for e in edges]
            nearest = int(np.argmin(angles))
            assert tilt == pytest.approx(angles[nearest], abs=1e-3)
            assert label["hwl"][0] == pytest.approx(np.linalg.norm(edges[nearest]), abs=1e-5)
            centre = corners.mean(0)
            assert label["xyz"] == pytest.approx(
                centre + np.array([0, label["hwl"][0] / 2, 0]), abs=1e-5
            )
            tilted += tilt > 5
            if tilt < 1e-3:
                assert same_points(devkit_corners(label), corners, atol=2e-5)
    assert tilted > 5


def test_split_lists_dont_care_and_byte_identity(tmp_path, monkeypatch):
    files = assert_same_bytes_across_workers_and_resume(
        write_world(tmp_path, '{ type = "kitti", val_fraction = 0.5, min_pixels = 200 }'),
        tmp_path,
        monkeypatch,
    )
    val = [f"{i:06d}" for i in range(6) if is_val(9, i, 0.5, "kitti")]
    assert files["kitti/ImageSets/val.txt"].decode().split() == val and 0 < len(val) < 6
    assert files["kitti/ImageSets/trainval.txt"].decode().split() == [f"{i:06d}" for i in range(6)]
    assert sum(name.startswith("kitti/training/image_2/") for name in files) == 6
    record_lines = files["frames.jsonl"].decode().splitlines()
    dont_care = 0
    for record in map(json.loads, record_lines):
        lines = files[f"kitti/training/label_2/{record['frame']:06d}.txt"].decode().splitlines()
        for line, obj in zip(lines, record["objects"], strict=True):
            if obj["area"] < 200:
                x, y, w, h = obj["bbox"]
                assert line.split() == [
                    "DontCare",
                    "-1",
                    "-1",
                    "-10",
                    *(f"{v:.6f}" for v in (x, y, x + w - 1, y + h - 1)),
                    "-1",
                    "-1",
                    "-1",
                    "-1000",
                    "-1000",
                    "-1000",
                    "-10",
                ]
                dont_care += 1
    assert dont_care > 0


def test_kitti_needs_its_labels_and_single_word_types(tmp_path):
    assert KittiWriter.requires(KittiParams()) == {"boxes", "boxes3d", "visibility"}
    info = DatasetInfo(tmp_path, "k", ["traffic cone"], 20, 10, 1, {}, [])
    with pytest.raises(
        WorldError, match=r"KITTI types are single words; categories \['traffic cone'\] are not"
    ):
        KittiWriter(KittiParams(), info)
    path = write_world(tmp_path)
    path.write_text(
        path.read_text().replace("[output]\n", '[output]\nlabels = ["boxes", "boxes3d"]\n')
    )
    with pytest.raises(WorldError, match=r"writer 'kitti' needs the label\(s\) 'visibility'"):
        run(load_world(path), RunOptions(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
