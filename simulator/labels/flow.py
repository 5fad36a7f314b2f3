"""Optical flow, exact from geometry: where each pixel's surface point is seen in another frame.

Every pixel of frame a with a surface (its instance id and plane depth from the rendered
passes) is a point in camera a's coordinates: depth x K^-1 (u, v, 1). Rigid objects carry
their points with them, so the point's place in frame b is one 4x4 transform per instance,

    camera b <- world <- object's pose at b <- object's pose at a <- world <- camera a,

and projecting it with camera b gives the flow. The point is flagged FLOW_OUTSIDE where it
lands outside b's image or behind camera b, and FLOW_OCCLUDED where b's passes show another
surface there: none of the (up to four) pixels around it holds the same instance at the
point's depth. Flow vectors are float32 pixels; 0 wherever the flag is not FLOW_VALID.

Through a lens (docs/time.md, "Through a lens") the pixel's ray is the pinhole ray its
distorted pixel shows (the lens map's), its depth the remapped pass's, and the carried point
is projected through camera b's own lens (its distortion at b's frame), then tested against
b's distorted passes as above.

The scene flow is the same carried point in metres: its coordinates in camera b minus its
coordinates in camera a (so a point's place in a plus its scene flow projects, through b's
K, to the pixel plus its optical flow), with the same flags, and 0 where they are not VALID.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.labels.records import (
    FLOW_NO_FRAME,
    FLOW_NONE,
    FLOW_OCCLUDED,
    FLOW_OUTSIDE,
    FLOW_VALID,
    Flow,
)
from simulator.scene import lens as lenses
from simulator.scene.scene import CameraState, Scene

# Seen at b where b's depth there is within this share of the point's depth (the nearest
# pixel centres sample the surface up to half a pixel away from the point itself).
DEPTH_TOLERANCE = 0.01


def _motions(a: Scene, b: Scene) -> np.ndarray:
    """(ids + 1, 3, 4): for each instance id, camera a's coordinates to camera b's."""
    ids = max((e.instance_id for e in a.entities), default=0)
    table = np.zeros((ids + 1, 4, 4))
    to_world, to_b = a.camera.cam_to_world(), b.camera.world_to_cam()
    at_b = {e.instance_id: e for e in b.entities}
    for entity in a.entities:
        later = at_b.get(entity.instance_id)
        if later is None:
            continue  # gone at b: its points stay FLOW_OUTSIDE (a zero transform)
        table[entity.instance_id] = (
            to_b @ later.matrix() @ np.linalg.inv(entity.matrix()) @ to_world
        )
    return table[:, :3, :]


def no_frame(height: int, width: int, instance: np.ndarray, channels: int = 2) -> Flow:
    """The flow toward a frame the clip does not have (`channels`: 2 optical, 3 scene)."""
    flags = np.where(instance > 0, FLOW_NO_FRAME, FLOW_NONE).astype(np.uint8)
    return Flow(np.zeros((height, width, channels), np.float32), flags)


def rays(camera: CameraState) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel centre's ray as its x and y (z is 1), float32: K^-1 (u, v, 1), or through a
    lens the pinhole ray the distorted pixel shows (`LensMap.rays`)."""
    remap = camera.lens_map()
    if remap is not None:
        return remap.rays()
    height, width = camera.height, camera.width
    inverse = np.linalg.inv(camera.K)
    u = np.arange(width, dtype=float) * inverse[0, 0] + inverse[0, 2]
    v = np.arange(height, dtype=float) * inverse[1, 1] + inverse[1, 2]
    x = np.broadcast_to(u.astype(np.float32), (height, width))
    y = np.broadcast_to(v.astype(np.float32)[:, None], (height, width))
    return x, y


def optical_flow(
    a: Scene,
    instance_a: np.ndarray,
    depth_a: np.ndarray,
    b: Scene,
    instance_b: np.ndarray,
    depth_b: np.ndarray,
) -> Flow:
    """The flow from frame a to frame b of the same clip (same entities, same ids)."""
    return motion_fields(a, instance_a, depth_a, b, instance_b, depth_b, scene=False).optical


@dataclass
class MotionFields:
    """Frame a's pixels carried to frame b: the optical flow (pixels) and the scene flow
    (metres: each surface point's place in camera b's coordinates minus its place in camera
    a's), with the same flags."""

    optical: Flow
    scene: Flow | None  # None when not asked for


