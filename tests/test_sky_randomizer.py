"""The `sky` randomizer with continuous sun elevation and turbidity: the sun exact, the sky
the bilinear blend of the grid's skies around it (plugins/environments.py). Checked against
the keyframes' slope, against the blend's weights worked out here, against the sky a grid
node made before blending existed, and for the same bytes whatever the worker count."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from datasets import dataset_files

from simulator.capture.frame import Renderer
from simulator.capture.pipeline import Pipeline, host_for
from simulator.run.runner import RunOptions, run
from simulator.scene import sky
from simulator.world.load import load_world

WORLD = """
[world]
name = "sunset"
seed = 5
frames = {frames}
[camera]
resolution = [64, 48]
position = [6.0, 0.0, 1.5]
target = [0.0, 0.0, 0.8]
{clip}
[render]
preset = "fast"
[[spawners]]
type = "primitive"
shape = "box"
count = 1
size = 1.0
color = [0.8, 0.8, 0.8]
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
color = [0.8, 0.8, 0.8]
[[randomizers]]
type = "sky"
shadows = false
{sky}
[output]
labels = ["boxes"]
writers = ["native"]
"""
RAMP = 'elevation = { keyframes = [[0.0, 40.0], [1.0, 18.0]], curve = "linear" }\n'
RAMP += "azimuth = 20\nturbidity = 3"
LUMINANCE = np.array([0.2126, 0.7152, 0.0722])


def _world(tmp_path: Path, sky_lines: str, frames: int = 12, clip: int | None = 12):
    path = tmp_path / "world.toml"
    section = f"[clip]\nframes = {clip}\nfps = 12" if clip else ""
    path.write_text(WORLD.format(frames=frames, clip=section, sky=sky_lines))
    return load_world(path)


def _scenes(world, count: int):
    pipeline = Pipeline(world, host_for(world))
    return [pipeline.build_scene(i) for i in range(count)]


def _elevation(direction: np.ndarray) -> float:
    return math.degrees(math.asin(-float(direction[2])))


def test_an_animated_sun_moves_every_frame_by_the_keyframes_slope(tmp_path):
    scenes = _scenes(_world(tmp_path, RAMP), 12)
    suns = [s.lights[0] for s in scenes]
    elevations = np.array([_elevation(s.direction) for s in suns])
    np.testing.assert_allclose(np.diff(elevations), -22.0 / 11, atol=1e-9)  # 40 to 18 in 11
    azimuths = [math.degrees(math.atan2(s.direction[1], s.direction[0])) for s in suns]
    np.testing.assert_allclose(azimuths, 20.0 - 180.0, atol=1e-9)  # it travels away from the sun
    reds = [s.color[0] / s.color[2] for s in suns]
    assert all(np.diff(reds) > 0), "redder every frame as it sinks"
    keys = [s.environment.key for s in scenes if s.environment is not None]
    assert len(set(keys)) == 12, "a sky of its own every frame"


@pytest.mark.parametrize(
    ("elevation", "turbidity", "expected"),
    [
        (
            47.0,
            3.25,
            {(45, 3): 0.6 * 0.75, (45, 4): 0.6 * 0.25, (50, 3): 0.4 * 0.75, (50, 4): 0.4 * 0.25},
        ),
        (
            88.5,
            1.85,
            {(85, 1.7): 0.3 * 0.5, (85, 2): 0.3 * 0.5, (90, 1.7): 0.7 * 0.5, (90, 2): 0.7 * 0.5},
        ),
        (12.5, 10.0, {(10, 10): 0.5, (15, 10): 0.5}),
    ],
)
def test_the_sky_is_the_bilinear_blend_of_the_grid_skies_around_it(
    tmp_path, elevation, turbidity, expected
):
    world = _world(tmp_path, f"elevation = {elevation}\nturbidity = {turbidity}", 1, None)
    [scene] = _scenes(world, 1)
    assert scene.environment is not None
    parts = {part.key: weight for part, weight in scene.environment.parts}
    wanted = {sky.sky_environment(e, 0.0, t).key: w for (e, t), w in expected.items()}
    assert parts.keys() == wanted.keys()
    for key, weight in wanted.items():
        assert parts[key] == pytest.approx(weight, abs=1e-12)
    assert _elevation(scene.lights[0].direction) == pytest.approx(elevation, abs=1e-9)
    # the scale puts a white up-facing surface at radiance 1 under the blend and the exact sun
    sun = sky.sun_light(elevation, 0.0, turbidity)
    environment = scene.environment
    floor = environment.intensity * sky.horizontal_illuminance(environment.turned(0.0, 1.0))
    floor = floor + sun.irradiance * math.sin(math.radians(elevation)) * environment.intensity
    assert float(floor @ LUMINANCE) / np.pi == pytest.approx(1.0, rel=1e-9)


def test_at_a_grid_node_the_sky_and_sun_are_those_made_before_blending(tmp_path):
    """Before blending, a sky was its grid node's: worked out here as it was then."""
    world = _world(
        tmp_path, "elevation = 45\nturbidity = 4\nazimuth = { uniform = [0, 360] }", 3, None
    )
    node = sky.sky_environment(45.0, 0.0, 4.0)
    sun = sky.sun_light(45.0, 0.0, 4.0)
    scale = np.pi / float(sky.horizontal_illuminance(node, sun) @ LUMINANCE)
    strength = float(sun.irradiance @ LUMINANCE)
    for scene in _scenes(world, 3):
        environment, [light] = scene.environment, scene.lights
        assert environment is not None and environment.parts == ()
        assert environment.key == node.key and environment.intensity == scale
        np.testing.assert_array_equal(environment.image, node.image)
        a = math.radians(environment.rotation)
        turn = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
        assert light.direction.tobytes() == (turn @ sun.direction).tobytes()
        assert light.color.tobytes() == (sun.irradiance / strength).tobytes()
        assert light.intensity == strength / np.pi * scale


def test_an_animated_sky_brightens_frame_by_frame_without_steps(tmp_path):
    """As the sun sinks the camera, looking along the horizon, sees more sky and a box face
    turned towards the sun: every frame brighter than the last, by steps that change
    smoothly (a sky held for a few frames, then jumping, fails both)."""
    world = _world(tmp_path, RAMP)
    renderer = Renderer(world)
    try:
        means = [renderer.engine.render(s).color.mean() for s in _scenes(world, 12)]
    finally:
        renderer.close()
    steps = np.diff(means)
    assert np.all(steps > 0), steps
    assert np.all((steps[1:] / steps[:-1] > 0.6) & (steps[1:] / steps[:-1] < 1.6)), steps


def test_one_and_two_workers_write_the_same_skies(tmp_path):
    sky_lines = "elevation = { keyframes = [[0.0, { uniform = [30.0, 60.0] }], [1.0, 12.0]] }\n"
    sky_lines += "turbidity = { uniform = [1.7, 7.0] }"
    world = _world(tmp_path, sky_lines, frames=8, clip=4)
    one = run(world, RunOptions(tmp_path / "one", shard_size=4)).root
    two = run(world, RunOptions(tmp_path / "two", shard_size=4, workers=2)).root
    assert dataset_files(one) == dataset_files(two)
