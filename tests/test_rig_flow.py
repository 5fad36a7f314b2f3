"""Flow, scene flow and point tracks for every camera of a rig: each camera's labels against
its own analytic projection (its pose worked out here from the rig's geometry, the moved
surface points projected by OpenCV), each frame drawn once per camera, the tracks of one set
of points in every camera, and the same bytes for one and two workers."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from datasets import dataset_files
from motion_plugins import glide_plugin

from simulator.capture.frame import Renderer
from simulator.labels.records import FLOW_VALID
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

W, H, FOV, FPS = 96, 72, 60.0, 10.0
F = (W / 2) / np.tan(np.radians(FOV / 2))
K = np.array([[F, 0, W / 2 - 0.5], [0, F, H / 2 - 0.5], [0, 0, 1]])
EYE, TARGET = np.array([0.0, -5.0, 0.0]), np.zeros(3)
DOLLY = np.array([1.0, 0.0, 0.0])  # the rig's velocity, m/s
CUBE_V = np.array([-0.5, 0.3, 0.8])  # the cube's, m/s
BASELINE = 0.4

WORLD = f"""
[world]
seed = 2
frames = {{frames}}
[camera]
resolution = [{W}, {H}]
fov = {FOV}
position = {EYE.tolist()}
target = {TARGET.tolist()}
{{rig}}
[clip]
frames = 3
fps = {FPS}
tracks = 300
[[spawners]]
type = "primitive"
name = "cube"
shape = "box"
size = 1.2
hpr = [30, 0, 0]
[[randomizers]]
type = "glide"
[[randomizers]]
type = "camera_motion"
motion = "dolly"
velocity = {DOLLY.tolist()}
[output]
labels = ["boxes", "instance", "depth", "flow", "scene_flow", "point_tracks"]
writers = ["native"]
[plugins]
paths = ["glide.py"]
"""
STEREO = f'[camera.rig]\nkind = "stereo"\nbaseline = {BASELINE}'
RING = '[camera.rig]\nkind = "ring"\ncount = 3'

# Test motion: the cube glides at CUBE_V.
GLIDE = glide_plugin(CUBE_V)


def _world(tmp_path: Path, rig: str, frames: int = 3) -> Path:
    (tmp_path / "glide.py").write_text(GLIDE)
    path = tmp_path / "world.toml"
    path.write_text(WORLD.format(rig=rig, frames=frames))
    return path


def _frames(path: Path) -> list:
    renderer = Renderer(load_world(path), [])
    try:
        return [renderer.frame(k) for k in range(3)]
    finally:
        renderer.close()


def _look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """cam_to_world (OpenCV axes) of a level camera at `eye` looking at `target`."""
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = np.stack([right, np.cross(forward, right), forward], 1), eye
    return pose


def _poses(rig: str, k: int) -> dict[str, np.ndarray]:
    """Every camera's cam_to_world at frame k, from the rig's geometry: the first camera
    dollies; the right one is BASELINE along its x; a ring's turn about the target's vertical."""
    eye, target = EYE + DOLLY * k / FPS, TARGET + DOLLY * k / FPS
    first = _look_at(eye, target)
    if rig == STEREO:
        right = np.array([BASELINE, 0.0, 0.0])  # the first camera's x is world x
        return {"left": first, "right": _look_at(eye + right, target + right)}
    poses = {"cam0": first}
    for n in (1, 2):
        a = np.radians(120.0 * n)
        turn = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        poses[f"cam{n}"] = _look_at(target + turn @ (eye - target), target)
    return poses


def _cameras(frame) -> dict:
    return {frame.camera_name: frame, **frame.views}


def _project(points: np.ndarray, cam_to_world: np.ndarray) -> np.ndarray:
    to_camera = np.linalg.inv(cam_to_world)
    rvec = cv2.Rodrigues(to_camera[:3, :3])[0]
    return cv2.projectPoints(points.reshape(-1, 1, 3), rvec, to_camera[:3, 3], K, None)[0][:, 0]


@pytest.mark.parametrize("rig", [STEREO, RING], ids=["stereo", "ring"])
def test_each_rig_camera_flows_as_its_own_moving_camera_projects_the_motion(tmp_path, rig):
    frames = _frames(_world(tmp_path, rig))
    means = []
    for name, view in _cameras(frames[1]).items():
        np.testing.assert_allclose(
            view.scene.camera.cam_to_world(), _poses(rig, 1)[name], atol=1e-9
        )
        for direction, k in (("forward", 2), ("backward", 0)):
            flow, scene = view.flow[direction], view.scene_flow[direction]
            valid = flow.flags == FLOW_VALID
            cube = view.passes.instance > 0
            assert valid.sum() > 0.7 * cube.sum() > 0 and not (valid & ~cube).any()
            rows, cols = np.nonzero(valid)
            z = view.passes.depth[rows, cols].astype(float)
            here = np.stack([(cols - K[0, 2]) / F * z, (rows - K[1, 2]) / F * z, z], 1)
            pose = _poses(rig, 1)[name]
            world = here @ pose[:3, :3].T + pose[:3, 3] + CUBE_V * (k - 1) / FPS
            expected = _project(world, _poses(rig, k)[name]) - np.stack([cols, rows], 1)
            np.testing.assert_allclose(flow.vectors[valid], expected, atol=0.01)
            there = world @ np.linalg.inv(_poses(rig, k)[name])[:3, :3].T
            there += np.linalg.inv(_poses(rig, k)[name])[:3, 3]
            np.testing.assert_allclose(scene.vectors[valid], there - here, atol=1e-4)
        means.append(view.flow["forward"].vectors[valid].mean(axis=0))
    # each camera sees the motion its own way (the ring from other sides)
    assert rig == STEREO or np.ptp(np.array(means), axis=0).max() > 1.0


def test_every_rig_camera_counts_the_unoccluded_pixels_of_its_own_frame(tmp_path):
    """A frame drawn ahead for its neighbour's flow is labeled after other frames were drawn:
    its solo passes are still its own (the cube alone is wholly visible in every camera)."""
    path = _world(tmp_path, RING)
    path.write_text(path.read_text().replace('["boxes",', '["boxes", "visibility",'))
    for frame in _frames(path):
        for name, view in _cameras(frame).items():
            [cube] = view.objects
            assert cube.unoccluded_pixels == (view.passes.instance == cube.instance_id).sum(), name


def test_a_clip_draws_each_of_its_frames_once_per_camera(tmp_path, monkeypatch):
    drawn: list[tuple[float, ...]] = []
    real = Renderer._render

    def counted(self, scene):
        drawn.append(tuple(scene.camera.position))
        return real(self, scene)

    monkeypatch.setattr(Renderer, "_render", counted)
    _frames(_world(tmp_path, RING))
    assert len(drawn) == 9 and len(set(drawn)) == 9  # 3 frames, 3 cameras


def test_every_rig_camera_tracks_the_same_points_as_it_projects_them(tmp_path):
    root = run(load_world(_world(tmp_path, RING)), RunOptions(tmp_path / "out")).root
    last = json.loads((root / "frames.jsonl").read_text().splitlines()[-1])
    files = {"cam0": last["files"]["point_tracks"]}
    for name in ("cam1", "cam2"):
        files[name] = last["rig"]["cameras"][name]["files"]["point_tracks"]
    assert files == {
        "cam0": "tracks/000000.npz",
        "cam1": "cameras/cam1/tracks/000000.npz",
        "cam2": "cameras/cam2/tracks/000000.npz",
    }
    seen: dict[str, set] = {}
    drawn: dict[int, np.ndarray] = {}
    for name, path in files.items():
        with np.load(root / path) as npz:
            tracks = dict(npz)
        for index, point in zip(tracks["point_index"], tracks["object_points"], strict=True):
            assert np.array_equal(drawn.setdefault(int(index), point), point)  # one point set
        seen[name] = set(tracks["point_index"].tolist())
        # The cube's pose at frame k: turned 30 degrees about z, glided by CUBE_V * k / FPS.
        a = np.radians(30.0)
        turn = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        for k in range(3):
            world = tracks["object_points"].astype(float) * 1.2 @ turn.T + CUBE_V * k / FPS
            expected = _project(world, _poses(RING, k)[name]) + 0.5  # pixel-edge coordinates
            np.testing.assert_allclose(tracks["target_points"][:, k], expected, atol=1e-3)
    # the ring sees sides the first camera does not: points it alone tracks
    assert seen["cam1"] - seen["cam0"] and seen["cam2"] - seen["cam0"]


def test_one_and_two_workers_write_the_same_rig_flow_and_tracks(tmp_path):
    world = load_world(_world(tmp_path, RING, frames=6))
    one = run(world, RunOptions(tmp_path / "one", shard_size=3)).root
    two = run(world, RunOptions(tmp_path / "two", shard_size=3, workers=2)).root
    files = dataset_files(one)
    assert files == dataset_files(two)
    for folder in ("flow_forward", "scene_flow_backward", "tracks"):
        assert any(p.startswith(f"cameras/cam2/{folder}/") for p in files), folder
