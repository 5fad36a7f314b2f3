"""Optical flow, exact from geometry, against motions whose flow is known independently: a
plane translating parallel to the image, a rotating sphere (points found by trimesh's ray
casting, turned by scipy, projected by OpenCV), a moving camera; forward and backward flow
agree; KITTI's PNG reads back through OpenCV; track ids stay through an occlusion."""

import json

import cv2
import numpy as np
import pytest
import trimesh
from scipy.spatial.transform import Rotation

from simulator import Motion, Params, Randomizer, hookimpl
from simulator.capture.frame import Renderer
from simulator.labels.records import FLOW_NO_FRAME, FLOW_OCCLUDED, FLOW_OUTSIDE, FLOW_VALID
from simulator.run.runner import RunOptions, run
from simulator.scene import meshes
from simulator.world.load import parse_world

W, H, FOV = 96, 72, 60.0
F = (W / 2) / np.tan(np.radians(FOV / 2))  # focal length, pixels

# The camera at (0, -5, 0) looks along +Y: camera x is world X, camera y is world -Z.
WORLD = f"""
[world]
seed = 1
frames = 3
[camera]
resolution = [{W}, {H}]
fov = {FOV}
position = [0, -5, 0]
target = [0, 0, 0]
[clip]
frames = 3
fps = 10
{{objects}}
[output]
labels = ["boxes", "masks", "visibility", "instance", "depth", "flow"]
"""
PLANE = """
[[spawners]]
type = "primitive"
name = "plane"
shape = "plane"
size = 2.0
hpr = [0, 90, 0]
"""
SPHERE = """
[[spawners]]
type = "primitive"
name = "ball"
shape = "sphere"
size = 1.6
"""
STEP = np.array([0.1, 0.0, 0.05])  # the plane's move per frame: +X (right), +Z (up)
TURN = 10.0  # the sphere's turn per frame, degrees about +Z


class Moves(Randomizer[Params]):
    """Test motion: the plane translates by STEP per frame, the sphere turns by TURN."""

    name = "moves"

    def randomize(self, ctx, entities):
        k = np.arange(ctx.clip.frames)[:, None]
        for entity in entities:
            if entity.source == "plane":
                positions, hprs = entity.position + STEP * k, np.repeat([entity.hpr], len(k), 0)
            else:
                positions = np.repeat([entity.position], len(k), 0)
                hprs = entity.hpr + np.array([TURN, 0, 0]) * k
            zeros = np.zeros((len(k), 3))
            entity.motion = Motion(positions, hprs, zeros, zeros)


class MovesPlugin:
    @hookimpl
    def sim_register_randomizers(self, register):
        register(Moves)


def _frames(objects: str, moves: bool = True, camera: str = "") -> list:
    text = WORLD.format(objects=objects + ('[[randomizers]]\ntype = "moves"\n' if moves else ""))
    renderer = Renderer(parse_world(text + camera), plugins=[MovesPlugin()])
    try:
        return [renderer.frame(k) for k in range(3)]
    finally:
        renderer.close()


def test_a_plane_translating_parallel_to_the_image_has_one_constant_flow():
    frames = _frames(PLANE)
    flow = frames[1].flow["forward"]
    valid = flow.flags == FLOW_VALID
    plane = frames[1].passes.instance > 0
    # every pixel of the plane is seen at the next frame too, but those it leaves behind
    assert valid.sum() > 0.9 * plane.sum()
    assert not (valid & ~plane).any()
    expected = np.array([F * STEP[0] / 5.0, -F * STEP[2] / 5.0])  # depth 5 m; up is -v
    np.testing.assert_allclose(
        flow.vectors[valid], np.broadcast_to(expected, (valid.sum(), 2)), atol=0.01
    )
    backward = frames[1].flow["backward"]
    back = backward.flags == FLOW_VALID
    np.testing.assert_allclose(
        backward.vectors[back], -np.broadcast_to(expected, (back.sum(), 2)), atol=0.01
    )
    assert (flow.vectors[~valid] == 0).all()


def test_the_clip_ends_flag_the_frames_they_lack():
    frames = _frames(PLANE)
    plane = frames[0].passes.instance > 0
    assert (frames[0].flow["backward"].flags[plane] == FLOW_NO_FRAME).all()
    assert (frames[2].flow["forward"].flags[frames[2].passes.instance > 0] == FLOW_NO_FRAME).all()
    assert (frames[0].flow["forward"].flags[~plane] == 0).all()


