"""throw: objects thrown in a clip fly as projectiles, land, come to rest, the same every time."""

import subprocess
import sys

import numpy as np
import pytest

from sim_plugins.physics import MAX_STEP
from simulator import transforms
from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import PluginError
from simulator.world.load import parse_world

WORLD = """
[world]
seed = {seed}
[clip]
frames = {frames}
fps = 12
[[spawners]]
type = "primitive"
shape = {{ choice = ["box", "sphere", "cylinder"] }}
count = 4
size = 0.4
[[randomizers]]
type = "scatter"
low = [-1.5, -1.5, {low}]
high = [1.5, 1.5, {high}]
[[randomizers]]
type = "throw"
velocity = {velocity}
spin = [0, 0, 90]
damping = {damping}
"""


def _pipeline(seed=1, frames=12, low=1.5, high=2.0, velocity="[1, -0.5, 2]", damping=0.3):
    text = WORLD.format(
        seed=seed, frames=frames, low=low, high=high, velocity=velocity, damping=damping
    )
    world = parse_world(text)
    return Pipeline(world, host_for(world))


def test_a_throw_flies_as_a_projectile_until_it_lands():
    """Undamped free flight: x = x0 + v t, z = z0 + vz t - g (t^2 + t dt) / 2 for Bullet's
    semi-implicit Euler steps of dt (which add the g t dt / 2 term to the exact parabola)."""
    pipeline = _pipeline(frames=4, low=20.0, high=20.0, damping=0.0)
    scenes = [pipeline.build_scene(k) for k in range(4)]
    dt = 1 / 12 / np.ceil(1 / (12 * MAX_STEP) - 1e-9)
    for index, start in enumerate(scenes[0].entities):
        for k, scene in enumerate(scenes):
            t = k / 12
            entity = scene.entities[index]
            expected = start.position + np.array([1.0, -0.5, 2.0]) * t
            expected[2] -= 9.81 * (t * t + t * dt) / 2
            np.testing.assert_allclose(entity.position, expected, atol=1e-4)
            np.testing.assert_allclose(entity.velocity, [1.0, -0.5, 2.0 - 9.81 * t], atol=1e-4)
            np.testing.assert_allclose(entity.spin, [0, 0, np.radians(90)], atol=1e-5)
            rotation = transforms.hpr_matrix(entity.hpr) @ transforms.hpr_matrix(start.hpr).T
            turned = np.degrees(np.arctan2(rotation[1, 0], rotation[0, 0]))
            assert turned == pytest.approx(90 * t, abs=0.3)  # about +Z, at the thrown rate


def test_thrown_objects_land_on_the_ground_and_come_to_rest():
    # damping as settle's: rolling resistance, which Bullet lacks
    velocity = "{ uniform = [[-1, -1, 0], [1, 1, 1]] }"
    pipeline = _pipeline(frames=60, velocity=velocity, damping=0.8)
    last = pipeline.build_scene(59)
    for entity in last.entities:
        lowest = transforms.transform_points(entity.matrix(), entity.mesh.vertices)[:, 2].min()
        assert -2e-3 <= lowest <= 5e-3, entity.record()  # on the ground, within the margin
        assert np.linalg.norm(entity.velocity) < 0.05
    first = pipeline.build_scene(0)
    assert all(e.position[2] > 1.0 for e in first.entities), "thrown from where they were"


def test_frames_read_the_motion_written_once_per_clip():
    pipeline = _pipeline()
    k = 7
    scene = pipeline.build_scene(k)
    base = pipeline._clip_scene[0]
    for entity, moving in zip(scene.entities, base.entities, strict=True):
        np.testing.assert_array_equal(entity.position, moving.motion.positions[k])
        np.testing.assert_array_equal(entity.hpr, moving.motion.hprs[k])
    again = _pipeline().build_scene(k)  # a fresh pipeline builds the clip again: same poses
    assert [e.record() for e in again.entities] == [e.record() for e in scene.entities]


def test_a_throw_is_the_same_in_another_process():
    here = [e.record() for e in _pipeline(seed=4).build_scene(11).entities]
    code = (
        "import json, sys; sys.path.insert(0, 'tests'); from test_throw import _pipeline; "
        "print(json.dumps([e.record() for e in _pipeline(seed=4).build_scene(11).entities]))"
    )
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    import json

    assert json.loads(there.stdout) == json.loads(json.dumps(here))


def test_throw_without_a_clip_says_what_it_needs():
    text = WORLD.format(seed=1, frames=2, low=1, high=2, velocity="[0, 0, 0]", damping=0.3)
    world = parse_world(text.replace("[clip]\nframes = 2\nfps = 12\n", ""))
    with pytest.raises(
        PluginError, match=r"throw moves objects over a clip: give the world a \[clip\]"
    ):
        Pipeline(world, host_for(world)).build_scene(0)
