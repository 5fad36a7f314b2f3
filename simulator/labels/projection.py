"""Labels computed from geometry and the camera: amodal boxes, truncation, 3D boxes, keypoints.

All 2D coordinates here are pixel-edge coordinates, like COCO's: the top-left pixel covers
[0, 1] x [0, 1], so its centre is (0.5, 0.5) (OpenCV's (0, 0) plus 0.5).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.scene import lens, transforms
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import CameraState, Entity


def to_camera(camera: CameraState, points_world: np.ndarray) -> np.ndarray:
    """World points to OpenCV camera coordinates (x right, y down, z forward)."""
    return transforms.transform_points(camera.world_to_cam(), points_world)


def to_pixels(camera: CameraState, points_camera: np.ndarray) -> np.ndarray:
    """Camera points (z > 0) to pixel-edge coordinates, (N, 2)."""
    return np.column_stack(pixel_columns(camera, points_camera))


def pixel_columns(camera: CameraState, points_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`to_pixels` as two contiguous arrays, x and y: reductions over them (min, max) run
    several times faster than over the axis of an (N, 2) array. Through a lens the points
    are distorted analytically (`simulator.scene.lens.project`, OpenCV's formulas)."""
    if camera.lens is not None:
        u, v = lens.project(camera.lens, camera.K, points_camera)
        return u + 0.5, v + 0.5
    uvw = points_camera @ camera.K.T
    return uvw[:, 0] / uvw[:, 2] + 0.5, uvw[:, 1] / uvw[:, 2] + 0.5


def clip_near(points: np.ndarray, triangles: np.ndarray, near: float) -> np.ndarray:
    """The points of a triangle mesh (camera coordinates) in front of the near plane, plus
    where its triangle edges cross that plane: what the camera can see of it."""
    front = points[:, 2] >= near
    if front.all():
        return points
    kept = [points[front]]
    if len(triangles):
        edges = np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]])
        a, b = points[edges[:, 0]], points[edges[:, 1]]
        crossing = (a[:, 2] >= near) != (b[:, 2] >= near)
        a, b = a[crossing], b[crossing]
        t = (near - a[:, 2]) / (b[:, 2] - a[:, 2])
        kept.append(a + t[:, None] * (b - a))
    return np.concatenate(kept)


def amodal_box(
    entity: Entity, vertices: np.ndarray, triangles: np.ndarray, camera: CameraState
) -> list[float] | None:
    """[x, y, w, h] of the whole object projected, unclipped by the image (None if it lies
    entirely behind the near plane)."""
    world = transforms.transform_points(entity.matrix(), vertices)
    visible = clip_near(to_camera(camera, world), triangles, camera.near)
    if len(visible) == 0:
        return None
    x, y = pixel_columns(camera, visible)
    x0, y0, x1, y1 = x.min(), y.min(), x.max(), y.max()
    return [float(x0), float(y0), float(x1 - x0), float(y1 - y0)]


def clip_box(box: list[float], width: int, height: int) -> list[float]:
    """A box cut to the image; zero-sized when they do not meet."""
    x, y, w, h = box
    x0, y0 = min(max(x, 0.0), width), min(max(y, 0.0), height)
    x1, y1 = min(max(x + w, 0.0), width), min(max(y + h, 0.0), height)
    return [x0, y0, x1 - x0, y1 - y0]


def truncation(box: list[float], width: int, height: int) -> float:
    """Share of the amodal box's area outside the image (0: all inside, 1: all outside)."""
    area = box[2] * box[3]
    if area <= 0:
        return 0.0
    clipped = clip_box(box, width, height)
    return float(1.0 - clipped[2] * clipped[3] / area)


# Corner i of a 3D box sits at (±x, ±y, ±z) / 2 with x's sign from bit 2 of i, y's from bit 1
# and z's from bit 0 (0 = negative): 0 = (-,-,-), 1 = (-,-,+), ..., 7 = (+,+,+).
CORNER_SIGNS = np.array([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)]) * 2.0 - 1.0


def box3d(entity: Entity, vertices: np.ndarray, camera: CameraState) -> dict[str, Any]:
    """The object's oriented 3D box: its mesh's bounds in its own frame, posed in the world."""
    low, high = vertices.min(axis=0), vertices.max(axis=0)
    matrix = entity.matrix()
    rotation = transforms.hpr_matrix(entity.hpr)
    size = (high - low) * entity.scale
    center = transforms.transform_points(matrix, ((low + high) / 2)[None])[0]
    corners = center + (CORNER_SIGNS * size / 2) @ rotation.T
    world_to_camera = camera.world_to_cam()
    corners_camera = to_camera(camera, corners)
    in_front = corners_camera[:, 2] > 0
    pixels = np.where(
        in_front[:, None],
        to_pixels(camera, np.where(in_front[:, None], corners_camera, 1.0)),
        np.nan,
    )
    return {
        "size": size.tolist(),
        "center_world": center.tolist(),
        "rotation_world": transforms.quaternion(rotation).tolist(),
        "center_camera": to_camera(camera, center[None])[0].tolist(),
        "rotation_camera": transforms.quaternion(world_to_camera[:3, :3] @ rotation).tolist(),
        "corners_world": corners.tolist(),
        "corners_pixels": [[None, None] if np.isnan(p[0]) else p.tolist() for p in pixels],
        "corners_depth": corners_camera[:, 2].tolist(),
    }


def keypoint_positions(
    entity: Entity, names: list[str], camera: CameraState, depth: np.ndarray
) -> list[tuple[str, float, float, int, float]]:
    """(name, x, y, visibility, depth) per keypoint name, COCO visibility from the depth test.

    0: not labeled (the entity has no such keypoint, or it projects outside the image or
    lies at or behind the near plane; x = y = 0), 1: occluded (something nearer covers its
    pixel, possibly the object itself), 2: visible.
    """
    height, width = depth.shape
    declared = entity.keypoints
    if not declared and isinstance(entity.mesh, TriangleMesh):
        declared = entity.mesh.keypoints  # a generated mesh may carry its own
    out = []
    for name in names:
        if name not in declared:
            out.append((name, 0.0, 0.0, 0, 0.0))
            continue
        world = transforms.transform_points(entity.matrix(), np.asarray(declared[name])[None])
        point = to_camera(camera, world)[0]
        if point[2] <= camera.near:
            out.append((name, 0.0, 0.0, 0, float(point[2])))
            continue
        x, y = to_pixels(camera, point[None])[0]
        if not (0 <= x < width and 0 <= y < height) or not _rendered(camera, point):
            out.append((name, 0.0, 0.0, 0, float(point[2])))
            continue
        surface = depth[int(y), int(x)]
        tolerance = 0.01 + 0.01 * point[2]
        occluded = 0 < surface < point[2] - tolerance
        out.append((name, float(x), float(y), 1 if occluded else 2, float(point[2])))
    return out


def _rendered(camera: CameraState, point: np.ndarray) -> bool:
    """Whether a camera point (z > 0) lies inside the pinhole render: through a lens, a
    point far outside the view can distort back into the image, where its model no longer
    holds (without a lens, always true for points in the image)."""
    if camera.lens is None:
        return True
    render = camera.render_camera()
    x, y = to_pixels(render, point[None])[0]
    return bool(0 <= x < render.width and 0 <= y < render.height)
