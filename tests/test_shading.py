"""Physically based shading against integrals and geometry computed here: the white furnace,
energy of rough metals against a numerical integral of the BRDF, a mirror sphere's reflection
where reflection geometry puts it, and labels that no anti-aliasing, exposure or tone curve
changes."""

import numpy as np
import pytest

from simulator import meshes
from simulator.engine import Engine
from simulator.scene.environment import Environment, direction_to_uv
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene

W, H = 96, 72


@pytest.fixture(scope="module")
def engines():
    plain, antialiased = Engine(W, H), Engine(W, H, antialias=4)
    yield plain, antialiased
    plain.close()
    antialiased.close()


def srgb(linear: float) -> float:
    """The sRGB curve (IEC 61966-2-1), written out here."""
    return 12.92 * linear if linear <= 0.0031308 else 1.055 * linear ** (1 / 2.4) - 0.055


def camera() -> CameraState:
    return CameraState(W, H, fov=40, position=[0, -4, 0], target=[0, 0, 0])


def uniform(radiance: float) -> Environment:
    return Environment(np.full((64, 128, 3), radiance, np.float32))


def ball_scene(environment: Environment, **surface) -> Scene:
    scene = Scene(
        camera(),
        lights=[],
        background=np.zeros(3),
        environment=environment,
        show_environment=False,
        film=Film(tone="linear"),
    )
    scene.add(Entity(meshes.sphere(), "ball", scale=[2, 2, 2], **surface))
    return scene


@pytest.mark.parametrize("roughness", [0.05, 0.5, 1.0])
def test_white_furnace_a_white_dielectric_renders_at_the_environment(engines, roughness):
    passes = engines[0].render(ball_scene(uniform(0.5), color=[1, 1, 1], roughness=roughness))
    ball = passes.color[passes.instance == 1].astype(float)
    assert ball.size > 1000
    assert np.abs(ball - 255 * srgb(0.5)).max() <= 1.0


def single_scatter_albedo(n_dot_v: float, roughness: float, steps: int = 400) -> float:
    """Directional albedo of a white GGX metal (F = 1): the integral of the BRDF times n.l
    over the hemisphere, on a regular grid in (cos theta, phi), height-correlated Smith."""
    a2 = max(roughness**2, 0.002) ** 2
    mu = (np.arange(steps) + 0.5) / steps  # cos theta of l
    phi = (np.arange(2 * steps) + 0.5) / (2 * steps) * 2 * np.pi
    mu, phi = np.meshgrid(mu, phi, indexing="ij")
    s = np.sqrt(1 - mu**2)
    light = np.stack([s * np.cos(phi), s * np.sin(phi), mu], -1)
    view = np.array([np.sqrt(1 - n_dot_v**2), 0.0, n_dot_v])
    h = light + view
    h /= np.linalg.norm(h, axis=-1, keepdims=True)
    nh = h[..., 2]
    d = a2 / (np.pi * (nh**2 * (a2 - 1) + 1) ** 2)
    nl, nv = mu, n_dot_v
    v = 0.5 / (nl * np.sqrt(nv**2 * (1 - a2) + a2) + nv * np.sqrt(nl**2 * (1 - a2) + a2))
    integrand = d * v * nl
    return float(integrand.sum() * (1 / steps) * (2 * np.pi / (2 * steps)))


def test_rough_metal_creates_no_energy_and_matches_the_brdf_integral(engines):
    passes = engines[0].render(
        ball_scene(uniform(1.0), color=[1, 1, 1], roughness=1.0, metallic=1.0)
    )
    ball = passes.instance == 1
    value = passes.color[..., 1].astype(float)
    assert value[ball].max() <= 255 * srgb(1.0) + 1  # nowhere brighter than the light
    # n.v at each pixel from the normals pass (camera space: the view ray is +z)
    rays = np.linalg.inv(camera().K) @ np.stack(
        [*np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5), np.ones((H, W))]
    ).reshape(3, -1)
    rays = (rays / np.linalg.norm(rays, axis=0)).T.reshape(H, W, 3)
    n_dot_v = -(passes.normal * rays).sum(axis=2)
    checked = 0
    for target in (0.9, 0.5, 0.2):
        near = ball & (np.abs(n_dot_v - target) < 0.02)
        if not near.any():
            continue
        expected = 255 * srgb(single_scatter_albedo(target, 1.0))
        assert abs(value[near].mean() - expected) <= 3.0, (target, value[near].mean(), expected)
        checked += 1
    assert checked == 3


