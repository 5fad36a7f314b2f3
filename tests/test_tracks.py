"""3D scene flow and point tracks (labels `scene_flow` and `point_tracks`), against motions
known independently: a plane gliding at a known velocity, a dollying camera, a cube gliding
and turning (its points posed by scipy and projected by OpenCV, their visibility from which
faces look at the camera), a ball hidden by a wall crossing it (rays cast by trimesh); the
files read back, the same bytes for any worker count and after a resumed kill."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import trimesh
from datasets import dataset_files, resume_run, run_killed_at
from scipy.spatial.transform import Rotation

from simulator.capture.frame import Renderer
from simulator.errors import WorldError
from simulator.labels.records import FLOW_NO_FRAME, FLOW_VALID
from simulator.run.runner import RunOptions, run
from simulator.scene import meshes
from simulator.world.load import load_world

W, H, FOV, FPS = 128, 96, 60.0, 10.0
F = (W / 2) / np.tan(np.radians(FOV / 2))  # focal length, pixels
K = np.array([[F, 0, W / 2 - 0.5], [0, F, H / 2 - 0.5], [0, 0, 1]])
EYE = np.array([0.0, -5.0, 0.0])
# The camera at EYE looks along +Y: camera x is world X, camera y is world -Z, z is world Y.
TO_CAMERA = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])

WORLD = f"""
[world]
seed = 3
frames = {{frames}}
[camera]
resolution = [{W}, {H}]
fov = {FOV}
position = {EYE.tolist()}
target = [0, 0, 0]
[clip]
frames = {{clip}}
fps = {FPS}
tracks = {{tracks}}
{{objects}}
[output]
labels = ["boxes", "instance", "depth", {{labels}}]
writers = ["native"]
[plugins]
paths = ["glide.py"]
"""

# Test motion: every entity named in VELOCITY glides from where it is at its velocity (m/s)
# and turns about world Z at its rate (degrees/s); the others stay put.
GLIDE = """
import numpy as np
from simulator import Motion, Params, Randomizer, hookimpl

VELOCITY = {velocity}
TURN = {turn}


class Glide(Randomizer[Params]):
    name = "glide"

    def randomize(self, ctx, entities):
        t = ctx.clip.times()[:, None]
        for entity in entities:
            if entity.source not in VELOCITY:
                continue
            velocity = np.array(VELOCITY[entity.source], float)
            turn = np.array([TURN.get(entity.source, 0.0), 0.0, 0.0])
            positions, hprs = entity.position + velocity * t, entity.hpr + turn * t
            spins = np.repeat([np.radians(turn[::-1])], len(t), 0)
            entity.motion = Motion(positions, hprs, np.repeat([velocity], len(t), 0), spins)


@hookimpl
def sim_register_randomizers(register):
    register(Glide)
