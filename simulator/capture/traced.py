"""Motion blur when Cycles draws the RGB: what the capture hands Cycles for a clip's frame.

Cycles blurs motion itself (cycles.motion): each path is drawn at a time of its own, uniform
over the open shutter, and every moving object's and the camera's pose is read there between
their poses at the shutter's opening, centre and closing. So Cycles is given the frame's
scene and the scenes at the two ends of the shutter, made as the engine's sub-frames are
(`subframe(t)`: Pipeline.subframe_scene, poses from the motions, the frame rebuilt where the
world animates values). Continuous time, where the engine's blur is `blur_samples` sharp
sub-frames: a streak is smooth however long, never a row of ghosts; its noise is Cycles'
own, `samples` paths a pixel, and `blur_samples` plays no part in the poses.

The light is the one part of a scene that the engine reads at each sub-frame and Cycles
cannot follow through the shutter: it takes one set of lights and one film. What scales the
light linearly is averaged over the engine's own sub-frame times (blur.subframe_times):
- the lights: every sub-frame's lights, each at 1/`blur_samples` of its intensity (those
  equal but for intensity merged into one), so an animated intensity is its mean, a light
  switched on mid-shutter shines for its share of it, and a turning sun is as many suns
  as the engine draws;
- the film's gain (exposure, metering, white balance): its mean.
Radiance is linear in both, so this is the engine's mean radiance wherever what a pixel sees
does not move while the shutter is open; where it does, the light's change and the motion
are averaged apart (a second-order difference over a fraction of a frame interval). What
else animates (the sky and its environment, materials, the tone curve) is the centre's.
Without animated values every sub-frame's lights and gain are the frame's, and Cycles gets
the frame's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields, replace

import numpy as np

from simulator.capture.blur import moves, subframe_times
from simulator.cycles import Shutter
from simulator.scene.motion import ClipFrame
from simulator.scene.scene import Light, Scene


def traced(
    scene: Scene,
    clip: ClipFrame,
    shutter: float,
    samples: int,
    subframe: Callable[[float], Scene],
    gain: Callable[[Scene], np.ndarray],
) -> tuple[Scene, np.ndarray, Shutter | None]:
    """What Cycles draws for a clip's frame: the scene, the film gain, and the open shutter
    (None with the shutter closed or where nothing moves: the frame's own scene and gain
    then). Open: the scenes at its ends, `subframe(t)`, and the lights and gain (`gain(s)`
    of a scene s) of the engine's `samples` sub-frames, averaged."""
    if shutter <= 0 or not moves(scene):
        return scene, gain(scene), None
    half = shutter / 2
    opened = Shutter(subframe(clip.frame - half), subframe(clip.frame + half), shutter)
    subframes = [subframe(float(t)) for t in subframe_times(clip.frame, shutter, samples)]
    lit = replace(scene, lights=mean_lights([s.lights for s in subframes]))
    return lit, held([gain(s) for s in subframes]), opened


def mean_lights(sets: Sequence[list[Light]]) -> list[Light]:
    """The lights whose light is the mean of the light of the sets: every set's lights at
    1/len(sets) of their intensity, those equal but for their intensity merged (in the order
    first seen), so sets all equal give the first set back exactly."""
    intensities: dict[tuple, list[float]] = {}
    first: dict[tuple, Light] = {}
    for lights in sets:
        for light in lights:
            key = _look(light)
            first.setdefault(key, light)
            intensities.setdefault(key, []).append(float(light.intensity))
    return [
        replace(first[key], intensity=float(held(values)) * (len(values) / len(sets)))
        for key, values in intensities.items()
    ]


def _look(light: Light) -> tuple:
    """Everything about a light but its intensity (vectors by their bytes)."""
    values = (getattr(light, f.name) for f in fields(light) if f.name != "intensity")
    return tuple(np.asarray(v, float).tobytes() if isinstance(v, np.ndarray) else v for v in values)


def held(values: Sequence[np.ndarray | float]) -> np.ndarray:
    """The mean of `values` (float64), or the first exactly where they are all equal."""
    stacked = np.asarray(values, np.float64)
    if (stacked == stacked[0]).all():
        return stacked[0]
    return stacked.mean(axis=0)