def test_a_mirror_sphere_reflects_the_marker_where_reflection_geometry_puts_it(engines):
    marker = np.array([0.3, -0.8, 0.52])
    marker /= np.linalg.norm(marker)
    image = np.full((128, 256, 3), 0.05, np.float32)
    u, v = direction_to_uv(marker)
    row, col = int(v * 128), int(u * 256)
    image[row - 1 : row + 2, col - 1 : col + 2] = 50.0
    scene = ball_scene(Environment(image), color=[1, 1, 1], roughness=0.0, metallic=1.0)
    passes = engines[0].render(scene)
    # Where on the sphere (centre 0, radius 1) does the view ray reflect towards the marker?
    # The normal halves the angle between the ray reversed and the marker: iterate.
    eye = scene.camera.position
    point = -np.array([0.0, -1.0, 0.0])
    for _ in range(50):
        ray = point - eye
        ray /= np.linalg.norm(ray)
        normal = marker - ray
        point = normal / np.linalg.norm(normal)
    cam = scene.camera.world_to_cam() @ np.append(point, 1.0)
    x, y, z = scene.camera.K @ cam[:3]
    expected = np.array([x / z, y / z])
    brightness = passes.color.astype(float).sum(axis=2) * (passes.instance == 1)
    found = np.array(np.unravel_index(brightness.argmax(), brightness.shape)[::-1]) + 0.5
    assert np.linalg.norm(found - expected) <= 1.5, (found, expected)


def lit_scene(film: Film) -> Scene:
    scene = Scene(
        camera(),
        lights=[
            Light("ambient", intensity=0.2),
            Light("directional", direction=[-0.5, 1.0, -0.7], intensity=1.5, shadows=True),
        ],
        background=np.array([0.2, 0.3, 0.4]),
        environment=uniform(0.3),
        film=film,
    )
    scene.add(Entity(meshes.sphere(), "ball", position=[-0.6, 0, 0], color=[0.9, 0.3, 0.1]))
    scene.add(Entity(meshes.box(), "box", position=[0.7, 0.5, 0.2], hpr=[30, 20, 10]))
    return scene


def test_labels_are_identical_with_antialiasing_exposure_and_tone_curves(engines):
    plain, antialiased = engines
    reference = plain.render(lit_scene(Film()))
    looks = [(plain, Film(exposure=2.0, tone="aces")), (antialiased, Film(tone="linear"))]
    looks += [(antialiased, Film(exposure=-1.0, metering=True, tone="aces"))]
    for engine, film in looks:
        passes = engine.render(lit_scene(film))
        for name in ("instance", "depth", "distance", "normal"):
            assert getattr(passes, name).tobytes() == getattr(reference, name).tobytes(), name
    # Anti-aliasing did happen: edge pixels between the ball and the background take
    # in-between values that neither side has.
    aa = antialiased.render(lit_scene(Film())).color.astype(int)
    edge = (reference.instance == 1) & (np.roll(reference.instance, 1, axis=1) == 0)
    assert (np.abs(aa[edge] - reference.color[edge].astype(int)).sum(axis=1) > 30).mean() > 0.3


