"""Placement on a support: objects drawn onto a shelf's top stand there, inside its outline,
and stay there once settled (the shelf a static triangle mesh)."""

import numpy as np
import pytest

from simulator import transforms
from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import PluginError
from simulator.world.load import parse_world

SHELF_TOP, HALF = 2.0, 1.0  # a box of edge 2 centred at z = 1: top at 2, footprint +-1

WORLD = """
[world]
seed = {seed}
[[spawners]]
type = "primitive"
name = "shelf"
shape = "box"
size = 2.0
position = [0.0, 0.0, 1.0]
distractor = true
[[spawners]]
type = "primitive"
name = "things"
shape = {{ choice = ["box", "sphere"] }}
count = 4
size = {{ uniform = [0.2, 0.3] }}
[[randomizers]]
type = "rotation"
targets = ["things"]
uniform_3d = true
[[randomizers]]
type = "scatter"
targets = ["things"]
on = "shelf"
level = "highest"
{settle}
"""

SETTLE = '[[randomizers]]\ntype = "settle"\ntargets = ["things"]\nsupports = ["shelf"]\n'


def scenes(settle: str, seeds=range(2), frames=range(3)):
    for seed in seeds:
        world = parse_world(WORLD.format(seed=seed, settle=settle))
        pipeline = Pipeline(world, host_for(world))
        for frame in frames:
            yield pipeline.build_scene(frame)


def posed(entity) -> np.ndarray:
    return transforms.transform_points(entity.matrix(), entity.mesh.vertices)


def test_scattered_objects_stand_on_the_shelf_top_inside_its_outline():
    for scene in scenes(""):
        for entity in scene.select(["things"]):
            points = posed(entity)
            assert points[:, 2].min() == pytest.approx(SHELF_TOP, abs=1e-6)
            assert np.abs(points[:, :2]).max() <= HALF + 1e-9


def test_settled_objects_rest_on_the_shelf_top():
    for scene in scenes(SETTLE):
        shelf = scene.select(["shelf"])[0]
        assert shelf.position.tolist() == [0.0, 0.0, 1.0]  # a support does not move
        for entity in scene.select(["things"]):
            points = posed(entity)
            assert entity.attributes["settled"] is True
            # On the top, within two of Bullet's 1 mm margins (object and shelf) and a
            # sphere's facets; over it, not fallen off.
            assert SHELF_TOP - 1e-3 <= points[:, 2].min() <= SHELF_TOP + 4e-3, entity.record()
            assert np.abs(entity.position[:2]).max() < HALF


def test_the_lowest_level_of_a_shelf_is_its_bottom_face_turned_up():
    # A box upside down: its former bottom faces up; "lowest" on a box has one up face only,
    # so highest and lowest agree, and the objects stand at the same height.
    text = WORLD.format(seed=0, settle="").replace('level = "highest"', 'level = "lowest"')
    scene = Pipeline(parse_world(text), host_for(parse_world(text))).build_scene(0)
    for entity in scene.select(["things"]):
        assert posed(entity)[:, 2].min() == pytest.approx(SHELF_TOP, abs=1e-6)


def test_a_missing_support_is_an_error_naming_it():
    text = WORLD.format(seed=0, settle="").replace('on = "shelf"', 'on = "table"')
    world = parse_world(text)
    with pytest.raises(PluginError, match=r"no entity is 'table' \(on\)"):
        Pipeline(world, host_for(world)).build_scene(0)
