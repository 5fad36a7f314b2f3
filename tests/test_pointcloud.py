"""The pointcloud writer: every surface pixel a PLY vertex, read back with trimesh; the
points project (OpenCV) onto their pixels at the depth pass's depth, with the pixel's colour
and instance id, in camera or world coordinates, through a lens too, for each rig camera."""

import json

import cv2
import numpy as np
import pytest
import trimesh
from PIL import Image

from simulator.run.runner import RunOptions, run
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 4
frames = 1
[camera]
resolution = [96, 72]
fov = 70
position = [0.5, -4, 2.5]
target = [0, 0, 0.3]
{camera}
[output]
labels = ["boxes", "instance", "depth"]
image_format = "png"
depth_format = "npy"
writers = ["native", {{ type = "pointcloud", coordinates = "{coordinates}" }}]
[[spawners]]
type = "primitive"
shape = {{ choice = ["box", "sphere", "torus"] }}
count = 4
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 8
[[randomizers]]
type = "position"
targets = ["primitive"]
"""


def _read(path):
    cloud = trimesh.load(path)
    assert isinstance(cloud, trimesh.PointCloud)
    raw = cloud.metadata["_ply_raw"]["vertex"]["data"]
    return np.asarray(cloud.vertices), np.asarray(cloud.colors)[:, :3], raw["instance"]


def _check(root, folder, camera_record, coordinates, lens=None):
    """The cloud under `folder` against that camera's image, depth and instance files."""
    vertices, colors, ids = _read(root / folder / "points" / "000000.ply")
    depth = np.load(root / folder / "depth" / "000000.npy")
    instance = np.asarray(Image.open(root / folder / "instances" / "000000.png"))
    image = np.asarray(Image.open(root / folder / "images" / "000000.png"))
    rows, columns = np.nonzero(depth > 0)
    assert len(vertices) == len(rows) > 1000  # one point per surface pixel, in row order
    pose = np.array(camera_record["cam_to_world"])
    if coordinates == "world":
        world_to_cam = np.linalg.inv(pose)
        rvec, tvec = cv2.Rodrigues(world_to_cam[:3, :3])[0], world_to_cam[:3, 3]
        in_camera = vertices @ world_to_cam[:3, :3].T + tvec
        atol = 2e-3  # the record's pose is rounded to 6 decimals
    else:
        rvec, tvec, in_camera, atol = np.zeros(3), np.zeros(3), vertices, 1e-3
    K = np.array(camera_record["K"])
    D = None if lens is None else np.array(lens)
    pixels = cv2.projectPoints(vertices, rvec, tvec, K, D)[0].reshape(-1, 2)
    np.testing.assert_allclose(pixels[:, 0], columns, atol=atol)
    np.testing.assert_allclose(pixels[:, 1], rows, atol=atol)
    np.testing.assert_allclose(in_camera[:, 2], depth[rows, columns], rtol=1e-5, atol=1e-4)
    assert (ids == instance[rows, columns]).all()
    assert (colors == image[rows, columns]).all()
    return ids


@pytest.mark.parametrize("coordinates", ["camera", "world"])
def test_points_back_project_to_the_depth_pass_with_their_ids(tmp_path, coordinates):
    world = parse_world(WORLD.format(camera="", coordinates=coordinates))
    root = run(world, RunOptions(tmp_path / "out")).root
    record = json.loads((root / "frames.jsonl").read_text().splitlines()[0])
    ids = _check(root, ".", record["camera"], coordinates)
    assert len(set(ids.tolist())) >= 3  # objects and the floor


def test_a_lens_frame_and_a_rig_have_clouds_too(tmp_path):
    lens = "[camera.lens]\nk1 = -0.15\nk2 = 0.03\np1 = 0.001"
    root = run(
        parse_world(WORLD.format(camera=lens, coordinates="camera")), RunOptions(tmp_path / "a")
    ).root
    record = json.loads((root / "frames.jsonl").read_text().splitlines()[0])
    _check(root, ".", record["camera"], "camera", record["camera"]["lens"]["coefficients"])
    rig = "[camera.rig]\nbaseline = 0.2"
    root = run(
        parse_world(WORLD.format(camera=rig, coordinates="world")), RunOptions(tmp_path / "b")
    ).root
    record = json.loads((root / "frames.jsonl").read_text().splitlines()[0])
    _check(root, ".", record["camera"], "world")
    _check(root, "cameras/right", record["rig"]["cameras"]["right"]["camera"], "world")
