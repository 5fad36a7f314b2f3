"""Ambient occlusion where objects meet (engine.occlusion): the floor under a ball loses the
share of the light from every direction that the ball hides, worked out here from the
geometry of a sphere seen from each floor point; nothing else changes."""

import numpy as np
import pytest

from simulator.engine import Engine
from simulator.engine.geometry import GeometryCache
from simulator.engine.occlusion import proxies
from simulator.scene import meshes
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene
from simulator.world.load import parse_world

WIDTH, HEIGHT = 96, 72
CENTRE, RADIUS = np.array([0.1, 0.0, 0.6]), 0.5  # the ball, its bottom 0.1 above the floor


def camera() -> CameraState:
    return CameraState(WIDTH, HEIGHT, fov=70, position=[0.0, -1.6, 2.4], target=[0.0, 0.1, 0.0])


def scene() -> Scene:
    """A white floor under a ball, lit by a uniform environment only (ambient 1), drawn with
    the sRGB curve (the linear tone) so pixels decode back to radiance."""
    s = Scene(camera(), lights=[Light("ambient", intensity=1.0)], film=Film(tone="linear"))
    s.add(Entity(meshes.plane(), None, scale=[20, 20, 1], color=[0.9, 0.9, 0.9], roughness=1.0))
    s.add(Entity(meshes.sphere(), "ball", position=CENTRE, scale=[2 * RADIUS] * 3))
    return s


def decode(srgb8: np.ndarray) -> np.ndarray:
    c = np.asarray(srgb8, float) / 255
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def encode(linear: np.ndarray) -> np.ndarray:
    c = np.clip(np.asarray(linear, float), 0, 1)
    return 255 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def floor_points() -> np.ndarray:
    """Where each pixel centre's ray meets the floor (z = 0), cast through K here."""
    cam = camera()
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    rays = np.linalg.inv(cam.K) @ np.stack([cols.ravel(), rows.ravel(), np.ones(cols.size)])
    pose = cam.cam_to_world()
    world = pose[:3, :3] @ rays
    t = -pose[2, 3] / world[2]
    return (pose[:3, 3][:, None] + t * world).T.reshape(HEIGHT, WIDTH, 3)


@pytest.fixture(scope="module")
def frames():
    off = Engine(WIDTH, HEIGHT)
    on = Engine(WIDTH, HEIGHT, contact_occlusion=True)
    yield off.render(scene()), on.render(scene())
    off.close()
    on.close()


def test_the_floor_loses_what_the_ball_hides_of_the_light_from_every_direction(frames):
    off, on = frames
    floor = off.instance == 1
    towards = CENTRE - floor_points()
    distance = np.linalg.norm(towards, axis=-1)
    # A sphere wholly above a point's horizon hides cos(theta) (r / l)^2 of its
    # cosine-weighted hemisphere: theta from the normal (+z) to the centre, l the distance.
    hidden = towards[..., 2] / distance * (RADIUS / distance) ** 2
    near = floor & (distance < 2 * RADIUS)  # inside the proxy's full strength
    assert near.sum() > 300
    expected = encode(decode(off.color) * (1 - hidden)[..., None])
    assert np.abs(on.color[near] - expected[near]).max() <= 1.5
    assert (on.color[near].astype(int) < off.color[near] - 20).any()  # it does darken
    # fading out between 2 and 4 radii: darker than without, never darker than exact
    fade = floor & (distance > 2.05 * RADIUS) & (distance < 3.9 * RADIUS)
    assert fade.sum() > 300
    assert (on.color[fade] <= off.color[fade]).all()
    assert (on.color[fade] >= np.floor(expected[fade] - 1)).all()
    # and nothing at all beyond
    far = floor & (distance > 4 * RADIUS)
    assert far.sum() > 300
    assert np.array_equal(on.color[far], off.color[far])


def test_an_object_is_not_darkened_by_its_own_proxy_and_labels_do_not_change(frames):
    off, on = frames
    ball = off.instance == 2
    assert ball.sum() > 300
    # the floor is a plane: no volume, no proxy, so nothing darkens the ball
    assert np.array_equal(on.color[ball], off.color[ball])
    for name in ("instance", "depth", "distance", "normal"):
        assert np.array_equal(getattr(on, name), getattr(off, name)), name


def test_proxies_are_the_inscribed_ellipsoids_of_objects_with_volume():
    s = scene()
    s.add(Entity(meshes.box(), "box", position=[2, 0, 0.5], hpr=[30, 0, 0], scale=[0.4, 1, 2]))
    world_to_view = np.linalg.inv(s.camera.cam_to_world())
    found = proxies(s.entities, GeometryCache(), world_to_view)
    assert sorted(iid for _, _, iid, _ in found) == [2, 3]  # not the floor
    to_unit = {iid: m for m, _, iid, _ in found}
    # the box's proxy touches the middle of each face: half extents 0.2, 0.5, 1 along its axes
    box = s.entities[2]
    for axis, half in enumerate((0.5, 0.5, 0.5)):
        local = np.zeros(3)
        local[axis] = half
        face = box.matrix() @ np.append(local, 1.0)
        unit = to_unit[3] @ world_to_view @ face
        assert np.linalg.norm(unit[:3]) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("render", "expected"),
    [
        ("", False),
        ('preset = "fast"', False),
        ('preset = "fast"\nambient_occlusion = true', True),
        ("ambient_occlusion = true", True),
    ],
)
def test_a_world_turns_it_on_and_neither_preset_has_it(render, expected):
    world = parse_world(
        f'[world]\nname = "w"\n[render]\n{render}\n[[spawners]]\ntype = "primitive"\n'
        'name = "s"\nshape = "box"\n'
    )
    assert world.render.setting("ambient_occlusion") is expected
