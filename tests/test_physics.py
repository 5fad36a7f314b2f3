"""settle: objects end on the ground, at rest, the same way every time."""

import numpy as np

from sim_plugins.physics import STEP, SettleParams, simulate
from simulator import transforms
from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import parse_world

PARAMS = SettleParams()  # the same physical settings as the settle randomizer's defaults

WORLD = """
[world]
seed = {seed}
[[spawners]]
type = "primitive"
shape = {{ choice = ["box", "sphere", "cylinder", "cone", "torus"] }}
count = 6
size = {{ uniform = [0.3, 0.6] }}
[[randomizers]]
type = "rotation"
uniform_3d = true
[[randomizers]]
type = "scatter"
low = [-1.5, -1.5, 0.4]
high = [1.5, 1.5, 1.2]
[[randomizers]]
type = "settle"
surface = {surface}
"""


def settled_scenes(surface=0.0, seeds=range(2), frames=range(5)):
    for seed in seeds:
        world = parse_world(WORLD.format(seed=seed, surface=surface))
        pipeline = Pipeline(world, host_for(world))
        for frame in frames:
            yield pipeline.build_scene(frame)


def lowest(entity) -> float:
    return float(transforms.transform_points(entity.matrix(), entity.mesh.vertices)[:, 2].min())


def test_objects_end_on_the_ground():
    for scene in settled_scenes(surface=0.2):
        for entity in scene.entities:
            # The ground plane, within Bullet's 1 mm collision margin.
            assert 0.2 - 1e-3 <= lowest(entity) <= 0.2 + 3e-3, entity.record()


def test_settled_objects_do_not_move_in_further_steps():
    checked = 0
    for seed in range(2):
        world = parse_world(
            WORLD.format(seed=seed, surface=0.0).replace(
                '[[randomizers]]\ntype = "settle"\nsurface = 0.0\n', ""
            )
        )
        pipeline = Pipeline(world, host_for(world))
        for frame in range(5):
            entities = pipeline.build_scene(frame).entities
            bullet, bodies, settled = simulate(entities, PARAMS)
            if not settled:
                continue
            rest = [np.array(node.get_pos()) for _, node in bodies]
            for _ in range(240):  # one more second
                bullet.do_physics(STEP, 1, STEP)
            moved = max(
                np.linalg.norm(np.array(n.get_pos()) - r)
                for (_, n), r in zip(bodies, rest, strict=True)
            )
            assert moved < 2e-3
            checked += 1
    assert checked >= 5, "most frames settle within the time limit"


def test_settling_is_deterministic():
    first = [[e.record() for e in s.entities] for s in settled_scenes(seeds=[1], frames=[2, 3])]
    again = [[e.record() for e in s.entities] for s in settled_scenes(seeds=[1], frames=[2, 3])]
    assert first == again
