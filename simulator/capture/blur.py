"""Motion blur: a clip frame's RGB as the light gathered while the shutter is open.

The shutter is open for `shutter` x the frame interval, centred on the frame's time. The
frame's scene is drawn again at `blur_samples` sub-frame times spread evenly over that
interval (the centre of each of as many equal slices), every motion read there, and the
images are averaged in linear light. The labels are the frame's own, drawn at the centre:
only the colour is drawn again.

The average is taken of the 8-bit images decoded through the tone curve's own encoding, not
of the radiance before the curve: the engine's colour target is 8-bit and the curve is in
its fragment shader, so averaging before it would take a float colour target and the curve
moved out of the shader, for four times the bytes read back per sub-frame. Decoded, the
average is the radiance's (to within the 8-bit steps) wherever no sub-frame clips: exact
for "clamp" (2.2 gamma) and "linear" (sRGB); for "aces" it is the average of the
display-referred light, the filmic curve not undone.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.capture.clips import subframe_scene
from simulator.scene.motion import ClipFrame
from simulator.scene.scene import Scene, ToneCurve

_LEVELS = np.arange(256, dtype=float) / 255.0


def subframe_times(frame: int, shutter: float, samples: int) -> np.ndarray:
    """The fractional frames of the sub-frames: the centres of `samples` equal slices of
    [frame - shutter / 2, frame + shutter / 2], so their mean is the frame itself."""
    return frame + shutter * ((np.arange(samples) + 0.5) / samples - 0.5)


def decode(tone: ToneCurve) -> np.ndarray:
    """Linear light of each 8-bit level, through the inverse of the tone curve's encoding."""
    if tone == "clamp":
        return _LEVELS**2.2
    return np.where(_LEVELS <= 0.04045, _LEVELS / 12.92, ((_LEVELS + 0.055) / 1.055) ** 2.4)


def encode(light: np.ndarray, tone: ToneCurve) -> np.ndarray:
    """8-bit levels of linear light (the exact inverse of `decode`, rounded)."""
    c = np.clip(light, 0.0, 1.0)
    if tone == "clamp":
        levels = c ** (1 / 2.2)
    else:
        levels = np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.rint(levels * 255.0).astype(np.uint8)


def average(colors: list[np.ndarray], tone: ToneCurve) -> np.ndarray:
    """The mean in linear light of 8-bit RGB images, encoded again."""
    table = decode(tone)
    total = np.zeros(colors[0].shape, dtype=float)
    for color in colors:  # in order: the same sums, so the same bytes, in any process
        total += table[color]
    return encode(total / len(colors), tone)


def moves(scene: Scene) -> bool:
    """Whether anything in the frame's scene has a motion (else every sub-frame is it)."""
    return scene.camera.path is not None or any(e.motion is not None for e in scene.entities)


def exposed(
    scene: Scene,
    clip: ClipFrame,
    shutter: float,
    samples: int,
    draw_color: Callable[[Scene], np.ndarray],
) -> np.ndarray | None:
    """The frame's RGB gathered over the open shutter (None where nothing moves: the frame's
    own RGB is then already that)."""
    if shutter <= 0 or not moves(scene):
        return None
    times = subframe_times(clip.frame, shutter, samples)
    colors = [draw_color(subframe_scene(scene, float(t))) for t in times]
    return average(colors, scene.film.tone)
