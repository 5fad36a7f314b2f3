"""Anti-aliasing after the frame (FXAA, engine.post): the labels are the frame pass's, byte
for byte; pixels away from edges keep their colour exactly; edge pixels come closer to the
share of each pixel the geometry covers, computed here by sampling the projected card's
outline 16 x 16 times per pixel (numpy, not the renderer)."""

import numpy as np
import pytest

from simulator import meshes, transforms
from simulator.engine import Engine
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene

W, H = 160, 120


@pytest.fixture(scope="module")
def engines():
    plain, fxaa = Engine(W, H), Engine(W, H, antialias="fxaa")
    yield plain, fxaa
    plain.close()
    fxaa.close()


def card_scene() -> Scene:
    """A white card facing the camera, which rolls 17 degrees about its view axis, on black."""
    camera = CameraState(W, H, fov=40, position=[0, -5, 0], target=[0, 0, 0], roll=17.0)
    scene = Scene(camera, lights=[Light("ambient", intensity=1.0)], background=np.zeros(3))
    scene.film = Film(tone="clamp")
    scene.add(Entity(meshes.plane(), "card", hpr=[0, 90, 0], scale=[1.6, 1.6, 1], color=[1, 1, 1]))
    return scene


def coverage(engine: Engine, scene: Scene, samples: int = 16) -> np.ndarray:
    """The share of each pixel inside the card's projected outline."""
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
    step = (np.arange(samples) + 0.5) / samples - 0.5
    v, u = np.mgrid[0:H, 0:W]
    su = (u[..., None, None] + step[None, :]).reshape(H, W, -1)
    sv = (v[..., None, None] + step[:, None]).reshape(H, W, -1)
    inside = np.ones(su.shape, bool)
    for a, b in zip(outline, np.roll(outline, -1, axis=0), strict=True):
        cross = (b[0] - a[0]) * (sv - a[1]) - (b[1] - a[1]) * (su - a[0])
        inside &= cross >= 0 if np.sign(np.cross(outline[1] - outline[0], outline[2] - outline[1])) > 0 else cross <= 0
    return inside.mean(-1)


def test_fxaa_changes_no_label(engines):
    plain, fxaa = engines
    a, b = plain.render(card_scene()), fxaa.render(card_scene())
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
    assert error_smooth < 0.6 * error_aliased  # 4x multisampling: 0.48, FXAA: 0.46
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
    scene = card_scene()
    share = coverage(plain, scene)
    edge = (share > 0.05) & (share < 0.95)
    errors = []
    for _ in range(3):
        aliased = plain.render(card_scene()).color[..., 1].astype(float)
        white = np.median(aliased[share == 1])
        smooth = multisampled.render(card_scene()).color[..., 1].astype(float)
        errors.append(np.abs(smooth[edge] - white * share[edge]).mean())
        error_aliased = np.abs(aliased[edge] - white * share[edge]).mean()
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
        scene.add(Entity(mesh, f"o{i}", position=position, scale=[0.5] * 3, color=rng.uniform(0, 1, 3)))
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
