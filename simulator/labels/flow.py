"""Optical flow, exact from geometry: where each pixel's surface point is seen in another frame.

Every pixel of frame a with a surface (its instance id and plane depth from the rendered
passes) is a point in camera a's coordinates: depth x K^-1 (u, v, 1). Rigid objects carry
their points with them, so the point's place in frame b is one 4x4 transform per instance,

    camera b <- world <- object's pose at b <- object's pose at a <- world <- camera a,

and projecting it with camera b gives the flow. The point is flagged FLOW_OUTSIDE where it
lands outside b's image or behind camera b, and FLOW_OCCLUDED where b's passes show another
surface there: none of the (up to four) pixels around it holds the same instance at the
point's depth. Flow vectors are float32 pixels; 0 wherever the flag is not FLOW_VALID.
"""

from __future__ import annotations

import numpy as np

from simulator.labels.records import (
    FLOW_NO_FRAME,
    FLOW_NONE,
    FLOW_OCCLUDED,
    FLOW_OUTSIDE,
    FLOW_VALID,
    Flow,
)
from simulator.scene.scene import Scene

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


def no_frame(height: int, width: int, instance: np.ndarray) -> Flow:
    """The flow toward a frame the clip does not have."""
    flags = np.where(instance > 0, FLOW_NO_FRAME, FLOW_NONE).astype(np.uint8)
    return Flow(np.zeros((height, width, 2), np.float32), flags)


def optical_flow(
    a: Scene,
    instance_a: np.ndarray,
    depth_a: np.ndarray,
    b: Scene,
    instance_b: np.ndarray,
    depth_b: np.ndarray,
) -> Flow:
    """The flow from frame a to frame b of the same clip (same entities, same ids)."""
    height, width = instance_a.shape
    rows, cols = np.nonzero((instance_a > 0) & (depth_a > 0))
    ids = instance_a[rows, cols].astype(np.intp)
    z = depth_a[rows, cols].astype(float)
    inverse = np.linalg.inv(a.camera.K)
    ray = np.stack([cols, rows, np.ones_like(cols)]).astype(float)
    points = (inverse @ ray) * z  # (3, n) in camera a
    table = _motions(a, b)
    moved = np.einsum("nij,jn->in", table[ids, :, :3], points) + table[ids, :, 3].T
    K = b.camera.K
    depth = moved[2]
    ahead = depth > b.camera.near
    safe = np.where(ahead, depth, 1.0)
    u = K[0, 0] * moved[0] / safe + K[0, 2]
    v = K[1, 1] * moved[1] / safe + K[1, 2]
    inside = ahead & (u > -0.5) & (u < width - 0.5) & (v > -0.5) & (v < height - 0.5)
    seen = inside & _seen(u, v, depth, ids, instance_b, depth_b, inside)
    flags = np.full((height, width), FLOW_NONE, np.uint8)
    flags[rows, cols] = np.where(seen, FLOW_VALID, np.where(inside, FLOW_OCCLUDED, FLOW_OUTSIDE))
    vectors = np.zeros((height, width, 2), np.float32)
    vectors[rows[seen], cols[seen], 0] = u[seen] - cols[seen]
    vectors[rows[seen], cols[seen], 1] = v[seen] - rows[seen]
    return Flow(vectors, flags)


def _seen(
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
    u0 = np.clip(np.floor(np.where(inside, u, 0)), 0, width - 1).astype(np.intp)
    v0 = np.clip(np.floor(np.where(inside, v, 0)), 0, height - 1).astype(np.intp)
    seen = np.zeros(len(u), bool)
    tolerance = DEPTH_TOLERANCE * depth
    for dv in (0, 1):
        for du in (0, 1):
            r, c = np.minimum(v0 + dv, height - 1), np.minimum(u0 + du, width - 1)
            same = instance_b[r, c] == ids
            seen |= same & (np.abs(depth_b[r, c] - depth) <= tolerance)
    return seen
