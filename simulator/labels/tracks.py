"""Point tracks (label `point_tracks`, after Kubric's point tracking and TAP-Vid): points on
the surfaces of a clip's labeled objects, followed exactly through every frame of the clip.

The points are drawn once per clip, from the clip's stream: a triangle of the clip's labeled
objects with a chance proportional to its area (as the object is sized), then a point uniform
on it. Each point is kept in its object's own frame, so at any frame it is one 3x4 transform
away from the camera (camera <- world <- the object's pose at the frame), and its pixel and
depth are a projection. It is seen at a frame where it lands in the image beyond the near
plane and the frame's instance and depth passes show its object at its depth around it (the
test optical flow makes of the point it carries: `flow.seen_at`).

A clip's frames become one TAP-Vid style record (`clip_tracks`): `target_points` (N, T, 2)
as (x, y), `occluded` (N, T), `query_points` (N, 3) as (t, y, x) at each point's first
frame seen; points never seen in the frames given are dropped (`point_index` says which of
the clip's drawn points each kept one is).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.labels.flow import project, seen_at
from simulator.labels.records import TrackFrame, TrackPoints
from simulator.scene.scene import Mesh, Scene

# A mesh's vertices (V, 3) and triangles (M, 3) in its own frame, as the engine draws it.
MeshArrays = Callable[[Mesh], tuple[np.ndarray, np.ndarray]]


def sample_points(
    scene: Scene, count: int, rng: np.random.Generator, arrays: MeshArrays
) -> TrackPoints:
    """`count` points on the surfaces of the scene's labeled entities, area weighted over
    their triangles (the areas as each entity's scale sizes them); none if none has area."""
    corners: list[np.ndarray] = []
    owners: list[np.ndarray] = []
    areas: list[np.ndarray] = []
    for entity in scene.entities:
        if entity.category is None:
            continue
        vertices, triangles = arrays(entity.mesh)
        if not len(triangles):
            continue
        triangle = np.asarray(vertices, float)[np.asarray(triangles, np.intp)]  # (M, 3, 3)
        sized = triangle @ entity.matrix()[:3, :3].T
        cross = np.cross(sized[:, 1] - sized[:, 0], sized[:, 2] - sized[:, 0])
        corners.append(triangle)
        owners.append(np.full(len(triangle), entity.instance_id, np.int64))
        areas.append(0.5 * np.linalg.norm(cross, axis=1))
    total = float(sum(a.sum() for a in areas))
    if not corners or total <= 0:
        return TrackPoints(np.zeros((0, 3)), np.zeros(0, np.int64))
    triangle, owner, area = (np.concatenate(x) for x in (corners, owners, areas))
    edges = np.cumsum(area)
    picked = np.minimum(
        np.searchsorted(edges, rng.random(count) * edges[-1], "right"), len(area) - 1
    )
    # Uniform on a triangle: the square-root fold of two uniforms (Osada et al. 2002).
    r1, r2 = np.sqrt(rng.random(count)), rng.random(count)
    weights = np.stack([1 - r1, r1 * (1 - r2), r1 * r2], axis=1)
    points = np.einsum("nk,nkj->nj", weights, triangle[picked])
    return TrackPoints(points, owner[picked])


def track_frame(
    points: TrackPoints,
    scene: Scene,
    instance: np.ndarray,
    depth: np.ndarray,
    clip: int,
    frame: int,
) -> TrackFrame:
    """The points at one frame of their clip: its scene (the objects posed at the frame) and
    its instance and depth passes. Float64 throughout, no loop over points."""
    ids = points.instance_ids
    table = np.zeros((max([0, *(e.instance_id for e in scene.entities)]) + 1, 3, 4))
    to_camera = scene.camera.world_to_cam()
    for entity in scene.entities:
        table[entity.instance_id] = (to_camera @ entity.matrix())[:3]
    # An id the frame lacks: a zero transform, the point at the camera centre, never seen.
    known = ids < len(table)
    carried = table[np.where(known, ids, 0)]
    camera = np.einsum("nij,nj->ni", carried[:, :, :3], points.object_points) + carried[:, :, 3]
    camera[~known] = 0
    x, y, z = camera[:, 0], camera[:, 1], camera[:, 2]
    u, v, inside = project(scene.camera, x, y, z, np.ones(len(ids), bool))
    visible = inside & seen_at(u, v, z, ids, instance, depth, inside)
    # Pixel-edge coordinates, as sim's 2D labels (docs/labels.md#conventions): K's plus 0.5.
    return TrackFrame(clip, frame, points, np.stack([u, v], axis=1) + 0.5, z, visible)


def clip_tracks(frames: list[TrackFrame]) -> dict[str, np.ndarray]:
    """A clip's tracks over `frames` (its frames that were rendered, in order) in TAP-Vid's
    layout, the points never seen in them dropped:

    target_points (N, T, 2) float32 x, y; occluded (N, T) bool; query_points (N, 3) float32
    (t, y, x) at the first frame seen (t indexes the T frames); depth (N, T) float32;
    instance_ids (N,) int32; point_index (N,) int32 (the point's place among the clip's
    drawn points); object_points (N, 3) float32 (in its object's frame); frames (T,) int32
    (each column's frame in the clip)."""
    if not frames:
        raise ValueError("a clip's tracks need at least one of its frames")
    points = frames[0].points
    xy = np.stack([f.xy for f in frames], axis=1)  # (N, T, 2)
    visible = np.stack([f.visible for f in frames], axis=1)
    depth = np.stack([f.depth for f in frames], axis=1)
    kept = np.flatnonzero(visible.any(axis=1))
    xy, visible, depth = xy[kept], visible[kept], depth[kept]
    first = np.argmax(visible, axis=1)  # every kept point is seen somewhere
    at = xy[np.arange(len(kept)), first]
    query = np.stack([first.astype(float), at[:, 1], at[:, 0]], axis=1)
    return {
        "target_points": xy.astype(np.float32),
        "occluded": ~visible,
        "query_points": query.astype(np.float32),
        "depth": depth.astype(np.float32),
        "instance_ids": points.instance_ids[kept].astype(np.int32),
        "point_index": kept.astype(np.int32),
        "object_points": points.object_points[kept].astype(np.float32),
        "frames": np.array([f.frame for f in frames], np.int32),
    }
