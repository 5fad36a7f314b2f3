"""Flow, scene flow and point tracks through a lens, against the Brown-Conrady formula written
out here: a plane gliding parallel to the image (each pixel's ray found by OpenCV's
undistortion, met with the plane, moved, distorted by the formula), a lens that changes
over the clip (the target projected through the next frame's lens), forward and backward
flow agreeing, tracked points where OpenCV's projectPoints puts them through the lens, a
fisheye's flow and tracks against cv2.fisheye, a point the lens folds into the image from
outside its view, and the same bytes for one and two workers."""

from pathlib import Path

import cv2
import numpy as np
from datasets import dataset_files

from simulator import Lens
from simulator.capture.frame import Renderer
from simulator.labels.flow import project
from simulator.labels.records import FLOW_OUTSIDE, FLOW_VALID
from simulator.run.runner import RunOptions, run
from simulator.scene.scene import CameraState
from simulator.world.load import load_world

W, H, FOV, FPS = 96, 72, 60.0, 10.0
F = (W / 2) / np.tan(np.radians(FOV / 2))
K = np.array([[F, 0, W / 2 - 0.5], [0, F, H / 2 - 0.5], [0, 0, 1]])
K1, K2, P1, P2 = -0.2, 0.04, 0.003, -0.002  # a barrel lens, a little decentred
STEP = np.array([0.15, 0.0, 0.05])  # the plane's move per frame (world: right and up)
TO_CAMERA = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # the camera at (0, -5, 0) looks +Y

WORLD = f"""
[world]
seed = 4
frames = {{frames}}
[camera]
resolution = [{W}, {H}]
fov = {FOV}
position = [0, -5, 0]
target = [0, 0, 0]
{{lens}}
[clip]
frames = 3
fps = {FPS}
[[spawners]]
type = "primitive"
name = "plane"
shape = "plane"
size = 8
hpr = [0, 90, 0]
{{more}}
[output]
labels = ["boxes", "instance", "depth", "flow", "scene_flow", "point_tracks"]
writers = ["native"]
[plugins]
paths = ["slide.py"]
"""
LENS = f"[camera.lens]\nk1 = {K1}\nk2 = {K2}\np1 = {P1}\np2 = {P2}"
MOVES = '[[randomizers]]\ntype = "slide"\n'


# Test motion: the plane slides by STEP per frame, the ball (if any) turns 10 degrees.
SLIDE = f"""
import numpy as np
from simulator import Motion, Params, Randomizer, hookimpl

STEP = np.array({STEP.tolist()})


class Slide(Randomizer[Params]):
    name = "slide"

    def randomize(self, ctx, entities):
        k = np.arange(ctx.clip.frames)[:, None]
        zeros = np.zeros((len(k), 3))
        for entity in entities:
            if entity.source == "plane":
                positions, hprs = entity.position + STEP * k, entity.hpr + zeros
            else:
                positions, hprs = entity.position + zeros, entity.hpr + [10.0, 0, 0] * k
            entity.motion = Motion(positions, hprs, zeros, zeros)


@hookimpl
def sim_register_randomizers(register):
    register(Slide)
"""


def _world(tmp_path: Path, lens: str = LENS, more: str = MOVES, frames: int = 3) -> Path:
    (tmp_path / "slide.py").write_text(SLIDE)
    path = tmp_path / "world.toml"
    path.write_text(WORLD.format(frames=frames, lens=lens, more=more))
    return path


def _frames(tmp_path: Path, lens: str = LENS, more: str = MOVES) -> list:
    renderer = Renderer(load_world(_world(tmp_path, lens, more)), [])
    try:
        return [renderer.frame(k) for k in range(3)]
    finally:
        renderer.close()


def _distort(points: np.ndarray, k1=K1, k2=K2, p1=P1, p2=P2) -> np.ndarray:
    """Brown-Conrady: camera points (N, 3) to distorted pixels (OpenCV's: pixel centres)."""
    x, y = points[:, 0] / points[:, 2], points[:, 1] / points[:, 2]
    r2 = x * x + y * y
    radial = 1 + k1 * r2 + k2 * r2 * r2
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return np.stack([F * xd + K[0, 2], F * yd + K[1, 2]], 1)


def _rays(pixels: np.ndarray, coefficients=(K1, K2, P1, P2)) -> np.ndarray:
    """Each distorted pixel's pinhole ray (x, y, 1), by OpenCV's iterative undistortion."""
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
    rays = cv2.undistortPointsIter(
        pixels.reshape(-1, 1, 2).astype(np.float64), K, np.array(coefficients), None, None, criteria
    )[:, 0]
    return np.column_stack([rays, np.ones(len(rays))])


