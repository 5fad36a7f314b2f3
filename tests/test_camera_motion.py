"""camera_motion: the camera's path over a clip, from the pose it starts at."""

import numpy as np
import pytest

from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import PluginError
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 2
[camera]
position = [1, -6, 3]
target = [0, 0, 0.5]
[clip]
frames = 6
fps = 3
[[spawners]]
type = "primitive"
[[randomizers]]
type = "camera_motion"
{motion}
"""


def _cameras(motion: str) -> list:
    world = parse_world(WORLD.format(motion=motion))
    pipeline = Pipeline(world, host_for(world))
    return [pipeline.build_scene(k).camera for k in range(6)]


def test_static_keeps_the_world_camera():
    for camera in _cameras('motion = "static"'):
        np.testing.assert_array_equal(camera.position, [1, -6, 3])
        np.testing.assert_array_equal(camera.target, [0, 0, 0.5])


def test_a_dolly_moves_camera_and_target_at_its_velocity():
    for k, camera in enumerate(_cameras('motion = "dolly"\nvelocity = [0.3, 0, -0.1]')):
        step = np.array([0.3, 0, -0.1]) * k / 3
        np.testing.assert_allclose(camera.position, np.array([1, -6, 3]) + step, atol=1e-12)
        np.testing.assert_allclose(camera.target, np.array([0, 0, 0.5]) + step, atol=1e-12)


def test_an_orbit_turns_about_the_vertical_through_the_target_at_its_rate():
    start = np.arctan2(-6, 1)
    for k, camera in enumerate(_cameras('motion = "orbit"\nrate = 30')):
        offset = camera.position - camera.target
        assert np.hypot(offset[0], offset[1]) == pytest.approx(np.hypot(1, 6))
        assert offset[2] == pytest.approx(2.5)
        turned = np.degrees(np.arctan2(offset[1], offset[0]) - start)
        assert turned == pytest.approx(30 * k / 3)


def test_shake_wanders_smoothly_within_its_amplitude():
    cameras = _cameras("shake = 0.05")
    offsets = np.array([c.position - [1, -6, 3] for c in cameras])
    assert np.abs(offsets).max() <= 0.05
    assert np.abs(offsets).max() > 0.005, "it does shake"
    # Sines of at most 1.5 x 1.5 Hz and amplitude 0.05: no faster than 2 pi f A per second.
    fastest = 2 * np.pi * 1.5 * 1.5 * 0.05 / 3
    assert np.abs(np.diff(offsets, axis=0)).max() <= fastest
    assert [c.position.tolist() for c in _cameras("shake = 0.05")] == offsets.__add__(
        [1, -6, 3]
    ).tolist()


def test_camera_motion_needs_a_clip():
    world = parse_world(WORLD.format(motion="").replace("[clip]\nframes = 6\nfps = 3\n", ""))
    with pytest.raises(PluginError, match=r"add a \[clip\] section"):
        Pipeline(world, host_for(world)).build_scene(0)
