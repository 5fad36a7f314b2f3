"""camera_orbit: field of view, look-at jitter, and no viewpoint inside an object."""

import numpy as np
import pytest

from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 2
[[spawners]]
type = "primitive"
name = "crate"
shape = "box"
size = 6
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
size = 40
distractor = true
[[randomizers]]
type = "camera_orbit"
{params}
"""


def scenes(params: str, frames: int = 40):
    world = parse_world(WORLD.format(params=params))
    pipeline = Pipeline(world, host_for(world))
    return [pipeline.build_scene(i) for i in range(frames)]


def test_no_viewpoint_falls_inside_an_object():
    # Half the drawn distances (1 to 3 m) would put the camera inside the 6 m crate.
    params = "target = [0, 0, 0]\ndistance = { uniform = [1.0, 6.0] }\nclearance = 0.1"
    for scene in scenes(params):
        assert np.abs(scene.camera.position).max() > 3.0 + 0.1
    # The check means something: with a single draw per frame, some frames find no viewpoint.
    from simulator.errors import PluginError

    world = parse_world(WORLD.format(params=params + "\nattempts = 1"))
    pipeline, failed = Pipeline(world, host_for(world)), 0
    for frame in range(40):
        try:
            pipeline.build_scene(frame)
        except PluginError:
            failed += 1
    assert failed > 0


def test_all_viewpoints_inside_is_an_error():
    from simulator.errors import PluginError

    with pytest.raises(PluginError, match="every one of 3 viewpoints was inside an object"):
        scenes("target = [0, 0, 0]\ndistance = 1.0\nattempts = 3", 1)


def test_fov_and_jitter_do_what_they_say():
    for scene in scenes("fov = { uniform = [30.0, 40.0] }\njitter = 0.5\ndistance = 12.0", 10):
        assert 30.0 <= scene.camera.fov <= 40.0
        assert np.linalg.norm(scene.camera.target - [0, 0, 0.5]) <= 0.5 + 1e-9
        assert scene.camera.record()["K"][0][0] == pytest.approx(
            round(scene.camera.width / 2 / np.tan(np.radians(scene.camera.fov) / 2), 6)
        )
