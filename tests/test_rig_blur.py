"""Motion blur ([clip] shutter) for every camera of a rig: each camera's labels are the
shutter's centre's (the same bytes as with the shutter closed), its RGB changes only where
the moving cube sweeps (the sweep projected by OpenCV through that camera's pose in the rig),
a rig camera's blurred frame is the mean light of its own sharp frames at the sub-frame
times (rendered apart, by a clip whose frames fall there), and the bytes are the same for one
and two workers."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from datasets import dataset_files
from motion_plugins import glide_plugin

from simulator.capture.frame import Renderer
from simulator.capture.pipeline import Pipeline
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

W, H, FOV = 96, 72, 60.0
F = (W / 2) / np.tan(np.radians(FOV / 2))
K = np.array([[F, 0, W / 2 - 0.5], [0, F, H / 2 - 0.5], [0, 0, 1]])
EYE = np.array([0.0, -5.0, 0.0])
CUBE, CUBE_AT, CUBE_V = 1.0, np.array([0.6, 0.0, 0.0]), np.array([6.0, 0.0, 2.0])  # m, m, m/s
FPS, SHUTTER, SAMPLES, BASELINE = 10.0, 0.5, 4, 0.5

WORLD = f"""
[world]
seed = 4
frames = {{frames}}
[camera]
resolution = [{W}, {H}]
fov = {FOV}
position = {EYE.tolist()}
target = [0, 0, 0]
{{rig}}
[render]
antialias = 0
tone = "linear"
metering = false
[clip]
frames = {{clip_frames}}
fps = {{fps}}
{{shutter}}
[[spawners]]
type = "primitive"
name = "cube"
shape = "box"
size = {CUBE}
position = {CUBE_AT.tolist()}
[[spawners]]
type = "primitive"
name = "still"
shape = "sphere"
size = 0.8
position = [-1.6, 0, 0.3]
[[randomizers]]
type = "glide"
targets = ["cube"]
{{dolly}}
[output]
labels = {{labels}}
writers = ["native"]
image_format = "png"
depth_format = "npy"
[plugins]
paths = ["glide.py"]
"""
STEREO = f'[camera.rig]\nkind = "stereo"\nbaseline = {BASELINE}'
RING = '[camera.rig]\nkind = "ring"\ncount = 3'
DOLLY = '[[randomizers]]\ntype = "camera_motion"\nmotion = "dolly"\nvelocity = [1.5, 0, 0.5]'
LABELS = '["boxes", "masks", "visibility", "instance", "depth", "flow"]'

# Test motion: the cube glides at CUBE_V, through CUBE_AT at the clip's start.
GLIDE = glide_plugin(CUBE_V)


def _world(folder: Path, shutter: str, **fields: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "glide.py").write_text(GLIDE)
    values = {"frames": 6, "clip_frames": 3, "fps": FPS, "rig": STEREO, "dolly": ""}
    values |= {"labels": LABELS, "shutter": shutter, **fields}
    path = folder / "world.toml"
    path.write_text(WORLD.format(**values))
    return path


BLURRED = f"shutter = {SHUTTER}\nblur_samples = {SAMPLES}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict[str, bytes]]:
    """A still stereo pair watching the cube: the dataset blurred and with the shutter closed
    (two clips of three frames, in shards of a clip)."""
    out = {}
    for name, shutter in (("blurred", BLURRED), ("sharp", "")):
        folder = tmp_path_factory.mktemp(name)
        options = RunOptions(folder / "out", shard_size=3)
        out[name] = dataset_files(run(load_world(_world(folder, shutter)), options).root)
    return out


def _decoded(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).astype(int)


def _swept(cam_to_world: np.ndarray, frame: int) -> np.ndarray:
    """Pixels the cube covers at some time of frame `frame`'s open shutter (in its clip of
    3), grown by a pixel (the hull's edges rounded to pixels): a box moved along a line
    sweeps the convex hull of its two ends, whose picture is the hull of their corners
    projected by OpenCV."""
    corners = np.array(np.meshgrid(*[[-0.5, 0.5]] * 3)).reshape(3, -1).T * CUBE
    ends = [(frame % 3 + side * SHUTTER / 2) / FPS for side in (-1, 1)]
    points = np.concatenate([corners + CUBE_AT + CUBE_V * t for t in ends])
    to_camera = np.linalg.inv(cam_to_world)
    rvec = cv2.Rodrigues(to_camera[:3, :3])[0]
    pixels = cv2.projectPoints(points, rvec, to_camera[:3, 3], K, None)[0][:, 0]
    mask = np.zeros((H, W), np.uint8)
    hull = cv2.convexHull(np.round(pixels * 16).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1, lineType=cv2.LINE_8, shift=4)
    return cv2.dilate(mask, np.ones((3, 3), np.uint8)) > 0


def _pose(name: str) -> np.ndarray:
    """cam_to_world (OpenCV axes) of the still pair: looking along +Y from EYE (camera x is
    world X, y is world -Z), the right camera BASELINE along x."""
    pose = np.eye(4)
    pose[:3, :3] = [[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]
    pose[:3, 3] = EYE + (name == "right") * np.array([BASELINE, 0, 0])
    return pose


def test_every_rig_cameras_labels_are_the_same_bytes_with_the_shutter_open(runs):
    blurred, sharp = runs["blurred"], runs["sharp"]
    assert blurred.keys() == sharp.keys()
    labels = [k for k in sharp if "images/" not in k]
    assert "frames.jsonl" in labels
    for folder in ("instances/", "depth/", "flow_forward/"):
        assert any(k.startswith("cameras/right/" + folder) for k in labels), folder
    assert [k for k in labels if blurred[k] != sharp[k]] == []


def test_every_rig_cameras_rgb_changes_only_where_the_cube_sweeps(runs):
    blurred, sharp = runs["blurred"], runs["sharp"]
    for name, folder in (("left", ""), ("right", "cameras/right/")):
        for frame in range(6):
            key = f"{folder}images/{frame:06d}.png"
            changed = (_decoded(blurred[key]) != _decoded(sharp[key])).any(axis=2)
            swept = _swept(_pose(name), frame)
            assert changed.sum() > 20, (key, changed.sum())
            assert not (changed & ~swept).any(), key


def _rendered(path: Path, frames: list[int]) -> list[dict[str, np.ndarray]]:
    """Every camera's RGB at each of `frames`, by camera name."""
    renderer = Renderer(load_world(path), [])
    try:
        labeled = [renderer.frame(k) for k in frames]
    finally:
        renderer.close()
    return [
        {f.camera_name: f.passes.color, **{n: v.passes.color for n, v in f.views.items()}}
        for f in labeled
    ]


def _decode_srgb(c: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1)."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _encode_srgb(light: np.ndarray) -> np.ndarray:
    """Linear light to sRGB levels of 255 (the "linear" tone: clamped, then the sRGB curve)."""
    c = np.clip(light, 0.0, 1.0)
    return 255 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def _mean_light_range(images: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The least and the most 8-bit level a frame may have whose light is the mean light of
    frames whose 8-bit levels are `images`: each of their levels stands for any light that
    rounds to it (a half level either side, through the curve; any light from 1 up for 255),
    and the mean's own level is rounded too (another half level either side)."""
    levels = np.stack(images).astype(np.float64)
    low = _decode_srgb(np.clip(levels - 0.5, 0, 255) / 255)
    high = np.where(levels == 255, np.inf, _decode_srgb(np.minimum(levels + 0.5, 255) / 255))
    return _encode_srgb(low.mean(axis=0)) - 0.5, _encode_srgb(high.mean(axis=0)) + 0.5


def _within(image: np.ndarray, bounds: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    low, high = bounds
    return (low - 1e-6 <= image) & (image <= high + 1e-6)


@pytest.mark.parametrize(
    ("rig", "name"), [(STEREO, "right"), (RING, "cam1")], ids=["stereo", "ring"]
)
def test_a_rig_cameras_blurred_frame_is_the_mean_light_of_its_frames_at_the_sub_frames(
    tmp_path, rig, name
):
    """The rig dollies and the cube glides. The sub-frames of frame 1 are at the centres of
    SAMPLES equal slices of the shutter, frames 1 + (2i + 1 - SAMPLES) / (2 SAMPLES / SHUTTER):
    exactly the frames 13, 15, 17, 19 of the same clip at 16 times the rate, rendered sharp,
    each camera where the rig puts it then (both motions are linear: nothing to interpolate).
    The tolerance is what 8 bits leave: each sharp frame's level holds its light to within
    half a level, so their mean light is known to within about a level, and the blurred
    frame's own level rounds it by another half (2 levels wide, wider only where a sharp
    frame is clipped white and its light is not known)."""
    rate = round(2 * SAMPLES / SHUTTER)
    at = [rate + 2 * i + 1 - SAMPLES for i in range(SAMPLES)]
    assert at == [13, 15, 17, 19]
    common = {"rig": rig, "dolly": DOLLY, "labels": '["instance"]'}
    [blurred] = _rendered(_world(tmp_path / "blurred", BLURRED, frames=3, **common), [1])
    fast = {"frames": 20, "clip_frames": 20, "fps": FPS * rate}
    subframes = _rendered(_world(tmp_path / "fast", "", **fast, **common), at)
    assert set(blurred) == set(subframes[0]) and name in blurred
    for camera, image in blurred.items():
        bounds = _mean_light_range([s[camera] for s in subframes])
        moved = (np.ptp(np.stack([s[camera] for s in subframes]), axis=0) > 8).any(axis=2)
        assert moved.sum() > 100, camera  # the sub-frames differ: the cube and the rig move
        # two levels wide, but where a sub-frame clips at 255
        clipped = np.stack([s[camera] for s in subframes]).max(axis=0) == 255
        assert (bounds[1] - bounds[0] <= 2.01)[~clipped].all()
        assert _within(image, bounds).all(), camera
    # the check tells the cameras apart: the first camera's mean is not the second's
    first = next(iter(blurred))
    assert not _within(blurred[name], _mean_light_range([s[first] for s in subframes])).all()


def test_a_rigs_cameras_draw_one_scene_at_each_sub_frame_time(tmp_path, monkeypatch):
    made: list[tuple[int, float]] = []
    real = Pipeline.subframe_scene

    def counted(self, frame, scene, time):
        made.append((frame, time))
        return real(self, frame, scene, time)

    monkeypatch.setattr(Pipeline, "subframe_scene", counted)
    world = _world(tmp_path, BLURRED, frames=3, rig=RING, dolly=DOLLY, labels='["instance"]')
    [colors] = _rendered(world, [1])
    assert len(colors) == 3  # three cameras
    assert len(made) == len(set(made)) == SAMPLES


def test_one_and_two_workers_write_the_same_blurred_rig(runs, tmp_path):
    path = _world(tmp_path, BLURRED)
    two = run(load_world(path), RunOptions(tmp_path / "two", shard_size=3, workers=2)).root
    assert dataset_files(two) == runs["blurred"]