"""

PLANE = """
[[spawners]]
type = "primitive"
name = "plane"
shape = "plane"
size = 2.0
hpr = [0, 90, 0]
"""
CUBE = """
[[spawners]]
type = "primitive"
name = "cube"
shape = "box"
size = 1.2
hpr = [40, 0, 0]
position = [-0.6, 0, 0.2]
"""
BALL = """
[[spawners]]
type = "primitive"
name = "ball"
shape = "sphere"
size = 1.0
[[spawners]]
type = "primitive"
name = "wall"
shape = "box"
size = 1.5
distractor = true
position = [-1.6, -2, 0]
"""
GLIDING = '[[randomizers]]\ntype = "glide"\n'
DOLLY = '[[randomizers]]\ntype = "camera_motion"\nmotion = "dolly"\nvelocity = [1, 0, 0]\n'


def _world(
    tmp_path: Path,
    objects: str,
    labels: str,
    velocity: dict | None = None,
    turn: dict | None = None,
    frames: int = 3,
    clip: int = 3,
    tracks: int = 256,
    name: str = "world.toml",
) -> Path:
    (tmp_path / "glide.py").write_text(GLIDE.format(velocity=velocity or {}, turn=turn or {}))
    path = tmp_path / name
    text = WORLD.format(frames=frames, clip=clip, tracks=tracks, objects=objects, labels=labels)
    path.write_text(text)
    return path


def _frames(path: Path) -> list:
    world = load_world(path)
    renderer = Renderer(world, [])
    try:
        return [renderer.frame(k) for k in range(world.world.frames)]
    finally:
        renderer.close()


def _points(frame) -> np.ndarray:
    """Each pixel's surface point in the frame's camera coordinates, from its depth."""
    v, u = np.mgrid[0:H, 0:W].astype(float)
    z = frame.passes.depth.astype(float)
    return np.stack([(u - K[0, 2]) / F * z, (v - K[1, 2]) / F * z, z], -1)


# --- scene flow -------------------------------------------------------------------------


def test_a_gliding_plane_has_its_velocity_over_the_frame_rate_as_scene_flow(tmp_path):
    velocity = [1.0, 0.5, 0.5]  # right, away from the camera, up
    path = _world(tmp_path, PLANE + GLIDING, '"flow", "scene_flow"', {"plane": velocity})
    frames = _frames(path)
    expected = TO_CAMERA @ np.array(velocity) / FPS  # (0.1, -0.05, 0.05) in camera axes
    for direction, sign in (("forward", 1), ("backward", -1)):
        scene = frames[1].scene_flow[direction]
        valid = scene.flags == FLOW_VALID
        plane = frames[1].passes.instance > 0
        assert scene.vectors.dtype == np.float32 and scene.vectors.shape == (H, W, 3)
        assert valid.sum() > 0.8 * plane.sum() and not (valid & ~plane).any()
        np.testing.assert_allclose(
            scene.vectors[valid], np.tile(sign * expected, (valid.sum(), 1)), atol=1e-4
        )
        assert (scene.vectors[~valid] == 0).all()
        # The same flags as the optical flow, and the moved point projects where it says.
        optical = frames[1].flow[direction]
        assert (scene.flags == optical.flags).all()
        moved = (_points(frames[1]) + scene.vectors)[valid]
        pixels = moved[:, :2] / moved[:, 2:] * F + K[:2, 2]
        rows, cols = np.nonzero(valid)
        np.testing.assert_allclose(
            pixels - np.stack([cols, rows], 1), optical.vectors[valid], atol=2e-3
        )
    assert (
        frames[0].scene_flow["backward"].flags[frames[0].passes.instance > 0] == FLOW_NO_FRAME
    ).all()
    assert (frames[2].scene_flow["forward"].vectors == 0).all()


def test_a_camera_dollying_past_a_still_scene_gives_minus_its_motion(tmp_path):
    path = _world(tmp_path, PLANE + DOLLY, '"scene_flow"')
    frames = _frames(path)
    assert frames[0].flow == {}, "only the label asked for"
    scene = frames[0].scene_flow["forward"]
    valid = scene.flags == FLOW_VALID
    assert valid.sum() > 0.8 * (frames[0].passes.instance > 0).sum()
    # The camera moves 0.1 m right (camera +x) a frame: every point, seen from it, 0.1 m left.
    np.testing.assert_allclose(
        scene.vectors[valid], np.tile([-0.1, 0, 0], (valid.sum(), 1)), atol=1e-4
    )


# --- point tracks -----------------------------------------------------------------------


def _cube_pose(k: int) -> tuple[np.ndarray, np.ndarray]:
    """The cube's rotation and position at frame k (gliding at CUBE_V, turning TURN deg/s)."""
    t = k / FPS
    rotation = Rotation.from_euler("z", 40 + CUBE_TURN * t, degrees=True).as_matrix()
    return rotation, np.array([-0.6, 0, 0.2]) + np.array(CUBE_V) * t


CUBE_V, CUBE_TURN = [0.8, 0.0, -0.2], 45.0


