"""Camera rigs: the cameras of `[camera.rig]` besides the first, and the stereo pair's
disparity, exact from the first camera's plane depth (docs/labels.md, "Camera rigs").

A stereo pair is rectified by construction: the right camera is the left one moved
`baseline` metres along its own x axis, same orientation and intrinsics, so a surface point
at plane depth z seen at column u in the left image is at u - f * baseline / z in the right,
on the same row.
"""

from __future__ import annotations

import numpy as np

from simulator.world.schema import RigSection

FIRST = "left"  # the first camera's name in a stereo rig: the frame's own camera


def cameras(rig: RigSection) -> list[tuple[str, np.ndarray]]:
    """The rig's other cameras: name and offset from the first, in its OpenCV axes (metres)."""
    return [("right", np.array([rig.baseline, 0.0, 0.0]))]


def pose(offset: np.ndarray) -> np.ndarray:
    """A rig camera's pose in the rig: camera to first camera (a translation: same axes)."""
    matrix = np.eye(4)
    matrix[:3, 3] = offset
    return matrix


def disparity(depth: np.ndarray, baseline: float, focal: float) -> np.ndarray:
    """float32 (H, W) disparity in pixels, baseline * focal / depth, of the left image's
    pixels (x_left - x_right of the surface each sees); 0 on the background (depth 0)."""
    out = np.zeros(depth.shape, dtype=np.float32)
    seen = depth > 0
    out[seen] = baseline * focal / depth[seen].astype(np.float64)
    return out
