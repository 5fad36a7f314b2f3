"""Motion blur drawn by Cycles ([clip] shutter with [render] renderer = "cycles"): a cube
gliding past a still camera changes the image only where it sweeps while the shutter is
open (the sweep's hull projected by OpenCV from the recorded camera); a plane sliding
parallel to the image leaves a streak of the shutter's length, each pixel covered for the
fraction of the open shutter its centre is; every label file is the same bytes as with the
shutter closed; the same seed gives the same bytes, in one process or two; an animated
exposure is its mean over the engine's sub-frames; a camera dollying past a still cube blurs
it as a still camera sees the cube glide the other way; a spinning plane is the mean of its
sharp frames over the shutter, and so is one stopping at the frame; a run of blurred frames
leaves no keys behind. Tiny frames (64 x 48), CPU device."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from datasets import dataset_files
from motion_plugins import glide_plugin

from simulator.capture.blur import subframe_times
from simulator.capture.clips import subframe_scene
from simulator.capture.frame import Renderer
from simulator.cycles import Shutter, open_cycles
from simulator.run.runner import RunOptions, run
from simulator.scene import meshes
from simulator.scene.motion import Motion
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene
from simulator.world.load import load_world

pytest.importorskip("bpy", reason="the cycles extra (pip install -e '.[cycles]')")

W, H, FPS, SHUTTER = 64, 48, 10.0, 0.5
F_PIXELS = (W / 2) / np.tan(np.radians(60 / 2))  # the focal length, pixels
CUBE, CUBE_AT, CUBE_V = 0.6, np.array([-0.6, 0.0, 0.0]), np.array([12.0, 0.0, 4.0])  # m, m/s
PLANE, PLANE_AT, PLANE_V = 2.0, np.array([-2.0, 0.0, 0.0]), np.array([20.0, 0.0, 0.0])

# The camera at (0, -5, 0) looks along +Y (camera x is world X, camera y is world -Z); the
# thing named `mover` glides at VELOCITY from AT at the clip's start; the background is the
# world's colour (Cycles' film is transparent there: exactly that colour wherever nothing is).
WORLD = """
[world]
seed = 2
frames = {frames}
[camera]
resolution = [64, 48]
fov = 60
position = [0, -5, 0]
target = [0, 0, 0]
[render]
renderer = "cycles"
samples = {samples}
device = "cpu"
tone = "linear"
metering = false
[clip]
frames = 3
fps = 10
{shutter}
[[spawners]]
type = "primitive"
name = "mover"
{mover}
[[randomizers]]
type = "glide"
targets = ["mover"]
{randomizers}
[output]
labels = {labels}
writers = ["native"]
image_format = "png"
[plugins]
paths = ["glide.py"]
"""
CUBE_SPAWNER = f'shape = "box"\nsize = {CUBE}\nposition = {CUBE_AT.tolist()}'
PLANE_SPAWNER = (
    f'shape = "plane"\nsize = {PLANE}\nhpr = [0, 90, 0]\nposition = {PLANE_AT.tolist()}\n'
    "color = [0.9, 0.9, 0.9]"
)
LABELS = '["boxes", "masks", "visibility", "instance", "depth", "flow"]'
OPEN = f"shutter = {SHUTTER}\nblur_samples = 4"


def _world(folder: Path, shutter: str, velocity: np.ndarray = CUBE_V, **fields: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "glide.py").write_text(glide_plugin(velocity))
    values = {"frames": 3, "samples": 16, "mover": CUBE_SPAWNER, "randomizers": ""}
    values |= {"labels": LABELS, "shutter": shutter, **fields}
    path = folder / "world.toml"
    path.write_text(WORLD.format(**values))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """The gliding cube's clip blurred (in one process, and again in two workers, a frame a
    shard) and with the shutter closed."""
    out = {}
    for name, shutter, options in (
        ("blurred", OPEN, {}),
        ("again", OPEN, {"workers": 2, "shard_size": 1}),
        ("sharp", "", {}),
    ):
        folder = tmp_path_factory.mktemp(name)
        world = load_world(_world(folder, shutter))
        out[name] = dataset_files(run(world, RunOptions(folder / "out", **options)).root)
    return out


def _decoded(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).astype(int)


def _projected(points: np.ndarray, camera: dict) -> np.ndarray:
    """Image points (OpenCV: pixel centres at integers) of world `points` through a recorded
    camera (its K and cam_to_world), by OpenCV."""
    to_camera = np.linalg.inv(np.array(camera["cam_to_world"]))
    rvec = cv2.Rodrigues(to_camera[:3, :3])[0]
    return cv2.projectPoints(points, rvec, to_camera[:3, 3], np.array(camera["K"]), None)[0][:, 0]


def _swept(camera: dict, frame: int) -> np.ndarray:
    """Pixels the cube covers at some time of the open shutter of its clip's frame `frame`,
    grown by a pixel: a box moved along a line sweeps the convex hull of its two ends."""
    corners = np.array(np.meshgrid(*[[-0.5, 0.5]] * 3)).reshape(3, -1).T * CUBE
    ends = [(frame + side * SHUTTER / 2) / FPS for side in (-1, 1)]
    points = np.concatenate([corners + CUBE_AT + CUBE_V * t for t in ends])
    mask = np.zeros((H, W), np.uint8)
    hull = cv2.convexHull(np.round(_projected(points, camera) * 16).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    return cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0


def test_the_rgb_changes_only_where_the_cube_sweeps_while_the_shutter_is_open(runs):
    """The cube alone before the background: with other things about, the light it throws
    on them, and its shadows, move too, as they should."""
    blurred, sharp = runs["blurred"], runs["sharp"]
    records = [json.loads(line) for line in blurred["frames.jsonl"].decode().splitlines()]
    for frame, record in enumerate(records):
        key = f"images/{frame:06d}.png"
        changed = (_decoded(blurred[key]) != _decoded(sharp[key])).any(axis=2)
        swept = _swept(record["camera"], frame)
        assert changed.sum() > 40, (key, changed.sum())
        assert not (changed & ~swept).any(), key


def test_every_label_file_is_the_same_bytes_as_with_the_shutter_closed(runs):
    blurred, sharp = runs["blurred"], runs["sharp"]
    assert blurred.keys() == sharp.keys()
    labels = [k for k in sharp if not k.startswith("images/")]
    for folder in ("frames.jsonl", "instances/", "depth/", "flow_forward/"):
        assert any(k.startswith(folder) for k in labels), folder
    assert [k for k in labels if blurred[k] != sharp[k]] == []
    assert all(blurred[k] != sharp[k] for k in sharp if k.startswith("images/"))


def test_the_same_seed_gives_the_same_bytes_in_one_process_or_two(runs):
    assert runs["again"] == runs["blurred"]


def _plane_frames(tmp_path: Path) -> dict[str, dict]:
    """Frame 1 of the sliding plane's clip, blurred and sharp, at 64 samples."""
    out = {}
    for name, shutter in (("blurred", f"shutter = {SHUTTER}"), ("sharp", "")):
        fields = {"samples": 64, "mover": PLANE_SPAWNER, "labels": '["boxes", "instance"]'}
        path = _world(tmp_path / name, shutter, PLANE_V, **fields)
        renderer = Renderer(load_world(path))
        try:
            labels = [renderer.frame(k) for k in range(2)][1]
        finally:
            renderer.close()
        out[name] = {"rgb": labels.passes.color, "camera": labels.scene.record()["camera"]}
    return out