def _cube_tracks(tmp_path: Path) -> dict:
    path = _world(
        tmp_path,
        CUBE + GLIDING,
        '"point_tracks"',
        {"cube": CUBE_V},
        {"cube": CUBE_TURN},
        frames=6,
        clip=6,
        tracks=400,
    )
    root = run(load_world(path), RunOptions(tmp_path / "out")).root
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    assert [("point_tracks" in r["files"]) for r in records] == [False] * 5 + [True]
    with np.load(root / records[-1]["files"]["point_tracks"]) as npz:
        return dict(npz)


def test_points_on_a_gliding_turning_cube_move_as_their_projections(tmp_path):
    tracks = _cube_tracks(tmp_path)
    points = tracks["object_points"].astype(float)
    n, t = tracks["occluded"].shape
    assert t == 6 and tracks["target_points"].shape == (n, 6, 2)
    assert 100 < n <= 400 and set(tracks["instance_ids"]) == {1}
    assert (tracks["frames"] == np.arange(6)).all()
    # On the unit box's surface (the mesh; the entity's scale sizes it), spread over its faces.
    assert np.allclose(np.abs(points).max(axis=1), 0.5, atol=1e-6)
    axis = np.argmax(np.abs(points), axis=1)
    faces = axis * 2 + (points[np.arange(len(points)), axis] > 0)
    assert len(set(faces.tolist())) >= 2
    rvec = cv2.Rodrigues(TO_CAMERA)[0]
    tvec = -TO_CAMERA @ EYE
    for k in range(6):
        rotation, position = _cube_pose(k)
        world = points * 1.2 @ rotation.T + position
        pixels, _ = cv2.projectPoints(world.reshape(-1, 1, 3), rvec, tvec, K, None)
        # sim's 2D labels are in pixel-edge coordinates: OpenCV's plus 0.5 (docs/labels.md)
        edges = pixels.reshape(-1, 2) + 0.5
        np.testing.assert_allclose(tracks["target_points"][:, k], edges, atol=1e-3)
        np.testing.assert_allclose(tracks["depth"][:, k], (world - EYE)[:, 1], atol=1e-5)
        # A convex object hides nothing but its own far side: a point is seen where its face
        # looks at the camera (away from the cube's edges, where pixels sample other faces).
        normal = np.zeros_like(points)
        normal[np.arange(n), axis] = np.sign(points[np.arange(n), axis])
        facing = np.einsum("ij,ij->i", normal @ rotation.T, EYE - world)
        distances = np.linalg.norm(EYE - world, axis=1)
        edge = np.sort(np.abs(points), axis=1)[:, 1]  # the largest coordinate but the face's
        clear = (np.abs(facing / distances) > 0.15) & (edge < 0.42)
        assert clear.sum() > 0.6 * n
        seen = ~tracks["occluded"][:, k]
        assert (seen[clear] == (facing[clear] > 0)).all(), k
    first = np.argmax(~tracks["occluded"], axis=1)
    assert (tracks["query_points"][:, 0] == first).all()
    at = tracks["target_points"][np.arange(n), first]
    np.testing.assert_array_equal(tracks["query_points"][:, 1:], at[:, ::-1])  # (t, y, x)


def test_points_never_seen_are_dropped(tmp_path):
    tracks = _cube_tracks(tmp_path)
    assert (~tracks["occluded"]).any(axis=1).all(), "every point kept is seen at some frame"
    index = tracks["point_index"]
    assert (np.diff(index) > 0).all() and index.max() < 400
    assert len(index) < 400, "the cube's far faces hold points never seen in the clip"


