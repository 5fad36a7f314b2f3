"""Lenses: points distorted as OpenCV distorts them, and every pass and label of a lens frame
equal to the wide pinhole render remapped by OpenCV (its own undistortion and cv2.remap)."""

import cv2
import numpy as np
import pytest
from pycocotools import mask as coco_mask

from simulator.capture.frame import Renderer
from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import PluginError, WorldError
from simulator.labels import projection
from simulator.scene import meshes
from simulator.scene.lens import Lens
from simulator.scene.scene import CameraState, Entity
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 5
[camera]
resolution = {resolution}
fov = {fov}
position = [0.3, -4, 3]
target = [0, 0, 0]
{lens}
[output]
labels = ["boxes", "masks", "visibility", "boxes3d", "keypoints", "depth"]
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
{randomizers}
"""
BARREL = "[camera.lens]\nk1 = -0.2\nk2 = 0.05\np1 = 0.002\np2 = -0.003\nk3 = -0.002"
FISHEYE = '[camera.lens]\nmodel = "fisheye"\nk1 = 0.06\nk2 = -0.02\nk3 = 0.01\nk4 = -0.002'
RADTAN = Lens("radtan", (-0.2, 0.05, 0.002, -0.003, -0.002, 0.01, 0.002, 0.001))
FISH = Lens("fisheye", (0.06, -0.02, 0.01, -0.002))


def world(lens: str = "", randomizers: str = "", resolution="[96, 72]", fov=80.0):
    return parse_world(
        WORLD.format(lens=lens, randomizers=randomizers, resolution=resolution, fov=fov)
    )


def render(lens: str = "", index: int = 0, **camera):
    renderer = Renderer(world(lens, **camera))
    try:
        return renderer.frame(index)
    finally:
        renderer.close()


def _opencv_map(lens: dict, K: np.ndarray, render_K: np.ndarray, width: int, height: int):
    """Each distorted pixel's place in the pinhole render, by OpenCV's undistortion."""
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    points = np.stack([u.ravel(), v.ravel()], axis=1).reshape(-1, 1, 2)
    D = np.asarray(lens["coefficients"], dtype=np.float64)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 200, 1e-14)
    if lens["model"] == "fisheye":
        out = cv2.fisheye.undistortPoints(points, K, D, None, render_K, None, criteria)
    elif hasattr(cv2, "undistortPointsIter"):  # OpenCV 4
        out = cv2.undistortPointsIter(points, K, D, None, render_K, criteria)
    else:
        out = cv2.undistortPoints(points, K, D, None, render_K, None, criteria)
    out = out.reshape(height, width, 2).astype(np.float32)
    return out[:, :, 0], out[:, :, 1]


@pytest.mark.parametrize("lens", [BARREL, FISHEYE], ids=["radtan", "fisheye"])
def test_lens_frame_is_the_wide_pinhole_render_remapped(lens):
    frame = render(lens)
    camera = frame.record()["camera"]
    spec = camera["lens"]["render"]
    assert (spec["width"], spec["height"]) > (96, 72)  # drawn wider than the frame
    wide = render(resolution=f"[{spec['width']}, {spec['height']}]", fov=spec["fov"])
    map_x, map_y = _opencv_map(camera["lens"], np.array(camera["K"]), np.array(spec["K"]), 96, 72)
    # the render is wide enough: every distorted pixel's ray lands inside it
    assert map_x.min() >= 0 and map_x.max() <= spec["width"] - 1
    assert map_y.min() >= 0 and map_y.max() <= spec["height"] - 1
    nearest = cv2.remap(
        wide.passes.instance.astype(np.float32), map_x, map_y, cv2.INTER_NEAREST
    ).astype(np.uint32)
    assert (frame.passes.instance == nearest).all()
    depth = cv2.remap(wide.passes.depth, map_x, map_y, cv2.INTER_NEAREST)
    assert (frame.passes.depth == depth).all()
    color = cv2.remap(wide.passes.color, map_x, map_y, cv2.INTER_LINEAR)
    assert np.abs(frame.passes.color.astype(int) - color).max() <= 1  # fixed-point rounding
    assert len(frame.objects) >= 3
    for obj in frame.objects:
        rows, columns = np.nonzero(nearest == obj.instance_id)
        x0, y0 = columns.min(), rows.min()
        assert obj.bbox == [x0, y0, columns.max() + 1 - x0, rows.max() + 1 - y0]
        assert obj.area == len(rows)
        expected = coco_mask.encode(
            np.asfortranarray((nearest == obj.instance_id).astype(np.uint8))
        )
        assert obj.rle["counts"] == expected["counts"].decode()
        alone = (wide.passes.instance == obj.instance_id).sum()
        assert obj.unoccluded_pixels >= obj.area and alone > 0


def test_a_zero_lens_gives_the_pinhole_frame_byte_for_byte():
    pinhole, zero = render(), render("[camera.lens]\nk1 = 0.0")
    assert zero.record()["camera"]["lens"]["render"]["width"] == 96
    for name in ("color", "instance", "depth", "distance", "normal"):
        assert getattr(pinhole.passes, name).tobytes() == getattr(zero.passes, name).tobytes()
    assert [o.record() for o in pinhole.objects] == [o.record() for o in zero.objects]
    assert len(pinhole.objects) >= 3


def _world_to_camera(camera: CameraState):
    m = camera.world_to_cam()
    return cv2.Rodrigues(m[:3, :3])[0], m[:3, 3]


@pytest.mark.parametrize("lens", [RADTAN, FISH], ids=["radtan", "fisheye"])
def test_corners_and_keypoints_are_opencvs_projections(lens):
    camera = CameraState(640, 480, 70, position=[1, -5, 2], target=[0, 0, 0.3], lens=lens)
    entity = Entity(meshes.box(), position=[0.4, 0.2, 0.5], hpr=[30, 10, 5], scale=[1, 2, 0.5])
    entity.keypoints = {"tip": np.array([0.5, 0.5, 0.5]), "base": np.array([-0.5, 0, -0.5])}
    box = projection.box3d(entity, meshes.box().vertices, camera)
    rvec, tvec = _world_to_camera(camera)
    corners = np.asarray(box["corners_world"])
    D = np.asarray(lens.coefficients)
    if lens.model == "fisheye":
        expected = cv2.fisheye.projectPoints(corners[:, None], rvec, tvec, camera.K, D)[0]
    else:
        expected = cv2.projectPoints(corners, rvec, tvec, camera.K, D)[0]
    # pixel-edge coordinates are OpenCV's plus half a pixel
    assert np.asarray(box["corners_pixels"]) - 0.5 == pytest.approx(expected.reshape(-1, 2))
    points = np.array(
        [entity.matrix()[:3, :3] @ p + entity.position for p in entity.keypoints.values()]
    )
    if lens.model == "fisheye":
        expected = cv2.fisheye.projectPoints(points[:, None], rvec, tvec, camera.K, D)[0]
    else:
        expected = cv2.projectPoints(points, rvec, tvec, camera.K, D)[0]
    found = projection.keypoint_positions(entity, ["tip", "base"], camera, np.zeros((480, 640)))
    assert [k[3] for k in found] == [2, 2]
    assert np.array([k[1:3] for k in found]) - 0.5 == pytest.approx(expected.reshape(-1, 2))


def test_a_lens_that_folds_over_is_named_with_its_fix():
    static = world("[camera.lens]\nk1 = -0.9")
    with pytest.raises(WorldError, match=r"\[camera.lens\].*folds over.*smaller coefficients"):
        Pipeline(static, host_for(static)).build_scene(0)
    drawn = world(randomizers='[[randomizers]]\ntype = "camera_lens"\nk1 = -0.9')
    with pytest.raises(PluginError, match="lens a randomizer set"):
        Pipeline(drawn, host_for(drawn)).build_scene(0)


def test_camera_lens_draws_coefficients_per_frame():
    drawn = '[[randomizers]]\ntype = "camera_lens"\nk1 = { uniform = [-0.1, -0.05] }\np1 = 0.001'
    varied = world(randomizers=drawn)
    pipeline = Pipeline(varied, host_for(varied))
    lenses = [pipeline.build_scene(i).camera.record()["lens"] for i in range(4)]
    assert len({lens["coefficients"][0] for lens in lenses}) == 4
    for lens in lenses:
        assert lens["model"] == "radtan" and -0.1 <= lens["coefficients"][0] <= -0.05
        assert lens["coefficients"][1:] == [0.0, 0.001, 0.0, 0.0, 0.0, 0.0, 0.0]
    again = Pipeline(varied, host_for(varied)).build_scene(2).camera.record()["lens"]
    assert again == lenses[2]


def test_the_lens_figure_script_draws_its_three_panels(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).parent.parent / "docs" / "lens_figure.py"
    out = tmp_path / "lens.png"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True)
    image = cv2.imread(str(out))
    assert image.shape == (240, 960, 3)
    pinhole, barrel, fisheye = image[:, :320], image[:, 320:640], image[:, 640:]
    assert (pinhole != barrel).mean() > 0.2 and (barrel != fisheye).mean() > 0.05


# A spread of real lenses, mild to strong (OpenCV's order of coefficients).
SPREAD = [
    Lens("radtan", (-0.22, 0.05, 0.004, -0.006, -0.005, 0.0, 0.0, 0.0)),
    Lens("radtan", (0.15, -0.05, -0.003, 0.002, 0.01, 0.02, -0.01, 0.005)),
    Lens("radtan", (-0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)),
    Lens("radtan", (-0.3, 0.1, 0.0, 0.0, 0.0, 0.05, 0.0, 0.0)),
    Lens("radtan", (-0.3, 0.09, 0.0, 0.0, -0.01, 0.0, 0.0, 0.0)),
    Lens("fisheye", (0.06, -0.02, 0.01, -0.002)),
    Lens("fisheye", (-0.08, 0.03, -0.01, 0.003)),
    Lens("fisheye", (0.1, 0.04, -0.02, 0.004)),
]


def _map_error(lens: Lens, fov: float, width=320, height=240) -> float:
    """The lens map's largest miss (render pixels) against OpenCV's own undistortion."""
    camera = CameraState(width, height, fov, position=[0, -5, 2], target=[0, 0, 0], lens=lens)
    remap = camera.lens_map()
    assert remap is not None
    render_K = np.array(
        [
            [remap.focal, 0, (remap.width - 1) / 2],
            [0, remap.focal, (remap.height - 1) / 2],
            [0, 0, 1],
        ]
    )
    record = lens.record()
    map_x, map_y = _opencv_map(record, camera.K, render_K, width, height)
    return max(np.abs(remap.map_x - map_x).max(), np.abs(remap.map_y - map_y).max())


@pytest.mark.parametrize("fov", [50.0, 80.0])
@pytest.mark.parametrize("lens", SPREAD, ids=lambda lens: f"{lens.model}{lens.coefficients[:2]}")
def test_the_interpolated_lens_map_is_within_a_hundredth_of_a_pixel(lens, fov):
    assert _map_error(lens, fov) < 0.01


def test_cells_the_interpolation_misses_are_solved_exactly(monkeypatch):
    from simulator.scene import lens as lenses

    strong = SPREAD[3]
    monkeypatch.setattr(lenses, "GRID", 64)  # far too coarse for this lens: cells are redone
    lenses._map.cache_clear()
    assert _map_error(strong, 60.0) < 0.01
    monkeypatch.setattr(lenses, "CELL_ERROR", np.inf)  # the same grid, nothing redone
    lenses._map.cache_clear()
    assert _map_error(strong, 60.0) > 0.1
    lenses._map.cache_clear()
