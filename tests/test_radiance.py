"""Motion blur's radiance and tone passes (engine.radiance, capture.blur): a still scene's
radiance, averaged and developed, is the frame's own bytes for every tone curve, backdrop
and FXAA; a streak is the tone curve of the mean radiance (the curves written out here in
numpy from their published formulas, not the engine's); multisampled, a sub-frame resolves
its samples in radiance (edges at the share of the pixel the geometry covers, computed by
sampling the projected outline)."""

import numpy as np
import pytest
from test_antialias import H as CARD_H
from test_antialias import W as CARD_W
from test_antialias import card_scene, coverage

from simulator import Motion, meshes
from simulator.capture.blur import exposed, mean_radiance, subframe_times
from simulator.capture.clips import subframe_scene
from simulator.engine import Engine
from simulator.scene.environment import Environment
from simulator.scene.motion import ClipFrame
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene
from simulator.scene.textures import TextureImage

W, H = 96, 72

# Stephen Hill's fit of the ACES RRT and sRGB ODT (BakingLab's ACES.hlsl), row-major.
ACES_INPUT = np.array(
    [[0.59719, 0.35458, 0.04823], [0.07600, 0.90834, 0.01566], [0.02840, 0.13383, 0.83777]]
)
ACES_OUTPUT = np.array(
    [[1.60475, -0.53108, -0.07367], [-0.10208, 1.10813, -0.00605], [-0.00327, -0.07276, 1.07602]]
)


def aces(light: np.ndarray) -> np.ndarray:
    v = light @ ACES_INPUT.T
    v = (v * (v + 0.0245786) - 0.000090537) / (v * (0.983729 * v + 0.4329510) + 0.238081)
    return np.clip(v @ ACES_OUTPUT.T, 0.0, 1.0)


def encode_srgb(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.abs(c) ** (1 / 2.4) - 0.055)


