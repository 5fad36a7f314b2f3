"""Placement: objects apart (checked with Bullet contact tests), on a surface, on a grid."""

import numpy as np
import pytest
from panda3d.bullet import BulletConvexHullShape, BulletRigidBodyNode, BulletWorld
from panda3d.core import LPoint3f, NodePath

from simulator import transforms
from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import parse_world

WORLD = """
[world]
seed = {seed}
[[spawners]]
type = "primitive"
shape = {{ choice = ["box", "sphere", "cylinder", "cone", "torus"] }}
count = 9
size = {{ uniform = [0.3, 0.7] }}
[[randomizers]]
type = "rotation"
uniform_3d = true
{extra}
"""


def scenes(extra: str, seeds=range(3), frames=range(8)):
    for seed in seeds:
        world = parse_world(WORLD.format(seed=seed, extra=extra))
        pipeline = Pipeline(world, host_for(world))
        for frame in frames:
            yield pipeline.build_scene(frame)


def penetrations(scene) -> int:
    """Pairs of entities whose posed meshes interpenetrate, by Bullet's contact test."""
    world, bodies = BulletWorld(), []
    for entity in scene.entities:
        points = (
            entity.mesh.vertices @ (transforms.hpr_matrix(entity.hpr) @ np.diag(entity.scale)).T
        )
        shape = BulletConvexHullShape()
        for point in points:
            shape.add_point(LPoint3f(*point))
        shape.set_margin(0.0)
        body = NodePath(BulletRigidBodyNode(f"e{entity.instance_id}"))
        body.node().add_shape(shape)
        body.set_pos(*entity.position)
        world.attach(body.node())
        bodies.append(body.node())
    count = 0
    for i, a in enumerate(bodies):
        for b in bodies[i + 1 :]:
            result = world.contact_test_pair(a, b)
            if any(
                point.get_distance() < -1e-4
                for contact in result.get_contacts()
                for point in [contact.get_manifold_point()]
            ):
                count += 1
    return count


def test_scattered_objects_never_interpenetrate():
    extra = '[[randomizers]]\ntype = "scatter"\nlow = [-2, -2, 0]\nhigh = [2, 2, 1.5]\n'
    assert sum(penetrations(scene) for scene in scenes(extra)) == 0


def test_the_bullet_check_does_find_overlaps_when_allowed():
    extra = (
        '[[randomizers]]\ntype = "scatter"\nlow = [-0.6, -0.6, 0]\nhigh = [0.6, 0.6, 0.4]\n'
        "no_overlap = false\n"
    )
    assert sum(penetrations(scene) for scene in scenes(extra)) > 0


def test_objects_rest_on_the_surface():
    extra = (
        '[[randomizers]]\ntype = "scatter"\nlow = [-2, -2, 0]\nhigh = [2, 2, 0]\nsurface = 0.25\n'
    )
    for scene in scenes(extra, seeds=[0], frames=range(3)):
        for entity in scene.entities:
            world = transforms.transform_points(entity.matrix(), entity.mesh.vertices)
            assert world[:, 2].min() == pytest.approx(0.25, abs=1e-6)


def test_scatter_changes_positions_and_nothing_else():
    extra = '[[randomizers]]\ntype = "scatter"\n'
    for plain, scattered in zip(scenes(""), scenes(extra), strict=True):
        for a, b in zip(plain.entities, scattered.entities, strict=True):
            assert a.hpr.tolist() == b.hpr.tolist() and a.scale.tolist() == b.scale.tolist()
            assert a.color.tolist() == b.color.tolist() and a.mesh is b.mesh
        assert [e.position.tolist() for e in plain] != [e.position.tolist() for e in scattered]


def test_no_room_is_an_error_naming_the_frame():
    from simulator.errors import PluginError

    extra = (
        '[[randomizers]]\ntype = "scatter"\nlow = [0, 0, 0]\nhigh = [0.1, 0.1, 0.1]\nattempts = 5\n'
    )
    with pytest.raises(
        PluginError,
        match=r"randomizer 'scatter'.*no free place for object 2 "
        r"after 5 draws \(1 placed\).* at frame 0",
    ):
        next(scenes(extra))


def test_grid_puts_objects_on_cells_within_the_jitter():
    extra = (
        '[[randomizers]]\ntype = "grid"\norigin = [1, 2, 0.5]\nspacing = 0.8\ncolumns = 3\n'
        "jitter = 0.05\n"
    )
    scene = next(scenes(extra))
    positions = np.array([e.position for e in scene.entities])
    cells = np.array(
        [[(c - 1) * 0.8 + 1, (r - 1) * 0.8 + 2, 0.5] for r in range(3) for c in range(3)]
    )
    assert np.abs(positions - cells).max() <= 0.05 + 1e-12
    assert np.all(positions[:, 2] == 0.5)


def test_objects_placed_around_a_target_keep_their_distance_and_apart():
    extra = '[[randomizers]]\ntype = "scatter"\naround = [1, 2, 0.5]\nradius = [1.5, 2.5]\n'
    scenes_around = list(scenes(extra))
    for scene in scenes_around:
        for entity in scene.entities:
            offset = entity.position - [1, 2, 0.5]
            assert 1.5 - 1e-9 <= np.hypot(offset[0], offset[1]) <= 2.5 + 1e-9
            assert offset[2] == 0
    assert sum(penetrations(scene) for scene in scenes_around) == 0
