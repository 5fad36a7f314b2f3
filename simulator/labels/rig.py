"""Camera rigs: the cameras of `[camera.rig]` besides the first, and the stereo pair's
disparity, exact from the first camera's plane depth (docs/labels.md, "Camera rigs").

A ring is `count` cameras evenly around the vertical (world z) axis through the first
camera's target, each the first turned about that axis by a multiple of 360 / count degrees:
the same distance, height, intrinsics and roll, each looking at the target.

A stereo pair is rectified by construction: the right camera is the left one moved
`baseline` metres along its own x axis, same orientation and intrinsics, so a surface point
at plane depth z seen at column u in the left image is at u - f * baseline / z in the right,
on the same row.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from simulator.scene import transforms
from simulator.scene.scene import CameraState
from simulator.world.schema import RigSection

FIRST = "left"  # the first camera's name in a stereo rig: the frame's own camera


def first(rig: RigSection) -> str:
    """The name of the rig's first camera (the frame's own)."""
    return FIRST if rig.kind == "stereo" else "cam0"


def views(rig: RigSection, camera: CameraState) -> list[tuple[str, CameraState, np.ndarray]]:
    """The rig's other cameras: name, camera, and pose in the rig (4x4, camera to the first
    camera, OpenCV axes)."""
    if rig.kind == "stereo":
        offset = np.array([rig.baseline, 0.0, 0.0])
        return [("right", camera.moved(offset), pose(offset))]
    out = []
    to_first = camera.world_to_cam()
    for k in range(1, rig.count):
        turn = transforms.hpr_matrix([360.0 * k / rig.count, 0.0, 0.0])  # about world z
        position = camera.target + turn @ (camera.position - camera.target)
        other = replace(camera, position=position, target=camera.target.copy())
        out.append((f"cam{k}", other, to_first @ other.cam_to_world()))
    return out


def pose(offset: np.ndarray) -> np.ndarray:
    """A stereo camera's pose in the rig: camera to first camera (a translation: same axes)."""
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
