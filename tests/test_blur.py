"""Motion blur ([clip] shutter): a plane moving parallel to the image leaves a streak whose
every pixel is the fraction of the open shutter it was covered for (edges projected by
OpenCV); the labels, flow and every label file are those of the shutter's centre; without a
shutter nothing changes; the same bytes across workers and resume."""

import json

import cv2
import numpy as np
import pytest
from datasets import dataset_files
from scipy.spatial.transform import Rotation, Slerp
from writer_runs import assert_same_bytes_across_workers_and_resume

from simulator import CameraPath, Motion, Params, Randomizer, hookimpl
from simulator.capture.blur import subframe_times
from simulator.capture.frame import Renderer
from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world, parse_world

W, H, FOV = 96, 72, 60.0
F = (W / 2) / np.tan(np.radians(FOV / 2))  # focal length, pixels
FPS, SPEED, SHUTTER, SAMPLES = 10.0, 12.0, 0.5, 16  # the plane moves +X at SPEED m/s

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
[render]
antialias = 0
tone = "{{tone}}"
[clip]
frames = 3
fps = {FPS}
{{clip}}
[[spawners]]
type = "primitive"
name = "plane"
shape = "plane"
size = {{size}}
hpr = [0, 90, 0]
position = [0.013, 0, 0]
{{moves}}
[output]
labels = ["boxes", "masks", "visibility", "instance", "depth", "flow"]
"""


class Slides(Randomizer[Params]):
    """Test motion: the plane slides +X at SPEED through x = 0.013 m at the clip's frame 1."""

    name = "slides"

    def randomize(self, ctx, entities):
        t = (np.arange(ctx.clip.frames) - 1)[:, None] / FPS
        for entity in entities:
            positions = entity.position + np.array([SPEED, 0, 0]) * t
            velocities = np.repeat([[SPEED, 0.0, 0.0]], len(t), 0)
            hprs, zeros = np.repeat([entity.hpr], len(t), 0), np.zeros((len(t), 3))
            entity.motion = Motion(positions, hprs, velocities, zeros)


class SlidesPlugin:
    @hookimpl
    def sim_register_randomizers(self, register):
        register(Slides)


def _frame(clip: str = "", size: float = 2.0, moves: bool = True, tone: str = "linear"):
    text = WORLD.format(
        clip=clip, size=size, moves='[[randomizers]]\ntype = "slides"' if moves else "", tone=tone
    )
    renderer = Renderer(parse_world(text), plugins=[SlidesPlugin()])
    try:
        return [renderer.frame(k) for k in range(3)][1]
    finally:
        renderer.close()


def decode_srgb(c: np.ndarray) -> np.ndarray:
    """sRGB-encoded values to linear light (IEC 61966-2-1)."""
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _right_edges(times: np.ndarray) -> np.ndarray:
    """Image x (OpenCV: pixel centres at integers) of the plane's right edge at each
    sub-frame, projected by OpenCV."""
    x = 0.013 + 1.0 + SPEED * (times - 1) / FPS
    points = np.stack([x, np.zeros_like(x), np.zeros_like(x)], axis=1)
    rotation = np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]])  # world to camera
    K = np.array([[F, 0, W / 2 - 0.5], [0, F, H / 2 - 0.5], [0, 0, 1]])
    pixels, _ = cv2.projectPoints(
        points, cv2.Rodrigues(rotation)[0], np.array([0, 0, 5.0]), K, None
    )
    return pixels[:, 0, 0]


