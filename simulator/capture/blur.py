"""Motion blur: a clip frame's RGB as the light gathered while the shutter is open.

The shutter is open for `shutter` x the frame interval, centred on the frame's time. The
frame's scene is drawn again at `blur_samples` sub-frame times spread evenly over that
interval (the centre of each of as many equal slices), every motion read there, and where
the world animates a value (a light's intensity, the film's exposure) the frame's scene is
rebuilt at the sub-frame's time (Pipeline.subframe_scene). The labels are the frame's own,
drawn at the centre: only the colour is drawn again. In a rig every camera is blurred at the
same times, from the one sub-frame scene, each camera where its pose in the rig puts it about
the first camera's pose there (capture.frame).

The average is of the radiance, as a sensor integrates it, and the tone curve comes after:
each sub-frame is drawn as float32 radiance (after the film's gain, before the curve:
Engine.render_radiance), summed in float64 in sub-frame order (the same sums, so the same
bytes, in any process), and the mean goes once through the tone curve and FXAA, where the
world has it (Engine.develop, with the frame pass's own curve code). So a highlight's streak
keeps its light where the filmic curve ("aces") would have rolled each sub-frame off, and a
still scene's mean is the frame's own bytes (tested for every curve, backdrop and FXAA).

A background image or colour is drawn as the light the curve shows as it (its exact
inverse), so a pixel only ever background gives its colour back. Multisampled, a sub-frame
resolves its samples in radiance too (a sensor's pixel averages the light over its area),
where the engine's unblurred frames average the 8-bit colour: edge pixels of a blurred frame
are lighter than the unblurred frame's where the curve bends (up to about 70 levels at a
black and white edge under the 2.2 gamma); elsewhere they agree within a level. Doing it the
8-bit way would need each sample through the curve before the resolve, which a multisampled
target read by Panda3D does not give.

Cost, measured (bench/blur.py, worlds/movi.toml at 640 x 480, "aces" with FXAA): a
sub-frame's radiance pass draws the colour alone (no label targets, no FXAA) and reads back
12 bytes a pixel instead of 3, 75 ms against the 94 ms of the 8-bit render it replaces; the
mean of 8 sub-frames and one tone pass with FXAA take 41 ms, against 29 ms for the 8-bit
average: 0.54 s a blurred frame of 8 sub-frames against 0.62 s before.

With `[render] renderer = "cycles"` no sub-frame is drawn: Cycles blurs the frame itself, each
path at a time of its own over the open shutter (capture.traced, cycles.motion).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from simulator.scene.motion import ClipFrame
from simulator.scene.scene import Scene, ToneCurve


def subframe_times(frame: int, shutter: float, samples: int) -> np.ndarray:
    """The fractional frames of the sub-frames: the centres of `samples` equal slices of
    [frame - shutter / 2, frame + shutter / 2], so their mean is the frame itself."""
    return frame + shutter * ((np.arange(samples) + 0.5) / samples - 0.5)


def mean_radiance(images: Iterable[np.ndarray]) -> np.ndarray:
    """The mean of radiance images, summed in float64 in their order as they come (one
    held at a time), as float32."""
    total: np.ndarray | None = None
    count = 0
    for image in images:
        total = image.astype(np.float64) if total is None else np.add(total, image, out=total)
        count += 1
    if total is None:
        raise ValueError("no sub-frame to average")
    return (total / count).astype(np.float32)


def moves(scene: Scene) -> bool:
    """Whether anything in the frame's scene has a motion (else every sub-frame is it)."""
    return scene.camera.path is not None or any(e.motion is not None for e in scene.entities)


def exposed(
    scene: Scene,
    clip: ClipFrame,
    shutter: float,
    samples: int,
    subframe: Callable[[float], Scene],
    radiance: Callable[[Scene], np.ndarray],
    develop: Callable[[np.ndarray, ToneCurve], np.ndarray],
) -> np.ndarray | None:
    """The frame's RGB gathered over the open shutter (None where nothing moves: the frame's
    own RGB is then already that). `subframe(t)`: the scene at fractional frame t;
    `radiance(scene)`: its radiance image; `develop(radiance, tone)`: the 8-bit image."""
    if shutter <= 0 or not moves(scene):
        return None
    times = subframe_times(clip.frame, shutter, samples)
    images = (radiance(subframe(float(t))) for t in times)
    return develop(mean_radiance(images), scene.film.tone)
