"""sim's pinhole camera as a Blender camera with the same intrinsics and pose, so that each
Cycles pixel sees what the same pixel of sim's exact passes labels.

Blender's camera is a sensor and a lens: with the sensor fitted to the image width, the focal
length in pixels is lens / sensor_width x width, and the principal point moves by `shift_x`
and `shift_y`, both in units of the image width (+x right, +y up). sim's K puts the centre of
the top-left pixel at (0, 0) (scene.transforms), so its pixel-edge principal point is
(cx + 0.5, cy + 0.5); Cycles samples pixel (i, j) about its centre (i + 0.5, j + 0.5), as the
engine does. Blender's camera looks down its -Z with +Y up; sim's (OpenCV's) down +Z with +Y
down: the two differ by a half turn about x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scene.scene import CameraState

SENSOR_WIDTH = 36.0  # mm; any width does, only lens / sensor_width counts
OPENCV_TO_BLENDER = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass(frozen=True)
class Lens:
    """A Blender camera's intrinsics (sensor fit HORIZONTAL)."""

    lens: float  # mm
    sensor_width: float  # mm
    shift_x: float  # image widths, +x right
    shift_y: float  # image widths, +y up
    clip_start: float
    clip_end: float


def lens_of(K: np.ndarray, width: int, height: int, near: float, far: float) -> Lens:
    """The Blender lens of a pinhole K (square pixels: K[0, 0] == K[1, 1]) for a
    width x height image."""
    fx, fy = float(K[0, 0]), float(K[1, 1])
    if not np.isclose(fx, fy, rtol=1e-9):
        raise ValueError(f"Blender's cameras have square pixels; K has fx {fx} and fy {fy}")
    cx, cy = float(K[0, 2]) + 0.5, float(K[1, 2]) + 0.5  # pixel-edge coordinates
    return Lens(
        lens=fx * SENSOR_WIDTH / width,
        sensor_width=SENSOR_WIDTH,
        shift_x=(width / 2 - cx) / width,
        shift_y=(cy - height / 2) / width,
        clip_start=float(near),
        clip_end=float(far),
    )


def camera_lens(camera: CameraState) -> Lens:
    return lens_of(camera.K, camera.width, camera.height, camera.near, camera.far)


def camera_matrix(camera: CameraState) -> np.ndarray:
    """The Blender camera object's matrix_world."""
    return camera.cam_to_world() @ OPENCV_TO_BLENDER
