"""Camera rigs: a stereo pair renders one scene from two cameras a baseline apart; the
disparity written is baseline * f / depth of the left depth pass, and a surface point the
left camera sees at column u the right camera sees at u - disparity, on the same row."""

import json

import cv2
import numpy as np
import pytest

from simulator.capture.frame import Renderer
from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 3
frames = 2
[camera]
resolution = [128, 96]
fov = 70
position = [0.4, -5, 2.5]
target = [0, 0, 0.3]
{rig}
[output]
labels = ["boxes", "masks", "instance", "depth"]
depth_format = "npy"
writers = ["coco", "native"]
[[spawners]]
type = "primitive"
shape = {{ choice = ["box", "sphere", "torus"] }}
count = 5
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
[[randomizers]]
type = "position"
targets = ["primitive"]
"""
RIG = '[camera.rig]\nkind = "stereo"\nbaseline = 0.3'


def _frame(index=0):
    renderer = Renderer(parse_world(WORLD.format(rig=RIG)))
    try:
        return renderer.frame(index)
    finally:
        renderer.close()


def _opencv_pose(camera):
    world_to_cam = camera.world_to_cam()
    return cv2.Rodrigues(world_to_cam[:3, :3])[0], world_to_cam[:3, 3]


def test_a_stereo_pair_sees_each_point_shifted_by_its_disparity():
    left = _frame()
    right = left.views["right"]
    pose_l, pose_r = left.scene.camera.cam_to_world(), right.scene.camera.cam_to_world()
    # the right camera: turned alike, 0.3 m along the left one's x axis
    assert np.allclose(pose_l[:3, :3], pose_r[:3, :3], atol=1e-6)
    assert np.allclose(pose_r[:3, 3] - pose_l[:3, 3], 0.3 * pose_l[:3, 0], atol=1e-6)
    K = left.scene.camera.K
    assert np.array_equal(right.scene.camera.K, K)
    depth = left.passes.depth
    seen = depth > 0
    expected = np.where(seen, 0.3 * K[0, 0] / np.where(seen, depth, 1).astype(np.float64), 0)
    assert left.disparity.dtype == np.float32
    np.testing.assert_allclose(left.disparity, expected, rtol=1e-6, atol=0)
    # every surface pixel of the left image, back-projected and projected by OpenCV
    rows, columns = np.nonzero(seen)
    z = depth[rows, columns].astype(np.float64)
    rays = np.linalg.inv(K) @ np.stack([columns, rows, np.ones_like(columns)]).astype(float)
    points = (pose_l[:3, :3] @ (rays * z) + pose_l[:3, 3:4]).T
    rvec, tvec = _opencv_pose(right.scene.camera)
    projected = cv2.projectPoints(points, rvec, tvec, K, None)[0].reshape(-1, 2)
    np.testing.assert_allclose(projected[:, 1], rows, atol=1e-9)  # rectified: same row
    np.testing.assert_allclose(
        columns - projected[:, 0], left.disparity[rows, columns], rtol=1e-5, atol=1e-5
    )
    # and the right render shows the same surface there (occlusions and edges aside)
    u_right = np.rint(projected[:, 0]).astype(int)
    inside = (u_right >= 0) & (u_right < 128)
    ids_left = left.passes.instance[rows, columns][inside]
    ids_right = right.passes.instance[rows[inside], u_right[inside]]
    objects = ids_left != ids_left.max()  # not the floor (the last entity drawn)
    assert objects.sum() > 300
    assert (ids_left == ids_right).mean() > 0.97
    assert (ids_left[objects] == ids_right[objects]).mean() > 0.9
    same = ids_left == ids_right
    z_right = right.passes.depth[rows[inside], u_right[inside]][same]
    assert np.median(np.abs(z_right - z[inside][same])) < 0.01  # plane depth: same axes
    # the right camera's own labels come from its own render
    boxes = {o.instance_id: o.bbox for o in right.objects}
    for obj in left.objects:
        if obj.instance_id in boxes:
            assert boxes[obj.instance_id][0] < obj.bbox[0] + 1  # seen further left
    for obj in right.objects:
        ys, xs = np.nonzero(right.passes.instance == obj.instance_id)
        assert obj.bbox == [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()]


def test_a_rig_dataset_has_each_cameras_files_disparity_and_records(tmp_path):
    root = run(parse_world(WORLD.format(rig=RIG)), RunOptions(tmp_path / "out")).root
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    assert len(records) == 2
    for record in records:
        name = f"{record['frame']:06d}"
        rig = record["rig"]
        assert rig["first"] == "left" and set(rig["cameras"]) == {"left", "right"}
        assert rig["cameras"]["left"]["pose"] == np.eye(4).tolist()
        right = rig["cameras"]["right"]
        assert np.allclose(
            right["pose"], [[1, 0, 0, 0.3], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]
        )
        assert record["files"]["image"] == f"images/{name}.jpg"
        assert record["files"]["disparity"] == f"disparity/{name}.npy"
        assert right["files"] == {
            "image": f"cameras/right/images/{name}.jpg",
            "instance": f"cameras/right/instances/{name}.png",
            "depth": f"cameras/right/depth/{name}.npy",
        }
        for path in [*record["files"].values(), *right["files"].values()]:
            assert (root / path).is_file()
        depth = np.load(root / record["files"]["depth"])
        disparity = np.load(root / record["files"]["disparity"])
        assert disparity.dtype == np.float32 and disparity.shape == (96, 128)
        K = np.array(record["camera"]["K"])
        seen = depth > 0
        np.testing.assert_allclose(disparity[seen], 0.3 * K[0, 0] / depth[seen], rtol=1e-6)
        assert (disparity[~seen] == 0).all()
        right_depth = np.load(root / right["files"]["depth"])
        assert not np.array_equal(right_depth, depth)
        assert len(right["objects"]) >= 1 and right["camera"]["K"] == record["camera"]["K"]
    coco = json.loads((root / "annotations/instances.json").read_text())
    assert [image["file_name"] for image in coco["images"]] == ["000000.jpg", "000001.jpg"]


def test_the_first_camera_of_a_rig_is_the_single_cameras_frame():
    single = Renderer(parse_world(WORLD.format(rig="")))
    try:
        alone = single.frame(1)
    finally:
        single.close()
    left = _frame(1)
    for name in ("color", "instance", "depth"):
        assert getattr(alone.passes, name).tobytes() == getattr(left.passes, name).tobytes()
    assert [o.record() for o in alone.objects] == [o.record() for o in left.objects]
    assert not alone.views and alone.disparity is None and "rig" not in alone.record()


@pytest.mark.parametrize(
    "rig, message",
    [
        (RIG + "\n[camera.lens]\nk1 = -0.1", r"rectified pair.*remove \[camera.lens\]"),
        ("[camera.rig]\nbaseline = 0", r"baseline"),
        ('[camera.rig]\nkind = "trinocular"', r"stereo"),
    ],
)
def test_a_bad_rig_is_named_with_its_fix(rig, message):
    with pytest.raises(WorldError, match=message):
        parse_world(WORLD.format(rig=rig))


def test_a_drawn_lens_in_a_rig_is_named_with_its_fix():
    from simulator.errors import RenderError

    drawn = WORLD.format(rig=RIG) + '[[randomizers]]\ntype = "camera_lens"\nk1 = -0.05\n'
    renderer = Renderer(parse_world(drawn))
    try:
        with pytest.raises(RenderError, match=r"rectified pair.*remove the camera_lens randomizer"):
            renderer.frame(0)
    finally:
        renderer.close()


RING = """
[world]
seed = 5
frames = 1
[camera]
resolution = [96, 96]
fov = 40
position = [0, -4, 2]
target = [0, 0, 0.5]
[camera.rig]
kind = "ring"
count = 4
[output]
labels = ["boxes", "masks", "instance", "depth"]
writers = ["native"]
[[spawners]]
type = "primitive"
shape = "sphere"
size = 1.0
position = [0, 0, 0.5]
"""


def test_a_ring_of_views_circles_the_target_each_seeing_what_opencv_projects():
    renderer = Renderer(parse_world(RING))
    try:
        labels = renderer.frame(0)
    finally:
        renderer.close()
    assert labels.camera_name == "cam0" and sorted(labels.views) == ["cam1", "cam2", "cam3"]
    first = labels.scene.camera
    target = np.array([0.0, 0.0, 0.5])
    areas = [labels.objects[0].area]
    for k, name in enumerate(["cam1", "cam2", "cam3"], start=1):
        view = labels.views[name]
        camera = view.scene.camera
        # turned about the vertical through the target: same distance and height
        angle = np.radians(90.0 * k)
        expected = target + np.array(
            [
                np.cos(angle) * first.position[0] - np.sin(angle) * first.position[1],
                np.sin(angle) * first.position[0] + np.cos(angle) * first.position[1],
                first.position[2] - target[2],
            ]
        )
        assert np.allclose(camera.position, expected, atol=1e-9)
        # its pose in the rig takes its points into the first camera's frame
        np.testing.assert_allclose(
            view.rig_pose, first.world_to_cam() @ camera.cam_to_world(), atol=1e-9
        )
        # the sphere at the target projects, by OpenCV, to the middle of its box
        rvec, tvec = _opencv_pose(camera)
        ((u, v),) = cv2.projectPoints(target[None], rvec, tvec, camera.K, None)[0][:, 0]
        x, y, w, h = view.objects[0].bbox
        assert abs(x + w / 2 - (u + 0.5)) < 0.75 and abs(y + h / 2 - (v + 0.5)) < 0.75
        areas.append(view.objects[0].area)
    # a sphere looks the same from every side
    assert max(areas) - min(areas) <= 0.02 * max(areas)
    record = labels.record()["rig"]
    assert record["first"] == "cam0" and sorted(record["cameras"]) == [
        "cam0",
        "cam1",
        "cam2",
        "cam3",
    ]


def test_a_setting_of_the_other_kind_of_rig_is_refused():
    with pytest.raises(WorldError, match="`baseline` is not a setting of a ring rig"):
        parse_world(RING.replace("count = 4", "baseline = 0.2"))


@pytest.mark.parametrize("text", [RING, WORLD.format(rig=RIG)], ids=["ring", "stereo"])
def test_a_rigs_world_is_rebuilt_from_its_dump_as_worker_processes_do(text):
    from simulator.world.load import restore_world, world_state

    world = parse_world(text)
    again = restore_world(world_state(world))
    assert again.camera.rig == world.camera.rig
    assert again.model_dump(mode="json") == world.model_dump(mode="json")
