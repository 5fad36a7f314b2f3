"""Rigid transforms and the pinhole camera, in numpy, independent of the renderer.

Conventions (see docs/world-format.md, "Coordinates"):
- World: right-handed, Z up (Panda3D's convention), metres.
- Object rotation: heading/pitch/roll in degrees, Panda3D's HPR: heading about +Z, then
  pitch about +X, then roll about +Y, composed as R = Rz(h) @ Rx(p) @ Ry(r).
- Camera: OpenCV convention, x right, y down, z forward (the viewing direction).
  `cam_to_world` is the 4x4 matrix taking camera coordinates to world coordinates.
- Pixels: u to the right, v down, the centre of the top-left pixel at (0, 0).
"""

from __future__ import annotations

import numpy as np


def _rot(axis: int, degrees: float) -> np.ndarray:
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m = np.eye(3)
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def hpr_matrix(hpr: np.ndarray | list[float]) -> np.ndarray:
    """3x3 rotation for Panda3D heading, pitch, roll in degrees."""
    h, p, r = (float(v) for v in hpr)
    return _rot(2, h) @ _rot(0, p) @ _rot(1, r)


def pose_matrix(position: np.ndarray, hpr: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """4x4 object-to-world matrix: scale, then rotate, then translate."""
    m = np.eye(4)
    m[:3, :3] = hpr_matrix(hpr) @ np.diag(np.asarray(scale, dtype=float))
    m[:3, 3] = position
    return m


def look_at(
    eye: np.ndarray,
    target: np.ndarray,
    up: tuple[float, float, float] = (0.0, 0.0, 1.0),
    roll: float = 0.0,
) -> np.ndarray:
    """OpenCV-convention cam_to_world for a camera at `eye` looking at `target`."""
    eye, target = np.asarray(eye, dtype=float), np.asarray(target, dtype=float)
    forward = target - eye
    if np.linalg.norm(forward) < 1e-9:
        raise ValueError("camera position and look-at target coincide")
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    if np.linalg.norm(right) < 1e-9:  # looking straight along `up`: pick any right vector
        right = np.cross(forward, [0.0, 1.0, 0.0] if abs(forward[1]) < 0.9 else [1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rot = np.stack([right, down, forward], axis=1)
    if roll:
        rot = rot @ _rot(2, roll)
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rot, eye
    return m


def intrinsics(width: int, height: int, hfov_degrees: float) -> np.ndarray:
    """3x3 K of a distortion-free pinhole camera: square pixels, centred principal point."""
    f = (width / 2.0) / np.tan(np.radians(hfov_degrees) / 2.0)
    return np.array([[f, 0.0, width / 2.0 - 0.5], [0.0, f, height / 2.0 - 0.5], [0.0, 0.0, 1.0]])


def vertical_fov(width: int, height: int, hfov_degrees: float) -> float:
    return float(np.degrees(2 * np.arctan(np.tan(np.radians(hfov_degrees) / 2) * height / width)))


def project(points_world: np.ndarray, K: np.ndarray, cam_to_world: np.ndarray) -> np.ndarray:
    """Project Nx3 world points to Nx2 pixel coordinates; also returns camera-space depth."""
    world_to_cam = np.linalg.inv(cam_to_world)
    pts = np.asarray(points_world, dtype=float) @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    uvw = pts @ K.T
    return np.column_stack([uvw[:, :2] / uvw[:, 2:3], pts[:, 2]])


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, dtype=float) @ matrix[:3, :3].T + matrix[:3, 3]


def matrix_hpr(rotation: np.ndarray) -> np.ndarray:
    """Heading, pitch, roll in degrees of a 3x3 rotation (the inverse of `hpr_matrix`)."""
    r = np.asarray(rotation, dtype=float)
    pitch = np.arcsin(np.clip(r[2, 1], -1.0, 1.0))
    if abs(r[2, 1]) < 1 - 1e-9:
        heading = np.arctan2(-r[0, 1], r[1, 1])
        roll = np.arctan2(-r[2, 0], r[2, 2])
    else:  # gimbal lock: fold roll into heading
        heading, roll = np.arctan2(r[1, 0], r[0, 0]), 0.0
    return np.degrees([heading, pitch, roll])


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A rotation drawn uniformly from SO(3), as a 3x3 matrix."""
    w, x, y, z = rng.normal(size=4)
    n = np.sqrt(w * w + x * x + y * y + z * z)
    w, x, y, z = w / n, x / n, y / n, z / n
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def quaternion(rotation: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z), w >= 0, of a 3x3 rotation matrix."""
    m = np.asarray(rotation, dtype=float)
    trace = np.trace(m)
    if trace > 0:
        s = 2.0 * np.sqrt(trace + 1.0)
        q = [0.25 * s, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2.0 * np.sqrt(1.0 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0, 0.0, 0.0, 0.0]
        q[0] = (m[k, j] - m[j, k]) / s
        q[1 + i] = 0.25 * s
        q[1 + j] = (m[j, i] + m[i, j]) / s
        q[1 + k] = (m[k, i] + m[i, k]) / s
    out = np.array(q)
    out /= np.linalg.norm(out)
    return out if out[0] >= 0 else -out


def direction(azimuth: float, elevation: float) -> np.ndarray:
    """The unit vector at `azimuth` (radians counter-clockwise from +X, seen from above) and
    `elevation` (radians above the XY plane)."""
    return np.array(
        [
            np.cos(elevation) * np.cos(azimuth),
            np.cos(elevation) * np.sin(azimuth),
            np.sin(elevation),
        ]
    )