def test_a_ball_behind_a_crossing_wall_is_occluded_while_hidden(tmp_path):
    step = 0.8  # the wall's move a frame: x = -1.6, -0.8 (half the ball hidden), 0 (all), ...
    velocity = {"wall": [step * FPS, 0, 0]}
    path = _world(tmp_path, BALL + GLIDING, '"point_tracks"', velocity, frames=5, clip=5)
    frames = _frames(path)
    box = meshes.box()
    for frame in frames:
        k = frame.clip.frame
        rows = frame.point_tracks
        assert rows.frame == k and rows.clip == 0
        ball = rows.points.object_points  # the ball: at the origin, unturned, 1 m across
        wall = trimesh.Trimesh(box.vertices * 1.5 + [-1.6 + step * k, -2, 0], box.triangles)
        pixels = (ball - EYE) @ TO_CAMERA.T
        pixels = pixels[:, :2] / pixels[:, 2:] * F + K[:2, 2]
        np.testing.assert_allclose(rows.xy, pixels + 0.5, atol=1e-6)  # pixel-edge coordinates
        # The ball hides its own far side: a point is seen where it faces the camera.
        views = EYE - ball
        cosine = np.einsum("ij,ij->i", ball / 0.5, views / np.linalg.norm(views, axis=1)[:, None])
        # Rays from the camera through the point's pixel: blocked by the wall? Asserted only
        # where the rays through the pixels 2 px around it agree (clear of the wall's outline).
        blocked = []
        for du, dv in ((0, 0), (2, 0), (-2, 0), (0, 2), (0, -2)):
            x = (pixels[:, 0] + du - K[0, 2]) / F
            y = (pixels[:, 1] + dv - K[1, 2]) / F
            directions = np.column_stack([x, np.ones(len(ball)), -y])  # camera axes to world
            blocked.append(wall.ray.intersects_any(np.tile(EYE, (len(ball), 1)), directions))
        hidden = blocked[0]
        # Not grazing the silhouette either, where the pixels around a point sample the
        # surface at other depths than its own (flow's tolerance: docs/time.md).
        sure = np.all(np.array(blocked) == hidden, axis=0) & (np.abs(cosine) > 0.3)
        assert sure.sum() > 0.5 * len(ball)
        expected = (cosine > 0) & ~hidden
        assert (rows.visible[sure] == expected[sure]).all(), k
        if k == 2:  # the wall right in front of the ball
            assert hidden.all() and not rows.visible.any()
        if k == 1:
            assert 0 < (sure & hidden & (cosine > 0)).sum() < (sure & (cosine > 0)).sum()
        if k in (0, 4):
            assert not hidden.any() and rows.visible.sum() > 0.3 * len(ball)


# --- the files, and reproducing them ------------------------------------------------------

MOVING = (
    CUBE
    + PLANE.replace("size = 2.0", "size = 1.0").replace(
        "hpr = [0, 90, 0]", "hpr = [0, 90, 0]\nposition = [1, 0.5, -0.5]"
    )
    + GLIDING
    + DOLLY
)


def _moving(tmp_path: Path, name: str = "world.toml") -> Path:
    velocity = {"cube": CUBE_V, "plane": [0, 0, 1.0]}
    labels = '"flow", "scene_flow", "point_tracks"'
    return _world(tmp_path, MOVING, labels, velocity, {"cube": CUBE_TURN}, 8, 4, 64, name)


def test_scene_flow_and_tracks_files_read_back(tmp_path):
    root = run(load_world(_moving(tmp_path)), RunOptions(tmp_path / "out")).root
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    files = records[1]["files"]
    vectors = np.load(root / files["scene_flow_forward"])
    flags = cv2.imread(str(root / files["scene_flow_forward_flags"]), cv2.IMREAD_UNCHANGED)
    assert vectors.dtype == np.float32 and vectors.shape == (H, W, 3) and flags.shape == (H, W)
    assert (
        flags == cv2.imread(str(root / files["flow_forward_flags"]), cv2.IMREAD_UNCHANGED)
    ).all()
    assert (vectors[flags != FLOW_VALID] == 0).all() and (flags == FLOW_VALID).any()
    assert sorted(p.name for p in (root / "tracks").iterdir()) == ["000000.npz", "000001.npz"]
    assert [r["files"].get("point_tracks") for r in records[3::4]] == [
        "tracks/000000.npz",
        "tracks/000001.npz",
    ]
    with np.load(root / "tracks" / "000001.npz") as npz:
        assert npz["target_points"].dtype == np.float32 and npz["occluded"].dtype == bool
        assert npz["query_points"].shape == (len(npz["point_index"]), 3)