def _camera_rays() -> tuple[np.ndarray, np.ndarray]:
    """Each pixel centre's ray from the camera at (0, -5, 0), in world coordinates."""
    v, u = np.mgrid[0:H, 0:W].astype(float)
    x, y = (u - (W / 2 - 0.5)) / F, (v - (H / 2 - 0.5)) / F
    directions = np.stack([x, np.ones_like(x), -y], -1).reshape(-1, 3)
    origins = np.tile([0.0, -5.0, 0.0], (len(directions), 1))
    return origins, directions


def _project(points: np.ndarray) -> np.ndarray:
    """OpenCV's projection for the camera at (0, -5, 0) looking along +Y."""
    rotation = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # world -> camera axes
    translation = -rotation @ np.array([0.0, -5.0, 0.0])
    K = np.array([[F, 0, W / 2 - 0.5], [0, F, H / 2 - 0.5], [0, 0, 1]])
    rvec, _ = cv2.Rodrigues(rotation)
    pixels, _ = cv2.projectPoints(points.reshape(-1, 1, 3), rvec, translation, K, None)
    return pixels.reshape(-1, 2)


def test_a_rotating_sphere_flows_as_its_turned_surface_points_project():
    frames = _frames(SPHERE)
    mesh = meshes.sphere()
    ball = trimesh.Trimesh(mesh.vertices * 1.6, mesh.triangles, process=False)
    origins, directions = _camera_rays()
    hits, rays, _ = ball.ray.intersects_location(origins, directions, multiple_hits=False)
    turned = Rotation.from_euler("z", TURN, degrees=True).apply(hits)
    expected = np.zeros((H * W, 2))
    expected[rays] = _project(turned) - _project(hits)
    facing = np.zeros(H * W, bool)  # the turned point still faces the camera
    facing[rays] = np.einsum("ij,ij->i", turned, turned - [0, -5, 0]) < 0
    flow = frames[0].flow["forward"]
    valid = (flow.flags == FLOW_VALID).reshape(-1)
    seen = frames[0].passes.instance.reshape(-1) > 0
    assert valid.sum() > 0.8 * seen.sum()
    assert not (valid & ~facing).any(), "a point turned away from the camera is never valid"
    np.testing.assert_allclose(flow.vectors.reshape(-1, 2)[valid], expected[valid], atol=0.01)
    occluded = (flow.flags == FLOW_OCCLUDED).reshape(-1)
    assert (occluded | valid)[seen].all()
    # Facing the camera well (not grazing the silhouette, where the pixels around the point
    # sample the surface at other depths): always seen.
    normals = turned / np.linalg.norm(turned, axis=1, keepdims=True)
    views = turned - [0, -5, 0]
    cosine = np.zeros(H * W)
    cosine[rays] = -np.einsum("ij,ij->i", normals, views / np.linalg.norm(views, axis=1)[:, None])
    assert valid[seen & (cosine > 0.3)].all()


def test_a_moving_camera_gives_the_flow_of_its_motion():
    dolly = '[[randomizers]]\ntype = "camera_motion"\nmotion = "dolly"\nvelocity = [1, 0, 0]\n'
    frames = _frames(PLANE, moves=False, camera=dolly)
    flow = frames[0].flow["forward"]
    valid = flow.flags == FLOW_VALID
    assert valid.sum() > 0.9 * (frames[0].passes.instance > 0).sum()
    expected = np.array([-F * 0.1 / 5.0, 0.0])  # the camera moves 0.1 m right: all moves left
    np.testing.assert_allclose(
        flow.vectors[valid], np.broadcast_to(expected, (valid.sum(), 2)), atol=0.01
    )
    leaving = frames[0].flow["forward"].flags == FLOW_OUTSIDE
    assert leaving.any() == (frames[0].passes.instance[:, :2] > 0).any()


def test_forward_and_backward_flow_agree_where_both_are_seen():
    frames = _frames(
        SPHERE
        + PLANE.replace("size = 2.0", "size = 6.0").replace(
            "hpr = [0, 90, 0]", "hpr = [0, 90, 0]\nposition = [0, 2, 0]"
        )
    )
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
    # Interpolated between the four pixel centres around the point, on the same surface:
    # within what the flow's curvature bends over a pixel.
    error = np.abs(forward.vectors[rows, cols] + back)[usable]
    assert np.median(error) < 0.005 and error.max() < 0.1, (np.median(error), error.max())


