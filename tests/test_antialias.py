"""Anti-aliasing: FXAA after the frame (engine.post) and multisampling (engine.context). The
labels are the frame pass's, byte for byte; pixels away from edges keep their colour exactly;
edge pixels come closer to the share of each pixel the geometry covers, computed here by
sampling the projected card's outline 16 x 16 times per pixel (numpy, not the renderer).
Multisampling averages its samples in linear light: an edge pixel is the encoding of the
light its samples cover (the encodings written out here)."""

import numpy as np
import pytest

from simulator import meshes, transforms
from simulator.engine import Engine
from simulator.scene.environment import Environment
from simulator.scene.materials import Material
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene
from simulator.scene.textures import TextureImage

W, H = 160, 120
# The standard 4x sample positions (Direct3D's; llvmpipe's lp_sample_pos_4x), within a pixel
# in window coordinates (y up).
SAMPLES_4X = np.array([[0.375, 0.125], [0.875, 0.375], [0.125, 0.625], [0.625, 0.875]])


def srgb(linear: np.ndarray) -> np.ndarray:
    """The sRGB curve (IEC 61966-2-1)."""
    curve = 1.055 * np.abs(linear) ** (1 / 2.4) - 0.055
    return np.where(linear <= 0.0031308, 12.92 * linear, curve)