def test_one_and_two_workers_write_the_same_bytes(tmp_path):
    world = load_world(_moving(tmp_path))
    one = run(world, RunOptions(tmp_path / "one", shard_size=4)).root
    two = run(world, RunOptions(tmp_path / "two", shard_size=4, workers=2)).root
    assert dataset_files(one) == dataset_files(two)
    assert any(p.startswith("tracks/") for p in dataset_files(one))


def test_a_run_started_mid_clip_tracks_its_frames_of_the_clip(tmp_path):
    world = load_world(_moving(tmp_path))
    whole = run(world, RunOptions(tmp_path / "whole")).root
    part = run(world, RunOptions(tmp_path / "part", start=2, frames=4)).root
    with (
        np.load(whole / "tracks" / "000000.npz") as a,
        np.load(part / "tracks" / "000000.npz") as b,
    ):
        assert (b["frames"] == [2, 3]).all()
        # The same points (drawn from the clip's stream), followed over the frames rendered.
        kept = np.isin(a["point_index"], b["point_index"])
        assert (a["point_index"][kept] == b["point_index"]).all()
        np.testing.assert_array_equal(a["target_points"][kept][:, 2:], b["target_points"])


def test_a_kill_mid_clip_resumes_to_the_same_bytes(tmp_path):
    path = _moving(tmp_path)
    reference = dataset_files(
        run(load_world(path), RunOptions(tmp_path / "ref", shard_size=4)).root
    )
    out = tmp_path / "out"
    run_killed_at(path, out, at=5, shard_size=4)  # mid-way through the second clip
    assert (out / "tracks" / "000000.npz").is_file() and not (
        out / "tracks" / "000001.npz"
    ).exists()
    resume_run(path, out, shard_size=4)
    assert dataset_files(out) == reference


# --- refused at validation ---------------------------------------------------------------

PLAIN = """
[camera]
resolution = [64, 48]
[[spawners]]
type = "primitive"
[output]
labels = ["boxes", "{label}"]
"""


@pytest.mark.parametrize("label", ["scene_flow", "point_tracks"])
def test_time_labels_need_a_clip(write_world, label):
    path = write_world(PLAIN.format(label=label))
    with pytest.raises(WorldError, match=r"add a \[clip\] section") as caught:
        load_world(path)
    assert label in str(caught.value)


FAIL = """
from simulator import Params, Randomizer, hookimpl


class Fails(Randomizer[Params]):
    name = "fails"
    timing = "frame"

    def randomize(self, ctx, entities):
        if ctx.frame == 3:  # the first clip's last frame
            raise RuntimeError("this frame fails")


@hookimpl
def sim_register_randomizers(register):
    register(Fails)
"""


def test_a_clip_whose_last_frame_failed_still_gets_its_tracks(tmp_path):
    # Tracks alone: with flow, the frame before would fail too (its flow draws this one).
    velocity = {"cube": CUBE_V, "plane": [0, 0, 1.0]}
    path = _world(tmp_path, MOVING, '"point_tracks"', velocity, {"cube": CUBE_TURN}, 8, 4, 64)
    (tmp_path / "fail.py").write_text(FAIL)
    text = path.read_text().replace('paths = ["glide.py"]', 'paths = ["glide.py", "fail.py"]')
    path.write_text(text + '[[randomizers]]\ntype = "fails"\n')
    root = run(load_world(path), RunOptions(tmp_path / "out", skip_failed=True)).root
    with np.load(root / "tracks" / "000000.npz") as npz:
        assert (npz["frames"] == [0, 1, 2]).all() and npz["target_points"].shape[1] == 3
    with np.load(root / "tracks" / "000001.npz") as npz:
        assert (npz["frames"] == [0, 1, 2, 3]).all()


def test_a_clip_without_labeled_objects_has_no_tracks(tmp_path):
    floor = PLANE.replace('name = "plane"', 'name = "plane"\ndistractor = true')
    path = _world(tmp_path, floor + DOLLY, '"point_tracks"')
    root = run(load_world(path), RunOptions(tmp_path / "out")).root
    with np.load(root / "tracks" / "000000.npz") as npz:
        assert npz["target_points"].shape == (0, 3, 2) and npz["query_points"].shape == (0, 3)