def test_a_plane_moving_parallel_to_the_image_leaves_a_streak_of_the_shutters_length():
    blurred = _frame(f"shutter = {SHUTTER}\nblur_samples = {SAMPLES}")
    sharp = _frame()
    lit = _frame(size=6.0, moves=False)  # the plane's light at every pixel of the row
    row = H // 2
    table = decode_srgb(np.arange(256) / 255.0)  # tone = "linear": the sRGB curve, undone
    light, plane = table[blurred.passes.color[row]], table[lit.passes.color[row]]
    background = table[sharp.passes.color[row, -1]]
    edges = _right_edges(subframe_times(1, SHUTTER, SAMPLES))
    columns = np.arange(W)
    covered = (columns[:, None] < edges[None, :]).mean(axis=1)  # the right edge only
    columns = columns[columns > W // 2]
    expected = covered[columns, None] * plane[columns] + (1 - covered[columns, None]) * background
    # within an 8-bit step of the sRGB curve at the brightest level of the row
    np.testing.assert_allclose(light[columns], expected, atol=2.4 * (1 / 255) * plane.max())
    # the streak: pixels neither background nor plane, as wide as the plane moves while the
    # shutter is open, projected (less one slice: the sub-frames are slice centres)
    streak = ((covered > 0) & (covered < 1)).sum()
    width = F * SPEED * SHUTTER / FPS / 5.0
    assert width * (1 - 1 / SAMPLES) - 1 <= streak <= width + 1
    seen = (np.abs(light - background) > 0.01) & (np.abs(light - plane) > 0.01)
    assert seen[columns, 0].sum() == pytest.approx(streak, abs=1)


def test_the_labels_are_the_shutters_centre():
    blurred, sharp = _frame("shutter = 0.5"), _frame()
    assert not np.array_equal(blurred.passes.color, sharp.passes.color)
    for name in ("instance", "depth", "distance", "normal"):
        np.testing.assert_array_equal(getattr(blurred.passes, name), getattr(sharp.passes, name))
    for way in ("forward", "backward"):
        np.testing.assert_array_equal(blurred.flow[way].vectors, sharp.flow[way].vectors)
        np.testing.assert_array_equal(blurred.flow[way].flags, sharp.flow[way].flags)


# A world of bundled plugins: a dollying camera blurs a box, with every label file.
DOLLY = """
[world]
seed = 3
frames = 4
[camera]
resolution = [64, 48]
position = [0, -4, 1]
target = [0, 0, 0.3]
[clip]
frames = 2
fps = 8
{shutter}
[[spawners]]
type = "primitive"
shape = "box"
size = 0.8
[[randomizers]]
type = "camera_motion"
motion = "dolly"
velocity = [3.0, 0, 0]
[output]
labels = ["boxes", "masks", "visibility", "instance", "semantic", "depth", "flow"]
writers = ["native", "mot", "coco"]
"""


def _dataset(tmp_path, name: str, shutter: str) -> dict[str, bytes]:
    path = tmp_path / f"{name}.toml"
    path.write_text(DOLLY.format(shutter=shutter))
    return dataset_files(run(load_world(path), RunOptions(tmp_path / name)).root)


def test_every_label_file_is_the_same_bytes_with_and_without_the_shutter(tmp_path):
    blurred = _dataset(tmp_path, "blurred", "shutter = 0.5\nblur_samples = 4")
    sharp = _dataset(tmp_path, "sharp", "")
    assert blurred.keys() == sharp.keys()
    differ = sorted(k for k in sharp if blurred[k] != sharp[k])
    assert differ, "the RGB is blurred"
    # only the images differ (the native RGB, MOT's img1, COCO's images)
    for name in differ:
        assert name.endswith((".png", ".jpg")), name
        assert "flow" not in name and "mask" not in name and "instance" not in name, name
    assert all(blurred[k] == sharp[k] for k in sharp if k.endswith((".json", ".txt", ".npy")))


def test_a_closed_shutter_is_todays_world_byte_for_byte(tmp_path):
    explicit = _dataset(tmp_path, "zero", "shutter = 0\nblur_samples = 12")
    assert explicit == _dataset(tmp_path, "none", "")
    manifest = json.loads((tmp_path / "zero" / "manifest.json").read_text())
    # the manifest's world is as before blur existed
    assert manifest["world"]["clip"] == {"frames": 2, "fps": 8.0, "flow_format": "npy"}


def test_blurred_clips_are_the_same_bytes_across_workers_and_resume(tmp_path, monkeypatch):
    path = tmp_path / "dolly.toml"
    path.write_text(DOLLY.format(shutter="shutter = 0.5\nblur_samples = 3"))
    assert_same_bytes_across_workers_and_resume(path, tmp_path, monkeypatch)


def test_sub_frame_poses_are_linear_between_samples_and_slerped():
    hprs = np.array([[0.0, 10.0, 0.0], [80.0, -20.0, 30.0], [170.0, 40.0, -60.0]])
    positions = np.array([[0.0, 0, 0], [1.0, 2, 0], [1.0, 2, 3]])
    motion = Motion(positions, hprs, np.zeros((3, 3)), np.zeros((3, 3)))
    # Panda3D's hpr: heading about Z, then pitch about X, then roll about Y (intrinsic)
    rotations = Rotation.from_euler("ZXY", hprs, degrees=True)
    slerp = Slerp([0, 1, 2], rotations)
    for frame in (0.25, 0.5, 1.0, 1.7):
        position, hpr = motion.pose_at(frame)
        i = min(int(frame), 1)
        np.testing.assert_allclose(
            position, positions[i] + (frame - i) * (positions[i + 1] - positions[i]), atol=1e-12
        )
        got = Rotation.from_euler("ZXY", hpr, degrees=True)
        assert (got.inv() * slerp([frame])[0]).magnitude() < 1e-9
    # past the ends, the end samples' motion carried on
    position, _ = motion.pose_at(-0.25)
    np.testing.assert_allclose(position, [-0.25, -0.5, 0], atol=1e-12)
    path = CameraPath(positions, positions + 1, np.array([0.0, 10.0, 20.0]))
    position, target, roll = path.at(2.5)
    np.testing.assert_allclose(position, [1.0, 2, 4.5], atol=1e-12)
    np.testing.assert_allclose(target, [2.0, 3, 5.5], atol=1e-12)
    assert roll == pytest.approx(25.0)


def test_a_shutter_beyond_the_frame_interval_names_the_setting():
    with pytest.raises(WorldError, match=r"clip\.shutter"):
        parse_world(DOLLY.format(shutter="shutter = 1.5"))


# Nothing moves but a box (so the frame is blurred); the exposure ramps linearly over the
# clip, from -4 stops at its first frame to +6 at its last (+5 stops a frame), and the white
# balance is drawn once per clip. A grey wall behind, lit by the default lights, is the patch.
RAMP = f"""
[world]
seed = 5
frames = 3
[camera]
resolution = [{W}, {H}]
fov = {FOV}
position = [0, -5, 0]
target = [0, 0, 0]
[render]
antialias = 0
tone = "linear"
metering = false
[clip]
frames = 3
fps = {FPS}
{{clip}}
[[spawners]]
type = "primitive"
name = "wall"
shape = "plane"
size = 8
hpr = [0, 90, 0]
position = [0, 1, 0]
color = [0.3, 0.3, 0.3]
[[spawners]]
type = "primitive"
name = "mover"
shape = "box"
size = 0.3
position = [-1.5, 0, 0.5]
[[randomizers]]
type = "slides"
targets = ["mover"]
[[randomizers]]
type = "film"
exposure = {{{{ keyframes = [[0.0, -4.0], [1.0, 6.0]] }}}}
white_balance = {{{{ uniform = [5000, 7500] }}}}
[output]
labels = ["boxes", "instance"]
"""


def _ramp_frame(clip: str):
    renderer = Renderer(parse_world(RAMP.format(clip=clip)), plugins=[SlidesPlugin()])
    try:
        return [renderer.frame(k) for k in range(2)][1]
    finally:
        renderer.close()


def test_an_animated_exposure_is_read_at_every_sub_frame_of_the_open_shutter():
    shutter, samples = 1.0, 8
    blurred = _ramp_frame(f"shutter = {shutter}\nblur_samples = {samples}")
    sharp = _ramp_frame("")
    # the labels and the recorded film are the shutter's centre's: +1 stop at frame 1
    assert blurred.scene.film.exposure == pytest.approx(1.0)
    np.testing.assert_array_equal(blurred.passes.instance, sharp.passes.instance)
    assert blurred.scene.film.white_balance.tolist() == sharp.scene.film.white_balance.tolist()
    # the wall's right half: no streak of the box reaches it
    wall = (sharp.passes.instance == 1) & (np.arange(W) > 3 * W // 4)[None, :]
    assert wall.sum() > 300
    centre = decode_srgb(sharp.passes.color[wall] / 255.0)
    light = decode_srgb(blurred.passes.color[wall] / 255.0)
    assert sharp.passes.color[wall].max() < 200 and blurred.passes.color[wall].max() < 250
    # the gain at each sub-frame time t (frames) is 2 ** (-4 + 5 t): its mean over the
    # shutter, against the centre's 2 ** 1, in linear light (the sensor's integral)
    times = 1 + shutter * ((np.arange(samples) + 0.5) / samples - 0.5)
    ratio = np.mean(2.0 ** (-4 + 5 * times)) / 2.0**1
    assert ratio > 1.5  # far from 1: the frame's own exposure held over the shutter
    # every channel alike: the white balance is the frame's at every sub-frame
    np.testing.assert_allclose(light / centre, ratio, rtol=0.04)


@pytest.mark.parametrize("antialias", ["0", '"fxaa"', "4"])
def test_a_shutter_closing_towards_zero_gives_the_unblurred_frame_back(antialias):
    """The radiance averaged and mapped once (filmic curve, FXAA after it) is the 8-bit
    frame's, within a level, when the sub-frames all but coincide. Multisampled, the frame
    averages its samples after the curve (in display-linear light), the sub-frames before
    it: the same away from the plane's edges."""

    def frame(clip: str):
        text = WORLD.format(
            clip=clip, size=2.0, moves='[[randomizers]]\ntype = "slides"', tone="aces"
        )
        text = text.replace("antialias = 0", f"antialias = {antialias}")
        renderer = Renderer(parse_world(text), plugins=[SlidesPlugin()])
        try:
            return [renderer.frame(k) for k in range(2)][1].passes
        finally:
            renderer.close()

    blurred, sharp = frame("shutter = 0.0001\nblur_samples = 4"), frame("")
    difference = np.abs(blurred.color.astype(int) - sharp.color).max(-1)
    plane = sharp.instance == 1
    edge = plane != np.roll(plane, 1, 1)
    edge |= np.roll(edge, -1, 1)
    edge |= plane != np.roll(plane, 1, 0)
    edge |= np.roll(edge, -1, 0)
    away = ~edge if antialias == "4" else np.ones_like(edge)
    assert away.sum() > 0.9 * away.size and plane.any()
    assert difference[away].max() <= 1


def test_through_a_lens_the_sub_frames_radiance_is_remapped_before_the_tone_curve():
    """A lens's frame is the wide pinhole render remapped: blurred, the radiance is remapped
    (bilinear in light, where the unblurred frame interpolates the 8-bit colour), so a
    closing shutter gives the unblurred frame back away from edges."""
    lens = "[camera.lens]\nk1 = -0.2\nk2 = 0.05\n"

    def frame(shutter: str):
        text = DOLLY.format(shutter=shutter).replace("[[spawners]]", lens + "[[spawners]]", 1)
        text = text.replace(', "flow"]', "]")
        renderer = Renderer(parse_world(text))
        try:
            return renderer.frame(1)
        finally:
            renderer.close()

    blurred, sharp = frame("shutter = 0.0001\nblur_samples = 3"), frame("")
    assert sharp.scene.camera.lens is not None
    np.testing.assert_array_equal(blurred.passes.instance, sharp.passes.instance)
    difference = np.abs(blurred.passes.color.astype(int) - sharp.passes.color.astype(int))
    assert (difference <= 1).mean() > 0.97
    box = sharp.passes.instance == 1
    inside = (
        box & np.roll(box, 2, 0) & np.roll(box, -2, 0) & np.roll(box, 2, 1) & np.roll(box, -2, 1)
    )
    assert inside.sum() > 50 and difference[inside].max() <= 1