def test_a_plane_gliding_parallel_to_the_image_flows_as_the_lens_distorts_its_points(tmp_path):
    frames = _frames(tmp_path)
    step = TO_CAMERA @ STEP  # in camera axes
    for direction, sign in (("forward", 1), ("backward", -1)):
        flow, scene = frames[1].flow[direction], frames[1].scene_flow[direction]
        valid = flow.flags == FLOW_VALID
        plane = frames[1].passes.instance > 0
        assert valid.sum() > 0.85 * plane.sum() > 0 and not (valid & ~plane).any()
        rows, cols = np.nonzero(valid)
        pixels = np.stack([cols, rows], 1).astype(float)
        points = _rays(pixels) * 5.0  # the plane is 5 m ahead, square to the axis
        np.testing.assert_allclose(_distort(points), pixels, atol=1e-6)  # the rays round-trip
        expected = _distort(points + sign * step) - _distort(points)
        np.testing.assert_allclose(flow.vectors[valid], expected, atol=0.01)
        # The scene flow is the lens's business only in which pixel sees which point.
        np.testing.assert_allclose(
            scene.vectors[valid], np.tile(sign * step, (len(rows), 1)), atol=1e-4
        )
        assert (flow.vectors[~valid] == 0).all()
    # Not constant as through a pinhole: the barrel squeezes the image's edges.
    assert np.ptp(frames[1].flow["forward"].vectors[valid], axis=0).max() > 0.1


def test_pixels_the_plane_carries_out_of_the_distorted_image_are_flagged_outside(tmp_path):
    frames = _frames(tmp_path)
    flow = frames[1].flow["forward"]
    rows, cols = np.nonzero(frames[1].passes.instance > 0)
    pixels = np.stack([cols, rows], 1).astype(float)
    landing = _distort(_rays(pixels) * 5.0 + TO_CAMERA @ STEP)
    out = (landing[:, 0] > W - 0.5) | (landing[:, 1] < -0.5)  # the plane moves right and up
    assert out.any()
    margin = (landing[:, 0] > W - 0.5 + 0.05) | (landing[:, 1] < -0.5 - 0.05)
    assert (flow.flags[rows[margin], cols[margin]] == FLOW_OUTSIDE).all()
    assert (flow.flags[rows[~out], cols[~out]] == FLOW_VALID).mean() > 0.95


def test_a_lens_changing_over_the_clip_is_the_next_frames_for_the_target(tmp_path):
    k1 = "k1 = { keyframes = [[0.0, -0.05], [1.0, -0.25]] }"
    still = f'[[randomizers]]\ntype = "camera_lens"\n{k1}\n'
    frames = _frames(tmp_path, lens="", more=still)
    lenses = [f.scene.camera.lens.coefficients[0] for f in frames]
    np.testing.assert_allclose(lenses, [-0.05, -0.15, -0.25])
    for direction, other in (("forward", 2), ("backward", 0)):
        flow = frames[1].flow[direction]
        valid = flow.flags == FLOW_VALID
        assert valid.sum() > 0.85 * (frames[1].passes.instance > 0).sum()
        rows, cols = np.nonzero(valid)
        pixels = np.stack([cols, rows], 1).astype(float)
        points = _rays(pixels, (lenses[1], 0, 0, 0)) * 5.0  # the still plane
        expected = _distort(points, lenses[other], 0, 0, 0) - pixels
        np.testing.assert_allclose(flow.vectors[valid], expected, atol=0.01)
        assert np.abs(expected).max() > 1.0  # the lens change alone moves the pixels


BALL = """
[[spawners]]
type = "primitive"
name = "ball"
shape = "sphere"
size = 1.4
position = [0, -1.5, 0]
"""


def test_forward_and_backward_flow_through_a_lens_agree_where_both_are_seen(tmp_path):
    frames = _frames(tmp_path, more=BALL + MOVES)
    forward, backward = frames[0].flow["forward"], frames[1].flow["backward"]
    ids = [f.passes.instance for f in frames[:2]]
    rows, cols = np.nonzero(forward.flags == FLOW_VALID)
    x = cols + forward.vectors[rows, cols, 0].astype(float)
    y = rows + forward.vectors[rows, cols, 1].astype(float)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    inside = (x0 >= 0) & (y0 >= 0) & (x0 < W - 1) & (y0 < H - 1)
    rows, cols, x, y, x0, y0 = (a[inside] for a in (rows, cols, x, y, x0, y0))
    back, usable = np.zeros((len(x), 2)), np.ones(len(x), bool)
    for dy in (0, 1):
        for dx in (0, 1):
            r, c = y0 + dy, x0 + dx
            usable &= (backward.flags[r, c] == FLOW_VALID) & (ids[1][r, c] == ids[0][rows, cols])
            weight = (1 - np.abs(x - c)) * (1 - np.abs(y - r))
            back += weight[:, None] * backward.vectors[r, c]
    assert usable.sum() > 0.5 * (ids[0] > 0).sum()
    error = np.abs(forward.vectors[rows, cols] + back)[usable]
    assert np.median(error) < 0.005 and error.max() < 0.1, (np.median(error), error.max())


