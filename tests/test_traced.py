"""What the capture hands Cycles for a blurred frame (capture.traced), no render: the
scenes at the shutter's ends, the lights and the film gain averaged over the engine's
sub-frame times; a still frame's own scene and gain."""

import numpy as np
import pytest

from simulator.capture.blur import subframe_times
from simulator.capture.traced import mean_lights, traced
from simulator.scene import meshes
from simulator.scene.motion import ClipFrame, Motion
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene

W, H, FPS = 64, 48, 10.0


def _scene(moving: bool) -> Scene:
    scene = Scene(CameraState(W, H, fov=60, position=[0, -5, 0], target=[0, 0, 0]))
    entity = scene.add(Entity(meshes.box()))
    if moving:
        positions = np.array([[0.0, 0, 0], [1.0, 0, 0], [2.0, 0, 0]])
        zeros = np.zeros((3, 3))
        entity.motion = Motion(positions, zeros, zeros, zeros)
    return scene


def _at(scene: Scene, time: float) -> Scene:
    """The scene at fractional frame `time`: the box posed there, the light and the
    exposure ramping with time (as animated values would)."""
    posed = Scene(
        scene.camera,
        lights=[Light("point", intensity=2.0 * time)],
        film=Film(exposure=time),
    )
    for entity in scene.entities:
        copy = posed.add(Entity(entity.mesh, motion=entity.motion))
        if entity.motion is not None:
            copy.position, copy.hpr = entity.motion.pose_at(time)
    return posed


def _gain(scene: Scene) -> np.ndarray:
    return np.full(3, 2.0**scene.film.exposure)


def test_cycles_gets_the_poses_at_the_shutters_ends_and_the_mean_light_of_the_sub_frames():
    scene = _at(_scene(moving=True), 1.0)
    clip = ClipFrame(0, 1, 3, FPS)
    lit, gain, shutter = traced(scene, clip, 0.5, 4, lambda t: _at(scene, t), _gain)
    assert shutter is not None and shutter.length == 0.5
    assert shutter.opens.entities[0].position.tolist() == [0.75, 0, 0]
    assert shutter.closes.entities[0].position.tolist() == [1.25, 0, 0]
    times = subframe_times(1, 0.5, 4)
    assert lit.lights[0].intensity == pytest.approx(np.mean(2.0 * times))
    np.testing.assert_allclose(gain, np.mean(2.0**times))
    assert lit.entities is scene.entities and lit.camera is scene.camera


def test_a_still_frame_is_drawn_at_its_centre_with_its_own_light():
    scene = _at(_scene(moving=False), 1.0)
    lit, gain, shutter = traced(
        scene, ClipFrame(0, 1, 3, FPS), 0.5, 4, lambda t: _at(scene, t), _gain
    )
    assert shutter is None and lit is scene and gain.tolist() == [2.0] * 3


def test_a_light_switched_on_mid_shutter_shines_for_its_share_of_it():
    ambient, key = Light("ambient", intensity=0.3), Light("directional", intensity=2.0)
    lights = mean_lights([[ambient], [ambient], [ambient, key], [ambient, key]])
    assert [light.kind for light in lights] == ["ambient", "directional"]
    assert [light.intensity for light in lights] == [0.3, 1.0]
    # a turning sun: as many suns as sub-frames, each with its share of the light
    suns = mean_lights([[Light("directional", direction=[0, 0.1 * k, -1])] for k in range(4)])
    assert len(suns) == 4 and all(sun.intensity == 0.25 for sun in suns)
    assert suns[3].direction.tolist() == pytest.approx([0, 0.3, -1])