def motion_fields(
    a: Scene,
    instance_a: np.ndarray,
    depth_a: np.ndarray,
    b: Scene,
    instance_b: np.ndarray,
    depth_b: np.ndarray,
    scene: bool = True,
) -> MotionFields:
    """The optical flow from frame a to frame b of the same clip, and (with `scene`) the
    scene flow.

    Whole images at once in float32 (a pixel's error stays below 1e-4 px): each pixel's 3x4
    transform is looked up by its instance id, no pixel lists are gathered."""
    height, width = instance_a.shape
    surface = (instance_a > 0) & (depth_a > 0)
    table = _motions(a, b).reshape(-1, 12).astype(np.float32)
    ids = np.where(surface, instance_a, 0).astype(np.intp)
    ids[ids >= len(table)] = 0  # an id no entity has: no surface
    rx, ry = rays(a.camera)
    z = depth_a.astype(np.float32)
    here = (rx * z, ry * z, z)
    moved = []
    for row in range(3):  # (each pixel's row of its transform, gathered a column at a time)
        m = [np.ascontiguousarray(table[:, 4 * row + k]) for k in range(4)]
        x = m[0].take(ids)
        x *= here[0]
        x += m[1].take(ids) * here[1]
        x += m[2].take(ids) * z
        x += m[3].take(ids)
        moved.append(x)
    u, v, inside = project(b.camera, moved[0], moved[1], moved[2], surface)
    seen = inside & seen_at(u, v, moved[2], instance_a, instance_b, depth_b, inside)
    flags = np.where(surface, FLOW_OUTSIDE, FLOW_NONE).astype(np.uint8)
    flags[inside] = FLOW_OCCLUDED
    flags[seen] = FLOW_VALID
    vectors = np.zeros((height, width, 2), np.float32)
    columns = np.arange(width, dtype=np.float32)
    rows = np.arange(height, dtype=np.float32)[:, None]
    vectors[..., 0] = np.where(seen, u - columns, 0)
    vectors[..., 1] = np.where(seen, v - rows, 0)
    if not scene:
        return MotionFields(Flow(vectors, flags), None)
    displacement = np.zeros((height, width, 3), np.float32)
    for axis in range(3):
        displacement[..., axis] = np.where(seen, moved[axis] - here[axis], 0)
    return MotionFields(Flow(vectors, flags), Flow(displacement, flags.copy()))


def project(
    camera: CameraState, x: np.ndarray, y: np.ndarray, z: np.ndarray, where: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points in `camera`'s coordinates (arrays of any one shape, float32 or float64: the
    pixels come in the same) projected, through its lens if it has one: their pixel (u, v),
    and whether they are beyond the near plane and inside its image (only where `where`; a
    point a lens folds into the image from outside its view is not)."""
    K, near, real = camera.K, camera.near, z.dtype.type
    ahead = where & (z > near)
    safe = np.maximum(z, real(near))  # behind the near plane: through it (meaningless)
    rx, ry = x / safe, y / safe
    px, py = (rx, ry) if camera.lens is None else lenses.distort(camera.lens, rx, ry)
    u = real(K[0, 0]) * px + real(K[0, 2])
    v = real(K[1, 1]) * py + real(K[1, 2])
    width, height = camera.width, camera.height
    inside = ahead & (u > -0.5) & (u < width - 0.5) & (v > -0.5) & (v < height - 0.5)
    remap = camera.lens_map()
    if remap is not None and inside.any():
        at = np.nonzero(inside)
        inside[at] = remap.sees(u[at], v[at], rx[at], ry[at])
    return u, v, inside


def seen_at(
    u: np.ndarray,
    v: np.ndarray,
    depth: np.ndarray,
    ids: np.ndarray,
    instance_b: np.ndarray,
    depth_b: np.ndarray,
    inside: np.ndarray,
) -> np.ndarray:
    """Whether a pixel around (u, v) in frame b shows instance `ids` at `depth`."""
    height, width = instance_b.shape
    u0 = np.clip(np.floor(np.where(inside, u, 0)), 0, max(width - 2, 0)).astype(np.intp)
    v0 = np.clip(np.floor(np.where(inside, v, 0)), 0, max(height - 2, 0)).astype(np.intp)
    flat = v0 * width + u0
    seen = np.zeros(u.shape, bool)
    tolerance = DEPTH_TOLERANCE * depth
    other_ids, other_depth = instance_b.reshape(-1), depth_b.reshape(-1)
    for offset in (0, 1, width, width + 1):
        at = np.minimum(flat + offset, other_ids.size - 1)
        same = other_ids[at] == ids
        seen |= same & (np.abs(other_depth[at] - depth) <= tolerance)
    return seen