def test_tracked_points_are_where_opencv_projects_them_through_the_lens(tmp_path):
    frames = _frames(tmp_path)
    rvec = cv2.Rodrigues(TO_CAMERA)[0]
    tvec = -TO_CAMERA @ np.array([0.0, -5.0, 0.0])
    lens = np.array([K1, K2, P1, P2])
    for k, frame in enumerate(frames):
        tracks = frame.point_tracks
        (plane,) = frame.scene.entities
        posed = tracks.points.object_points @ plane.matrix()[:3, :3].T + plane.matrix()[:3, 3]
        # on the plane as it slid: 8 m square, square to the view, STEP * k from the origin
        np.testing.assert_allclose(posed[:, 1], 0.0, atol=1e-9)
        assert (np.abs(posed[:, [0, 2]] - STEP[[0, 2]] * k) <= 4 + 1e-9).all()
        pixels = cv2.projectPoints(posed.reshape(-1, 1, 3), rvec, tvec, K, lens)[0][:, 0]
        np.testing.assert_allclose(tracks.xy, pixels + 0.5, atol=1e-3)
        inside = (pixels > 0.5).all(1) & (pixels < [W - 1.5, H - 1.5]).all(1)
        outside = (pixels < -0.5).any(1) | (pixels > [W - 0.5, H - 0.5]).any(1)
        assert inside.sum() > 20 and outside.sum() > 20
        assert tracks.visible[inside].all() and not tracks.visible[outside].any()


def test_flow_and_tracks_through_a_fisheye_are_opencvs_fisheye_projections(tmp_path):
    coefficients = np.array([0.05, -0.02, 0.004, -0.001])
    lens = '[camera.lens]\nmodel = "fisheye"\n' + "".join(
        f"k{n} = {c}\n" for n, c in enumerate(coefficients, 1)
    )
    frames = _frames(tmp_path, lens=lens)
    rvec = cv2.Rodrigues(TO_CAMERA)[0]
    tvec = -TO_CAMERA @ np.array([0.0, -5.0, 0.0])

    def fisheye(world: np.ndarray) -> np.ndarray:
        pixels = cv2.fisheye.projectPoints(world.reshape(-1, 1, 3), rvec, tvec, K, coefficients)
        return pixels[0][:, 0]

    for frame in frames:
        (plane,) = frame.scene.entities
        pose = plane.matrix()
        posed = frame.point_tracks.points.object_points @ pose[:3, :3].T + pose[:3, 3]
        np.testing.assert_allclose(frame.point_tracks.xy, fisheye(posed) + 0.5, atol=1e-3)
    # the flow: each valid pixel's point (its ray by OpenCV's fisheye undistortion, on the
    # plane 5 m ahead), moved, projected by OpenCV's fisheye model, minus the pixel
    flow = frames[1].flow["forward"]
    rows, cols = np.nonzero(flow.flags == FLOW_VALID)
    pixels = np.stack([cols, rows], 1).astype(np.float64).reshape(-1, 1, 2)
    criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-12)
    rays = cv2.fisheye.undistortPoints(pixels, K, coefficients, criteria=criteria)[:, 0]
    camera = np.column_stack([rays, np.ones(len(rays))]) * 5.0
    world = camera @ TO_CAMERA + [0.0, -5.0, 0.0]  # camera -> world (TO_CAMERA is a rotation)
    np.testing.assert_allclose(fisheye(world), pixels[:, 0], atol=1e-4)
    expected = fisheye(world + STEP) - pixels[:, 0]
    assert len(rows) > 0.85 * (frames[1].passes.instance > 0).sum()
    np.testing.assert_allclose(flow.vectors[rows, cols], expected, atol=0.01)


def test_a_point_the_lens_folds_into_the_image_from_outside_its_view_is_not_seen_there():
    # k1 = -0.4 bends a ray at 1.4 (normalized) back to 1.4 (1 - 0.4 * 1.96) = 0.30, inside a
    # 40-degree view (0.36 either side); the image itself stays short of the fold (0.61).
    fov = 40.0
    camera = CameraState(W, H, fov, lens=Lens("radtan", (-0.4,) + (0.0,) * 7))
    focal = (W / 2) / np.tan(np.radians(fov / 2))
    x = np.array([0.3, 1.4])
    u, _, inside = project(camera, x, np.zeros(2), np.ones(2), np.ones(2, bool))
    xd = x * (1 - 0.4 * x * x)
    np.testing.assert_allclose(u, focal * xd + W / 2 - 0.5, atol=1e-9)
    assert (np.abs(u - (W / 2 - 0.5)) < W / 2 - 0.5).all(), "both land in the image"
    assert inside.tolist() == [True, False]


def test_one_and_two_workers_write_the_same_lens_flow_and_tracks(tmp_path):
    world = load_world(_world(tmp_path, frames=6))
    one = run(world, RunOptions(tmp_path / "one", shard_size=3)).root
    two = run(world, RunOptions(tmp_path / "two", shard_size=3, workers=2)).root
    files = dataset_files(one)
    assert files == dataset_files(two)
    assert {"flow_forward/000004.npy", "tracks/000001.npz"} <= set(files)