def decode_srgb(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def shown(light: np.ndarray, tone: str) -> np.ndarray:
    """8-bit levels (unrounded) of radiance through a tone curve."""
    if tone == "clamp":
        return 255 * np.clip(light, 0, 1) ** (1 / 2.2)
    if tone == "linear":
        return 255 * encode_srgb(np.clip(light, 0, 1))
    return 255 * encode_srgb(aces(light))


@pytest.fixture(scope="module")
def engines():
    made = {aa: Engine(W, H, antialias=aa) for aa in (0, "fxaa")}
    made["card"] = Engine(CARD_W, CARD_H, antialias=4)
    yield made
    for engine in made.values():
        engine.close()


def still_scene(tone: str, backdrop: str) -> Scene:
    """A box and a ball under a shadow-casting sun and the ambient, before a backdrop."""
    camera = CameraState(W, H, fov=50, position=[0.5, -5, 1.5], target=[0, 0, 0.2])
    lights = [
        Light("ambient", intensity=0.3),
        Light("directional", intensity=2.5, direction=np.array([0.3, 1, -1.0]), shadows=True),
    ]
    scene = Scene(camera, lights=lights, background=np.array([0.2, 0.5, 0.9]))
    scene.film = Film(tone=tone, exposure=0.5)
    scene.add(Entity(meshes.box(), "box", hpr=[30, 10, 0], scale=[1.2] * 3, color=[0.9, 0.3, 0.2]))
    scene.add(Entity(meshes.sphere(), "ball", position=[1.2, 0, 0.3], scale=[0.6] * 3))
    scene.add(Entity(meshes.plane(), "floor", position=[0, 0, -0.6], scale=[8, 8, 1]))
    if backdrop == "image":
        pixels = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
        pixels[:4] = 255  # white, where the filmic curve's inverse is steepest
        scene.background_image = TextureImage(pixels, key="test:radiance-backdrop")
    elif backdrop == "environment":
        sky = np.random.default_rng(1).random((16, 32, 3)).astype(np.float32) * 3.0
        scene.environment = Environment(sky, key="test:radiance-sky")
    return scene


@pytest.mark.parametrize("antialias", [0, "fxaa"])
@pytest.mark.parametrize("backdrop", ["color", "image", "environment"])
@pytest.mark.parametrize("tone", ["clamp", "linear", "aces"])
def test_a_still_scenes_mean_radiance_developed_is_the_frames_own_bytes(
    engines, tone, backdrop, antialias
):
    engine = engines[antialias]
    frame = engine.render(still_scene(tone, backdrop)).color.astype(int)
    radiance = [engine.render_radiance(still_scene(tone, backdrop)) for _ in range(3)]
    assert radiance[0].dtype == np.float32 and radiance[0].shape == (H, W, 3)
    if tone != "clamp" or backdrop == "environment":
        assert radiance[0].max() > 1.0  # light the 8-bit frame clips or rolls off
    developed = engine.develop(mean_radiance(radiance), tone).astype(int)
    assert np.abs(developed - frame).max() <= 1
    assert (developed != frame).mean() < 0.01


def test_multisampled_sub_frames_resolve_their_samples_in_radiance(engines):
    engine = engines["card"]
    scene = card_scene()  # a white card (radiance 1) on black, rolled 17 degrees
    scene.film = Film(tone="linear")
    share = coverage(engine, scene)
    frame = engine.render(scene).color[..., 1].astype(float)
    developed = engine.develop(engine.render_radiance(scene), "linear")[..., 1].astype(float)
    edge = (share > 0.05) & (share < 0.95)
    assert edge.sum() > 20
    near = np.zeros_like(edge)
    for dv in range(-1, 2):
        for du in range(-1, 2):
            near |= np.roll(np.roll(edge, dv, 0), du, 1)
    assert np.abs(developed[~near] - frame[~near]).max() <= 1  # away from edges: the frame's
    # at edges, the radiance is the share of the pixel's 4 samples the card covers, near the
    # outline's share; the frame resolves the same 0 and 1 samples in display-linear light
    # (test_antialias), which for this card is its radiance: the same colour
    radiance = decode_srgb(developed / 255)
    assert np.abs(radiance[edge] - share[edge]).mean() < 0.15
    assert np.abs(developed[edge] - frame[edge]).max() <= 1


SPEED, FPS, SHUTTER, SAMPLES, GLOW = 12.0, 10.0, 0.5, 16, 3.0


def sliding_plane(tone: str) -> Scene:
    """A white plane (radiance GLOW under the ambient alone) sliding +X at SPEED across the
    image on black, through x = 0.013 m at frame 1 of a 3-frame clip; the camera at (0, -5, 0)
    looks along +Y."""
    camera = CameraState(W, H, fov=60, position=[0, -5, 0], target=[0, 0, 0])
    scene = Scene(camera, lights=[Light("ambient", intensity=GLOW)], background=np.zeros(3))
    scene.film = Film(tone=tone)
    plane = Entity(meshes.plane(), "plane", hpr=[0, 90, 0], scale=[2, 2, 1], color=[1, 1, 1])
    plane.position = np.array([0.013, 0, 0])
    t = (np.arange(3) - 1)[:, None] / FPS
    plane.motion = Motion(
        plane.position + np.array([SPEED, 0, 0]) * t,
        np.repeat([plane.hpr], 3, 0),
        np.repeat([[SPEED, 0.0, 0.0]], 3, 0),
        np.zeros((3, 3)),
    )
    scene.add(plane)
    return scene


@pytest.mark.parametrize("tone", ["clamp", "aces"])
def test_a_streak_is_the_tone_curve_of_the_mean_radiance(engines, tone):
    engine = engines[0]
    scene = sliding_plane(tone)
    blurred = exposed(
        scene,
        ClipFrame(0, 1, 3, FPS),
        SHUTTER,
        SAMPLES,
        lambda time: subframe_scene(scene, time),
        engine.render_radiance,
        engine.develop,
    )
    assert blurred is not None
    row = blurred[H // 2].astype(float)
    # the right edge at each sub-frame, in pixels (centres at integers), by the pinhole
    focal = (W / 2) / np.tan(np.radians(30))
    edges = (
        W / 2 - 0.5 + focal * (1.013 + SPEED * (subframe_times(1, SHUTTER, SAMPLES) - 1) / FPS) / 5
    )
    columns = np.arange(W // 2, W)
    covered = (columns[:, None] < edges[None, :]).mean(axis=1)
    # black shown by the curve: where it reaches 0 (the filmic fit's zero crossing, grey)
    black = 0.0
    if tone == "aces":
        a, b = 0.0245786, 0.000090537
        black = (-a + np.sqrt(a * a + 4 * b)) / 2
    light = covered[:, None] * GLOW + (1 - covered[:, None]) * black
    expected = shown(np.repeat(light, 3, axis=1), tone)
    np.testing.assert_allclose(row[columns], expected, atol=1.01)
    streak = (covered > 0) & (covered < 1)
    assert streak.sum() >= 6
    # the mean of the sub-frames after the curve (decoded by its encoding) is another image
    decode, encode = (lambda c: c**2.2, lambda c: c ** (1 / 2.2)), (decode_srgb, encode_srgb)
    decode, encode = decode if tone == "clamp" else encode
    plane, background = (decode(shown(np.full(3, x), tone) / 255) for x in (GLOW, black))
    curve_first = 255 * encode(covered[:, None] * plane + (1 - covered[:, None]) * background)
    assert np.abs(row[columns][streak] - curve_first[streak]).max() > 40
