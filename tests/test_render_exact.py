"""Rendered labels against geometry computed without the renderer."""

import numpy as np
import pytest

from simulator import meshes, transforms
from simulator.labels.rle import instance_boxes
from simulator.scene.scene import CameraState, Entity, Scene


def camera(position=(0.0, -5.0, 0.0), target=(0.0, 0.0, 0.0), **kw) -> CameraState:
    return CameraState(160, 120, fov=60, position=position, target=target, **kw)


def projected_box(entity: Entity, cam: CameraState) -> tuple[float, float, float, float]:
    """The mesh's vertices projected with K and cam_to_world: [left, top, right, bottom]
    in pixel-edge coordinates (OpenCV pixel centres sit at +0.5)."""
    world = transforms.transform_points(entity.matrix(), entity.mesh.vertices)
    uv = transforms.project(world, cam.K, cam.cam_to_world())[:, :2] + 0.5
    return uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()


@pytest.mark.parametrize(
    ("shape", "hpr", "position"),
    [
        ("box", (30, 20, 10), (0.3, 0.0, 0.2)),
        ("box", (0, 0, 0), (-0.8, 1.0, -0.3)),
        ("cone", (10, 60, 0), (0.5, -1.0, 0.4)),
        ("cylinder", (45, 45, 45), (-0.2, 0.5, 0.1)),
    ],
)
def test_tight_box_equals_projected_vertices(engine, shape, hpr, position):
    cam = camera(roll=7.0)
    scene = Scene(cam)
    entity = scene.add(
        Entity(meshes.PRIMITIVES[shape](), shape, position=position, hpr=hpr, scale=[0.9, 0.7, 1.1])
    )
    passes = engine.render(scene)
    (x, y, w, h), _ = instance_boxes(passes.instance)[entity.instance_id]
    left, top, right, bottom = projected_box(entity, cam)
    # A pixel is drawn when its centre is inside the silhouette: each edge within one pixel.
    assert abs(x - left) <= 1 and abs(y - top) <= 1
    assert abs(x + w - right) <= 1 and abs(y + h - bottom) <= 1


def _facing_plane() -> Entity:
    # The plane's +Z face turned towards a camera on the -Y axis: pitch 90 maps +Z to -Y.
    return Entity(meshes.plane(), "wall", position=[0, 0, 0], hpr=[0, 90, 0], scale=[50, 50, 1])


def test_plane_depth_distance_and_normals_are_analytic(engine):
    cam = camera(position=(0.0, -4.25, 0.0))
    scene = Scene(cam)
    scene.add(_facing_plane())
    passes = engine.render(scene)
    assert np.all(passes.instance == 1)
    assert np.abs(passes.depth - 4.25).max() < 1e-3
    v, u = np.mgrid[0:120, 0:160]
    rays = np.linalg.inv(cam.K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])
    expected = 4.25 * np.linalg.norm(rays, axis=0).reshape(120, 160)
    assert np.abs(passes.distance - expected).max() < 1e-3
    assert np.allclose(passes.normal, [0, 0, -1], atol=1e-5)


def test_background_is_id_zero_depth_zero(engine):
    scene = Scene(camera())
    passes = engine.render(scene)
    assert not passes.instance.any() and not passes.depth.any() and not passes.distance.any()


def test_occluder_takes_the_pixels_and_ids_stay_exact(engine):
    cam = camera()
    scene = Scene(cam)
    back = scene.add(Entity(meshes.box(), "box", position=[0, 1, 0], scale=[2, 2, 2]))
    front = scene.add(Entity(meshes.sphere(), "sphere", position=[0, -1, 0], scale=[1, 1, 1]))
    passes = engine.render(scene)
    assert set(np.unique(passes.instance)) == {0, back.instance_id, front.instance_id}
    centre = passes.instance[60, 80]
    assert centre == front.instance_id
    # The sphere's front point is at 5 - 1 - 0.5 = 3.5 m from the camera, within tessellation.
    assert abs(passes.depth[59:61, 79:81].min() - 3.5) < 2e-3


def test_many_instances_keep_their_ids(engine):
    scene = Scene(camera(position=(0, -12, 0)))
    for i in range(300):
        row, col = divmod(i, 20)
        scene.add(
            Entity(
                meshes.box(),
                "box",
                position=[(col - 9.5) * 0.6, 0, (row - 7) * 0.6],
                scale=[0.25, 0.25, 0.25],
            )
        )
    passes = engine.render(scene)
    assert set(np.unique(passes.instance)) == set(range(301))


def test_color_pass_uses_the_background_and_lights_objects(engine):
    scene = Scene(camera(), background=np.array([0.0, 0.0, 1.0]))
    scene.add(Entity(meshes.sphere(), "ball", color=[1.0, 0.0, 0.0]))
    passes = engine.render(scene)
    assert passes.color[0, 0].tolist() == [0, 0, 255]
    centre = passes.color[60, 80]
    # Red, plus the white highlight a dielectric (4 % reflection) puts on it.
    assert centre[0] > 150 and centre[0] > 3 * max(centre[1], centre[2])