def _linear(levels: np.ndarray) -> np.ndarray:
    """sRGB levels to linear light (tone = "linear" is the sRGB curve), IEC 61966-2-1."""
    c = np.asarray(levels, float) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def test_a_sliding_plane_leaves_a_streak_as_long_as_it_moves_while_the_shutter_is_open(
    tmp_path,
):
    frames = _plane_frames(tmp_path)
    rows = slice(H // 2 - 4, H // 2 + 5)  # inside the plane's height
    # Cycles' film is transparent where nothing is: what it covers is laid over the
    # background colour after the tone curve, by its coverage (cycles.film.develop), so a
    # pixel's level is the background's and the plane's mixed by the fraction of the open
    # shutter the plane covers it for
    levels = frames["blurred"]["rgb"][rows, :, 1].mean(axis=0)
    sharp = frames["sharp"]["rgb"][rows, :, 1].mean(axis=0)
    background, plane = sharp[0], sharp[W // 2]
    covered = (levels - background) / (plane - background)
    # the plane's edges over the open shutter (dense times), projected by OpenCV
    times = 1 + SHUTTER * ((np.arange(2000) + 0.5) / 2000 - 0.5)
    edges = {}
    for side in (-1, 1):
        x = PLANE_AT[0] + side * PLANE / 2 + PLANE_V[0] * times / FPS
        points = np.stack([x, np.zeros_like(x), np.zeros_like(x)], axis=1)
        edges[side] = _projected(points, frames["blurred"]["camera"])[:, 0]
    columns = np.arange(W)[:, None]
    expected = ((edges[-1] < columns) & (columns < edges[1])).mean(axis=1)
    np.testing.assert_allclose(covered, expected, atol=0.07)
    # the streak at either end: as long as the plane moves while the shutter is open
    streak = F_PIXELS * PLANE_V[0] * SHUTTER / FPS / 5.0
    for side, part in ((-1, slice(0, W // 2)), (1, slice(W // 2, W))):
        seen = np.flatnonzero((covered[part] > 0.01) & (covered[part] < 0.99)) + part.start
        low, high = edges[side].min(), edges[side].max()
        assert high - low == pytest.approx(streak, rel=1e-3)
        assert abs(seen.min() - low) <= 1 and abs(seen.max() - high) <= 1, (side, seen, low, high)
        assert len(seen) == pytest.approx(streak, abs=2)


def test_an_animated_exposure_is_its_mean_over_the_engines_sub_frames(tmp_path):
    """A grey wall stays still while the cube glides, and the exposure ramps 5 stops a
    frame: the wall's light blurred over the clip's middle frame, against the frame's own,
    is the mean of 2 ** exposure over the engine's sub-frame times (the gain is what Cycles
    is given: one number for the whole image), within Cycles' noise."""
    wall = (
        '[[spawners]]\ntype = "primitive"\nname = "wall"\nshape = "plane"\nsize = 8\n'
        "hpr = [0, 90, 0]\nposition = [0, 1, 0]\ncolor = [0.3, 0.3, 0.3]\n"
        '[[randomizers]]\ntype = "film"\nexposure = { keyframes = [[0.0, -4.0], [1.0, 6.0]] }'
    )
    colors = {}
    for name, shutter in (("blurred", "shutter = 1.0\nblur_samples = 8"), ("sharp", "")):
        fields = {"randomizers": wall, "labels": '["boxes", "instance"]', "samples": 16}
        renderer = Renderer(load_world(_world(tmp_path / name, shutter, **fields)))
        try:
            labels = [renderer.frame(k) for k in range(2)][1]
        finally:
            renderer.close()
        colors[name], instance = labels.passes.color, labels.passes.instance
    assert labels.scene.film.exposure == pytest.approx(1.0)  # the centre's: frame 1 of 3
    patch = (instance == 2) & (np.arange(W) < W // 4)[None, :]  # the wall, off the cube's way
    assert patch.sum() > 100
    ratio = _linear(colors["blurred"][patch]).mean() / _linear(colors["sharp"][patch]).mean()
    want = np.mean(2.0 ** (-4 + 5 * subframe_times(1, 1.0, 8))) / 2.0**1
    assert want > 1.5
    assert ratio == pytest.approx(want, rel=0.03)


def test_a_run_of_blurred_frames_keeps_no_keys_of_the_frames_before(tmp_path):
    import bpy

    renderer = Renderer(load_world(_world(tmp_path, OPEN, frames=6)))
    try:
        actions = []
        for index in range(6):
            renderer.frame(index)
            actions.append(len(bpy.data.actions))
    finally:
        renderer.close()
    assert actions == [1] * 6  # the cube's, this frame's


def test_a_dollying_camera_blurs_a_still_cube_as_a_still_camera_the_cube_gliding_back(tmp_path):
    """Only the cube's motion relative to the camera counts (its lights are a direction and
    an ambient, the same wherever it is): the camera dollying at -CUBE_V past the still cube
    sees, blurred, what the still camera sees of the cube gliding at CUBE_V (the camera's
    keys are right)."""
    dolly = '[[randomizers]]\ntype = "camera_motion"\nmotion = "dolly"\n'
    dolly += f"velocity = {(-CUBE_V).tolist()}"
    images = {}
    for name, velocity, randomizers, shutter in (
        ("glides", CUBE_V, "", OPEN),
        ("dollies", 0 * CUBE_V, dolly, OPEN),
        ("sharp", 0 * CUBE_V, dolly, ""),
    ):
        fields = {"randomizers": randomizers, "labels": '["boxes", "instance"]'}
        renderer = Renderer(load_world(_world(tmp_path / name, shutter, velocity, **fields)))
        try:
            images[name] = [renderer.frame(k) for k in range(2)][1].passes.color.astype(int)
        finally:
            renderer.close()
    assert np.abs(images["dollies"] - images["glides"]).max() <= 2
    assert (images["dollies"] != images["sharp"]).any(axis=2).sum() > 40


# A plane's motion over its clip of 3 frames: (positions, hprs) at the frames.
TURNS = (np.zeros((3, 3)), np.array([[0.0, 0, 0], [60.0, 0, 0], [120.0, 0, 0]]))
STOPS = (np.array([[-3.0, 0, 0], [0.0, 0, 0], [0.0, 0, 0]]), np.zeros((3, 3)))


@pytest.mark.parametrize("motion", [TURNS, STOPS], ids=["turns", "stops at the frame"])
def test_a_moving_plane_is_the_mean_of_its_sharp_frames_over_the_open_shutter(small, motion):
    """Poses are read between the shutter's ends as sim reads them: a plane turning 60
    degrees a frame in its own plane (a slerp at a constant rate), and one sliding until the
    frame and still after it (the motion bends at the centre: Cycles' three steps keep the
    bend), blurred, against the mean of 48 sharp Cycles frames at times spread over the
    open shutter (other seeds), lit evenly over black. The plane's edges are noise of the
    open shutter's sampling (64 paths a pixel, each at a time of its own): on average within
    a level and a half of the mean, where the sharp frame is 3 levels or more from it
    (measured: turning 0.64 and 4.53, stopping 0.41 and 5.29; keyed as if two steps, open
    to close, the stopping plane is 5.39 from it)."""
    cycles = open_cycles(W, H, small.geometry.drawn, samples=64, device="cpu")
    camera = CameraState(W, H, fov=50, position=[0, -0.5, 5], target=[0, 0, 0])
    scene = Scene(camera, lights=[Light("ambient", intensity=0.8)], film=Film(tone="linear"))
    scene.background = np.zeros(3)
    positions, hprs = motion
    plane = scene.add(Entity(meshes.plane(), scale=[2.5, 1, 1], color=[1, 1, 1]))
    plane.position, plane.hpr = positions[1], hprs[1]
    plane.motion = Motion(positions, hprs, np.zeros((3, 3)), np.zeros((3, 3)))
    ends = Shutter(
        subframe_scene(scene, 1 - SHUTTER / 2), subframe_scene(scene, 1 + SHUTTER / 2), SHUTTER
    )
    gain = np.ones(3)
    try:
        blurred = cycles.render(scene, gain, 7, ends).astype(float)
        times = 1 + SHUTTER * ((np.arange(48) + 0.5) / 48 - 0.5)
        frames = [cycles.render(subframe_scene(scene, t), gain, 8 + k) for k, t in enumerate(times)]
        sharp = cycles.render(scene, gain, 7).astype(float)
    finally:
        cycles.close()
    mean = np.mean(frames, axis=0)
    assert np.abs(sharp - mean).mean() > 3
    assert np.abs(blurred - mean).mean() < 1.5