def srgb_decoded(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


# Each tone curve's encoding of display-linear light, and its inverse: a 2.2 gamma ("clamp"),
# the sRGB curve ("linear", "aces").
ENCODINGS = {
    "clamp": (lambda x: np.abs(x) ** (1 / 2.2), lambda c: c**2.2),
    "linear": (srgb, srgb_decoded),
    "aces": (srgb, srgb_decoded),
}


@pytest.fixture(scope="module")
def engines():
    plain, fxaa = Engine(W, H), Engine(W, H, antialias="fxaa")
    yield plain, fxaa
    plain.close()
    fxaa.close()


@pytest.fixture(scope="module")
def multisampled():
    engine = Engine(W, H, antialias=4)
    yield engine
    engine.close()


def card_scene() -> Scene:
    """A white card facing the camera, which rolls 17 degrees about its view axis, on black."""
    camera = CameraState(W, H, fov=40, position=[0, -5, 0], target=[0, 0, 0], roll=17.0)
    scene = Scene(camera, lights=[Light("ambient", intensity=1.0)], background=np.zeros(3))
    scene.film = Film(tone="clamp")
    scene.add(Entity(meshes.plane(), "card", hpr=[0, 90, 0], scale=[1.6, 1.6, 1], color=[1, 1, 1]))
    return scene


def coverage(
    engine: Engine, scene: Scene, samples: int = 16, offsets: np.ndarray | None = None
) -> np.ndarray:
    """The share of each pixel inside the card's projected outline, sampled samples x samples
    times per pixel, or at `offsets` ((N, 2) from the pixel's centre, image axes: y down)."""
    entity = scene.entities[0]
    vertices, _ = engine.arrays(entity.mesh)
    corners = transforms.transform_points(entity.matrix(), vertices)
    camera = scene.camera
    in_camera = transforms.transform_points(camera.world_to_cam(), corners)
    K = transforms.intrinsics(camera.width, camera.height, camera.fov)
    uv = (K @ in_camera.T).T
    uv = uv[:, :2] / uv[:, 2:]
    centre = uv.mean(0)
    order = np.argsort(np.arctan2(uv[:, 1] - centre[1], uv[:, 0] - centre[0]))
    outline = uv[order]  # a convex quadrilateral, corners in turn
    if offsets is None:
        step = (np.arange(samples) + 0.5) / samples - 0.5
        offsets = np.stack(np.meshgrid(step, step), -1).reshape(-1, 2)
    v, u = np.mgrid[0:H, 0:W]
    su = u[..., None] + offsets[:, 0]
    sv = v[..., None] + offsets[:, 1]
    inside = np.ones(su.shape, bool)
    for a, b in zip(outline, np.roll(outline, -1, axis=0), strict=True):
        cross = (b[0] - a[0]) * (sv - a[1]) - (b[1] - a[1]) * (su - a[0])
        inside &= (
            cross >= 0
            if np.sign(np.cross(outline[1] - outline[0], outline[2] - outline[1])) > 0
            else cross <= 0
        )
    return inside.mean(-1)


@pytest.mark.parametrize("look", ["fxaa", "msaa4"])
def test_anti_aliasing_changes_no_label(engines, multisampled, look):
    plain, fxaa = engines
    smoothed = fxaa if look == "fxaa" else multisampled
    a, b = plain.render(card_scene()), smoothed.render(card_scene())
    assert (a.instance == 1).sum() > 2000
    for name in ("instance", "depth", "distance", "normal"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name


def test_fxaa_brings_edges_nearer_their_coverage_and_leaves_the_rest(engines):
    plain, fxaa = engines
    scene = card_scene()
    share = coverage(plain, scene)
    aliased = plain.render(scene).color[..., 1].astype(float)
    smooth = fxaa.render(scene).color[..., 1].astype(float)
    white = np.median(aliased[share == 1])
    assert white > 200
    edge = (share > 0.05) & (share < 0.95)
    assert edge.sum() > 150
    # the renderer's own coverage agrees with the outline (pixel centres inside it)
    assert np.array_equal(plain.render(scene).instance[share == 1], np.ones((share == 1).sum()))
    error_aliased = np.abs(aliased[edge] - white * share[edge]).mean()
    error_smooth = np.abs(smooth[edge] - white * share[edge]).mean()
    assert error_smooth < 0.6 * error_aliased  # FXAA (which blends encoded values): 0.37
    # far from any edge (two pixels and more), the colour is the frame pass's exactly
    near = np.zeros_like(edge)
    for dv in range(-2, 3):
        for du in range(-2, 3):
            near |= np.roll(np.roll(edge, dv, 0), du, 1)
    assert np.array_equal(smooth[~near], aliased[~near])


def test_multisampling_holds_in_an_engine_drawn_after_another(engines):
    """4x multisampling, in an engine whose frames alternate with another engine's (a rig's or
    a lens's wide engine does that): every frame comes as near the coverage as the first
    (GL_MULTISAMPLE was switched on in whichever context was current, so it stayed off)."""
    plain, _ = engines
    multisampled = Engine(W, H, antialias=4)
    scene = card_scene()  # (tone "clamp": a 2.2 gamma)
    share = coverage(plain, scene)
    edge = (share > 0.05) & (share < 0.95)
    errors = []
    for _ in range(3):
        aliased = plain.render(card_scene()).color[..., 1].astype(float)
        white = np.median(aliased[share == 1])
        expected = white * share ** (1 / 2.2)  # averaged in linear light
        smooth = multisampled.render(card_scene()).color[..., 1].astype(float)
        errors.append(np.abs(smooth[edge] - expected[edge]).mean())
        error_aliased = np.abs(aliased[edge] - expected[edge]).mean()
    multisampled.close()
    assert max(errors) < 0.6 * error_aliased, errors
    assert max(errors) - min(errors) < 1e-9  # the same frame every time


def test_fxaa_drawn_only_where_its_mask_marks_edges_gives_the_same_bytes(engines):
    """FXAA runs behind its mask (engine.post: the edge test writes depth, the search draws
    behind an early depth test); with the mask off and FXAA on every pixel, the image is
    the same bytes, on a scene with edges of many contrasts (shaded spheres, cones, boxes)."""
    _, fxaa = engines
    camera = CameraState(W, H, fov=50, position=[1, -6, 2.5], target=[0, 0, 0.3])
    scene = Scene(camera, lights=[Light("ambient", intensity=0.4), Light("point", [3, -3, 5])])
    rng = np.random.default_rng(5)
    makers = (meshes.sphere, meshes.cone, meshes.box, meshes.torus)
    for i in range(10):
        mesh = makers[i % 4]()
        position = [*rng.uniform(-1.8, 1.8, 2), rng.uniform(0, 0.8)]
        scene.add(
            Entity(mesh, f"o{i}", position=position, scale=[0.5] * 3, color=rng.uniform(0, 1, 3))
        )
    masked = fxaa.render(scene).color
    post = fxaa._targets.post  # (the engine's FXAA pass: its mask switched off here)
    assert post is not None and post.marker is not None
    post.marker.hide()
    post.card.set_depth_test(False)
    try:
        everywhere = fxaa.render(scene).color
    finally:
        post.marker.show()
        post.card.set_depth_test(True)
    plain = engines[0].render(scene).color
    changed = (masked != plain).any(-1)
    assert changed.sum() > 100  # FXAA did smooth edges
    assert masked.tobytes() == everywhere.tobytes()


@pytest.mark.parametrize("tone", ["clamp", "linear", "aces"])
def test_multisampling_averages_edge_samples_in_linear_light(engines, multisampled, tone):
    """A white card's edge pixels are the encoding of the white light times the share of the
    pixel the card covers, not the share of the encoded white (128 for half a pixel, which
    the encoded average gave, against about 188 for the sRGB curve's 0.5)."""
    plain, _ = engines
    scene = card_scene()
    scene.film = Film(tone=tone)
    encode, decode = ENCODINGS[tone]
    share = coverage(plain, scene)
    edge = (share > 0.05) & (share < 0.95)
    assert edge.sum() > 150
    aliased = plain.render(scene).color[..., 1].astype(float)
    white = decode(np.median(aliased[share == 1]) / 255)  # display-linear (aces: below 1)
    smooth = multisampled.render(scene).color[..., 1].astype(float)
    assert np.array_equal(smooth[share == 0], aliased[share == 0])  # black stays black
    # Summed over the edge, the light is the light the outline covers there: each pixel's
    # samples estimate its share, and along straight edges their errors cancel (within 2 %
    # over some 250 pixels; 0.4 to 1.1 % at the rolls and tones tried, 5 to 30 degrees). The
    # encoded average gives about 60 % of it.
    light = decode(smooth / 255)
    assert abs(light[edge].sum() / (white * share[edge]).sum() - 1) < 0.02
    encoded_average = 255 * encode(white) * share
    assert abs(decode(encoded_average[edge] / 255).sum() / (white * share[edge]).sum() - 1) > 0.3
    if "llvmpipe" not in multisampled.renderer:
        return  # the sample positions below are llvmpipe's
    # Pixel by pixel: the encoding of the light at the pixel's 4 samples (the outline sampled
    # where the renderer samples), within the 8-bit rounding of the encoding; the encoded
    # average of the same samples is 40 levels off on average.
    at_samples = coverage(plain, scene, offsets=SAMPLES_4X * [1, -1] + [-0.5, 0.5])
    expected = 255 * encode(white * at_samples)
    assert np.abs(smooth[edge] - expected[edge]).max() <= 1.0
    assert np.abs(255 * encode(white) * at_samples - expected)[edge].mean() > 20


def lit_card(tone: str, backdrop: str) -> Scene:
    """The card, orange, under the ambient and a point light (brighter than the curve's white
    at its centre), before a background colour, a small picture or the environment."""
    scene = card_scene()
    scene.film = Film(tone=tone)
    scene.entities[0].color = np.array([0.9, 0.6, 0.3])
    point = Light("point", position=[0.3, -1.5, 0.4], intensity=3.0)
    scene.lights = [Light("ambient", intensity=0.3), point]
    scene.background = np.array([0.2, 0.5, 0.9])
    if backdrop == "image":
        pixels = np.random.default_rng(2).integers(0, 256, (9, 12, 3), dtype=np.uint8)
        scene.background_image = TextureImage(pixels, key="test:antialias-backdrop")
    elif backdrop == "environment":
        sky = np.random.default_rng(3).random((16, 32, 3)).astype(np.float32)
        scene.environment = Environment(sky, key="test:antialias-sky")
    return scene


@pytest.mark.parametrize("backdrop", ["color", "image", "environment"])
@pytest.mark.parametrize("tone", ["clamp", "linear", "aces"])
def test_multisampling_keeps_flat_pixels_the_same_bytes(engines, multisampled, tone, backdrop):
    """Away from edges (pixels wholly on or off the card, with no edge next to them) the
    multisampled colour is the colour without anti-aliasing: the card's shading, the
    background colour, a picture and the environment behind it, for every tone curve. Byte
    for byte but for a level at a rounding boundary: the encoding runs after the resolve in
    a shader of its own, and llvmpipe's JIT compiles the two programs' arithmetic for the
    machine's CPU (fused multiply-adds where it has them), so a value within an ulp of a
    level's half may round either way (seen once in 4444 card pixels on an AVX-512 machine)."""
    plain, _ = engines
    scene = lit_card(tone, backdrop)
    share = coverage(plain, scene)
    edge = (share > 0) & (share < 1)
    near = np.zeros_like(edge)
    for dv in range(-1, 2):
        for du in range(-1, 2):
            near |= np.roll(np.roll(edge, dv, 0), du, 1)
    aliased, smooth = plain.render(scene).color, multisampled.render(scene).color
    card, behind = (share == 1) & ~near, (share == 0) & ~near
    assert card.sum() > 2000 and behind.sum() > 5000
    assert len(np.unique(aliased[card], axis=0)) > 20  # shaded, not flat colour
    # the point light is past white: clipped, or rolled off by the filmic curve
    assert (aliased[card].max() < 255) == (tone == "aces")
    for region in (card, behind):
        off = np.abs(smooth[region].astype(int) - aliased[region])
        assert off.max() <= 1 and (off > 0).sum() <= region.sum() // 1000
    assert (smooth[edge] != aliased[edge]).any()  # (and multisampling did smooth the edges)


def test_multisampled_blend_surfaces_composite_in_display_linear_light(engines, multisampled):
    """A BLEND surface is blended into the display-linear samples (glTF's linear blending),
    where without anti-aliasing it blends the 8-bit encoded colour: half-transparent white
    over black is the sRGB curve's 0.5 (188), not half of 255."""
    plain, _ = engines
    scene = card_scene()
    scene.film = Film(tone="linear")
    scene.entities[0].material = Material(base_color=(1, 1, 1, 0.5), alpha_mode="BLEND")
    inside = coverage(plain, scene) == 1
    aliased, smooth = (e.render(scene).color[inside].astype(float) for e in (plain, multisampled))
    assert np.abs(aliased - 255 * 0.5).max() <= 1
    assert np.abs(smooth - 255 * srgb(np.float64(0.5))).max() <= 1
