"""Where objects can stand on a support: the up-facing triangles of its mesh, as posed.

A shelf's boards, a table top of any outline, a bin's floor: each is the set of triangles whose
normal, in world coordinates after the support's pose, points within `max_slope` of straight
up. `level` picks among them: "highest" (a table top, the top board), "lowest" (a bin's floor,
not its rim) or "any" (every board of a shelf). Positions are drawn area-weighted, so every
square centimetre of the surface is equally likely; an object is accepted only where the
surface lies under the whole of its footprint (the corners of its posed box), so it stands
within the support's outline, or inside a bin's inner walls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from simulator import Entity, TriangleMesh, transforms

Level = Literal["any", "highest", "lowest"]
BAND = 0.01  # metres: faces this close in height count as one level, and support a point


@dataclass(frozen=True)
class Surface:
    """Up-facing triangles (M, 3, 3) in world coordinates, and their areas."""

    corners: np.ndarray
    areas: np.ndarray

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        """A point drawn uniformly over the surface's area."""
        index = int(rng.choice(len(self.areas), p=self.areas / self.areas.sum()))
        u, v = rng.random(2)
        if u + v > 1:  # fold the square onto the triangle
            u, v = 1 - u, 1 - v
        a, b, c = self.corners[index]
        return a + u * (b - a) + v * (c - a)

    def holds(self, points: np.ndarray, height: float) -> bool:
        """Whether every (x, y) of `points` lies over a triangle within BAND of `height`."""
        near = np.abs(self.corners[:, :, 2].mean(axis=1) - height) <= BAND
        corners = self.corners[near]
        return all(_over(corners, point) for point in points[:, :2])


def surface(support: Entity, level: Level = "any", max_slope: float = 10.0) -> Surface:
    """The up-facing triangles of `support`, as posed; a support without any is an error."""
    if not isinstance(support.mesh, TriangleMesh):
        raise ValueError(
            f"support {support.source!r} is a model file drawn by the engine: its triangles "
            "are not known here; use a generated or loaded mesh as a support"
        )
    mesh = support.mesh
    world = transforms.transform_points(support.matrix(), mesh.vertices.astype(float))
    corners = world[mesh.triangles]
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    length = np.linalg.norm(normal, axis=1)
    up = (length > 0) & (normal[:, 2] >= np.cos(np.radians(max_slope)) * length)
    if not up.any():
        raise ValueError(
            f"support {support.source!r} has no face pointing up (within {max_slope} degrees)"
        )
    corners, areas = corners[up], length[up] / 2
    if level != "any":
        heights = corners[:, :, 2].mean(axis=1)
        target = heights.max() if level == "highest" else heights.min()
        keep = np.abs(heights - target) <= BAND
        corners, areas = corners[keep], areas[keep]
    return Surface(corners, areas)


def _over(corners: np.ndarray, point: np.ndarray) -> bool:
    """Whether `point` (x, y) lies inside any of the triangles seen from above."""
    a, b, c = corners[:, 0, :2], corners[:, 1, :2], corners[:, 2, :2]
    v0, v1, v2 = b - a, c - a, point - a
    d00, d01, d11 = (v0 * v0).sum(1), (v0 * v1).sum(1), (v1 * v1).sum(1)
    d20, d21 = (v2 * v0).sum(1), (v2 * v1).sum(1)
    denom = d00 * d11 - d01 * d01
    ok = np.abs(denom) > 1e-15
    v = np.where(ok, d11 * d20 - d01 * d21, -1) / np.where(ok, denom, 1)
    w = np.where(ok, d00 * d21 - d01 * d20, -1) / np.where(ok, denom, 1)
    eps = 1e-9
    return bool(np.any((v >= -eps) & (w >= -eps) & (v + w <= 1 + eps)))