def test_exposure_doubles_the_light_and_aces_rolls_highlights_off(engines):
    def ball(film: Film, radiance: float) -> float:
        scene = ball_scene(uniform(radiance), color=[1, 1, 1], roughness=1.0)
        scene.film = film
        passes = engines[0].render(scene)
        return float(np.median(passes.color[passes.instance == 1][:, 1]))

    assert abs(ball(Film(tone="linear", exposure=1.0), 0.2) - 255 * srgb(0.4)) <= 1
    assert ball(Film(tone="linear"), 4.0) == 255  # clipped
    assert ball(Film(tone="aces"), 4.0) < 250  # rolled off
    assert ball(Film(tone="aces"), 4.0) > ball(Film(tone="aces"), 1.0)


def test_metering_renders_a_white_up_facing_card_the_same_in_any_light(engines):
    def card(intensity: float) -> np.ndarray:
        scene = Scene(
            CameraState(W, H, fov=40, position=[0, -0.01, 4], target=[0, 0, 0]),
            lights=[Light("directional", direction=[0.3, 0.2, -1.0], intensity=intensity)],
            background=np.zeros(3),
            film=Film(tone="linear", metering=True),
        )
        scene.add(Entity(meshes.plane(), "card", scale=[8, 8, 1], color=[1, 1, 1], roughness=1))
        passes = engines[0].render(scene)
        return passes.color[passes.instance == 1]

    dim, bright = card(0.2), card(7.0)
    assert np.abs(dim.astype(int) - bright.astype(int)).max() <= 1
    assert abs(np.median(dim[:, 1]) - 255 * srgb(1.0 * 0.96)) <= 6  # white, less its sheen


def penumbra_pixels(engine: Engine, size: float) -> float:
    """The shadow of a floating slab's straight edge on the floor below, seen from above:
    how many pixels across it the light rises from 10 % to 90 %, averaged over rows."""
    scene = Scene(
        CameraState(W, H, fov=40, position=[0, -0.001, 6], target=[0, 0, 0]),
        lights=[
            Light("ambient", intensity=0.1),
            Light("directional", direction=[0.5, 0, -np.sqrt(0.75)], shadows=True, size=size),
        ],
        background=np.zeros(3),
        film=Film(tone="linear"),
    )
    scene.add(Entity(meshes.plane(), "floor", scale=[12, 12, 1], color=[1, 1, 1], roughness=1))
    scene.add(Entity(meshes.box(), "slab", position=[-1, 0, 1], scale=[3, 6, 0.05]))
    passes = engine.render(scene)
    floor = passes.instance == 1
    value = passes.color[..., 1].astype(float)
    widths = []
    for row in range(10, H - 10):
        line, seen = value[row, W // 2 + 14 : W - 4], floor[row, W // 2 + 14 : W - 4]
        if not seen.all():
            continue
        low, high = line.min(), line.max()
        between = (line > low + 0.1 * (high - low)) & (line < low + 0.9 * (high - low))
        widths.append(between.sum())
    return float(np.mean(widths))


def test_a_larger_light_casts_a_softer_shadow_as_wide_as_geometry_says(engines):
    # The slab's edge at x = 0.5 floats 1 m above the floor, lit from 30 degrees off the
    # vertical: a light of angular size a spreads its shadow's edge (at x = 0.5 + tan 30)
    # over tan(30 + a / 2) - tan(30 - a / 2) metres.
    # The 10-90 % rise of an edge blurred over a disc of that width is about 0.65 of it.
    metres_per_pixel = 2 * 6 * np.tan(np.radians(20)) / W

    def full_width(a: float) -> float:
        return (np.tan(np.radians(30 + a / 2)) - np.tan(np.radians(30 - a / 2))) / metres_per_pixel

    assert penumbra_pixels(engines[0], 0.0) <= 2
    widths = {a: penumbra_pixels(engines[0], a) for a in (10.0, 20.0)}
    for a, width in widths.items():
        assert 0.5 * full_width(a) <= width <= 0.85 * full_width(a), (a, width, full_width(a))
    ratio = widths[20.0] / widths[10.0]
    assert abs(ratio - full_width(20.0) / full_width(10.0)) < 0.4