def test_flow_files_as_npy_and_kitti_png_read_back(tmp_path):
    for fmt in ("npy", "kitti"):
        text = WORLD.format(objects=PLANE + '[[randomizers]]\ntype = "moves"\n')
        text = text.replace("fps = 10", f'fps = 10\nflow_format = "{fmt}"')
        (tmp_path / f"{fmt}.toml").write_text(text)
    from simulator.world.load import load_world

    npy = run(load_world(tmp_path / "npy.toml"), RunOptions(tmp_path / "npy")).root
    kitti = run(load_world(tmp_path / "kitti.toml"), RunOptions(tmp_path / "kitti")).root
    record = json.loads((npy / "frames.jsonl").read_text().splitlines()[1])
    vectors = np.load(npy / record["files"]["flow_forward"])
    flags = cv2.imread(str(npy / record["files"]["flow_forward_flags"]), cv2.IMREAD_UNCHANGED)
    assert vectors.dtype == np.float32 and vectors.shape == (H, W, 2)
    png = cv2.imread(str(kitti / "flow_forward" / "000001.png"), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16 and png.shape == (H, W, 3)
    valid = png[..., 0] == 1  # OpenCV reads B, G, R: B is KITTI's valid bit
    assert (valid == (flags == FLOW_VALID)).all()
    u = (png[..., 2].astype(float) - 2**15) / 64
    v = (png[..., 1].astype(float) - 2**15) / 64
    np.testing.assert_allclose(u[valid], vectors[..., 0][valid], atol=1 / 128)
    np.testing.assert_allclose(v[valid], vectors[..., 1][valid], atol=1 / 128)


@pytest.fixture(autouse=True)
def _in_process_plugins(monkeypatch):
    """run() builds its own Renderer: hand it the test's plugin object."""
    from simulator.run import runner

    real = runner.Renderer

    def with_moves(world, plugins_dirs=(), trace=None, *, plugins=()):
        return real(world, plugins_dirs, trace, plugins=[*plugins, MovesPlugin()])

    monkeypatch.setattr(runner, "Renderer", with_moves)


class Crossing(Randomizer[Params]):
    """Test motion: the wall crosses in front of the ball, hiding it at the clip's middle."""

    name = "crossing"

    def randomize(self, ctx, entities):
        frames = ctx.clip.frames
        for entity in entities:
            if entity.source == "wall":
                x = np.linspace(-2.5, 2.5, frames)
                positions = np.stack([x, np.full(frames, -2.0), np.zeros(frames)], 1)
                zeros = np.zeros((frames, 3))
                entity.motion = Motion(positions, np.zeros((frames, 3)), zeros, zeros)


class CrossingPlugin:
    @hookimpl
    def sim_register_randomizers(self, register):
        register(Crossing)


def test_track_ids_hold_through_an_occlusion(tmp_path):
    wall = '[[spawners]]\ntype = "primitive"\nname = "wall"\nshape = "box"\nsize = 1.5\n'
    text = WORLD.format(objects=SPHERE.replace("1.6", "0.8") + wall)
    text = text.replace("frames = 3\n", "frames = 5\n") + '[[randomizers]]\ntype = "crossing"\n'
    renderer = Renderer(parse_world(text), plugins=[CrossingPlugin()])
    try:
        frames = [renderer.frame(k) for k in range(5)]
    finally:
        renderer.close()
    ball = next(e.instance_id for e in frames[0].scene.entities if e.source == "ball")
    seen = [{o.instance_id for o in f.objects} for f in frames]
    assert ball in seen[0] and ball in seen[4], "seen before and after, with the same id"
    assert ball not in seen[2], "hidden behind the wall at the middle"
    track = [next(t for t in f.tracks() if t["track_id"] == ball) for f in frames]
    assert track[2]["area"] == 0 and track[2]["visibility"] == 0.0
    assert track[0]["area"] == track[4]["area"] > 0
    # Ball pixels of frame 1 that the wall covers at frame 2 are flagged occluded, not valid.
    flags = frames[1].flow["forward"].flags[frames[1].passes.instance == ball]
    assert (flags == FLOW_OCCLUDED).all()
