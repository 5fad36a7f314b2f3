"""The lite pipe's mesh: a bowl turned on a lathe and a bent stem swept along a curve.

Everything is built with numpy in the pipe's own frame: metres, Z up, the bowl standing on
the origin around the Z axis, the stem leaving it towards +X. Triangles wind
counter-clockwise seen from outside and normals point outwards, as the engine expects
(back faces are culled). A mesh is built once per set of dimensions and then reused.
"""

from __future__ import annotations

import functools

import numpy as np
from simulator import TriangleMesh

SEGMENTS = 32  # vertices around the bowl and around the stem
WALL = 0.2  # thickness of the bowl's wall at the rim, as a share of its radius
KEYPOINTS = ("bowl", "heel", "mouthpiece")

Part = tuple[np.ndarray, np.ndarray, np.ndarray]  # positions (N, 3), normals (N, 3), triangles


def grid(rows: int, cols: int) -> np.ndarray:
    """Two triangles per cell of a rows x cols vertex grid stored row by row.

    Each triangle faces along (next row - this row) x (next column - this column), so
    callers order rows and columns to make that cross product point outwards."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = (r * cols + c).ravel()
    b, d, e = a + cols, a + 1, a + cols + 1  # next row, next column, both
    return np.concatenate([np.stack([a, b, e], 1), np.stack([a, e, d], 1)])


def lathe(profile: np.ndarray, normals: np.ndarray) -> Part:
    """Turn a profile of (radius, z) points with outward (radial, z) normals about Z.

    Rows go around the axis and columns along the profile, so the profile must run with
    the solid on its left: its outward normal is then (dz, -dr)."""
    theta = np.linspace(0.0, 2.0 * np.pi, SEGMENTS + 1)[:, None]  # seam vertices doubled

    def revolve(rz: np.ndarray) -> np.ndarray:
        r, z = rz[:, 0], rz[:, 1]
        x, y = r * np.cos(theta), r * np.sin(theta)
        return np.stack([x, y, np.broadcast_to(z, x.shape)], -1).reshape(-1, 3)

    return revolve(profile), revolve(normals), grid(SEGMENTS + 1, len(profile))


def flat(start: tuple[float, float], end: tuple[float, float]) -> Part:
    """A flat ring (or disk) or a straight wall of the bowl: one straight profile segment."""
    profile = np.array([start, end], dtype=float)
    dr, dz = profile[1] - profile[0]
    normal = np.array([dz, -dr]) / np.hypot(dr, dz)
    return lathe(profile, np.array([normal, normal]))


def bowl(height: float, radius: float) -> list[Part]:
    """A cup with a bulging outside, a flat rim, a straight inside and a floor."""
    t = np.linspace(0.0, 1.0, 12)
    bulge = radius * (0.8 + 0.2 * np.sin(np.pi * t))  # outer radius along the height
    slope = radius * 0.2 * np.pi * np.cos(np.pi * t) / height  # d(radius) / dz
    outside = np.stack([bulge, t * height], 1)
    outward = np.stack([np.ones_like(t), -slope], 1) / np.hypot(1.0, slope)[:, None]
    rim, inner, floor = bulge[-1], bulge[-1] * (1 - WALL), height * 0.25
    return [
        flat((0.0, 0.0), (bulge[0], 0.0)),  # bottom, facing down
        lathe(outside, outward),
        flat((rim, height), (inner, height)),  # rim, facing up
        flat((inner, height), (inner, floor)),  # inside wall, facing the axis
        flat((inner, floor), (0.0, floor)),  # floor of the cavity, facing up
    ]


def stem_path(
    start: np.ndarray, length: float, bend: float, count: int = 24
) -> tuple[np.ndarray, np.ndarray]:
    """Centre points and unit tangents of a stem along +X whose second half bends up by
    `bend` degrees (down if negative: a circular arc in the XZ plane)."""
    s = np.linspace(0.0, length, count)
    half, angle = length / 2.0, np.radians(bend)
    phi = np.where(s > half, (s - half) / half * angle, 0.0)  # tangent's angle above +X
    if angle:
        radius = half / angle
        x = np.where(s > half, half + radius * np.sin(phi), s)
        z = np.where(s > half, radius * (1.0 - np.cos(phi)), 0.0)
    else:
        x, z = s, np.zeros_like(s)
    centres = start + np.stack([x, np.zeros_like(s), z], 1)
    return centres, np.stack([np.cos(phi), np.zeros_like(phi), np.sin(phi)], 1)


def stem(start: np.ndarray, length: float, bend: float, radius: float) -> list[Part]:
    """A tube of `radius` along the stem path, with flat caps at both ends."""
    centres, tangents = stem_path(start, length, bend)
    side = np.array([0.0, 1.0, 0.0])  # the path stays in the XZ plane
    up = np.cross(tangents, side)  # completes (tangent, side, up) to a right-handed frame
    alpha = np.linspace(0.0, 2.0 * np.pi, SEGMENTS + 1)[:, None, None]
    normals = np.cos(alpha) * side + np.sin(alpha) * up  # rows: around; columns: along
    tube = (
        (centres + radius * normals).reshape(-1, 3),
        normals.reshape(-1, 3),
        grid(SEGMENTS + 1, len(centres)),
    )
    return [
        tube,
        cap(centres[-1], tangents[-1], side, radius),
        cap(centres[0], -tangents[0], side, radius),
    ]


def cap(centre: np.ndarray, facing: np.ndarray, side: np.ndarray, radius: float) -> Part:
    """A disk at `centre` facing along `facing`, as a fan around its centre."""
    across = np.cross(facing, side)
    alpha = np.linspace(0.0, 2.0 * np.pi, SEGMENTS, endpoint=False)[:, None]
    rim = centre + radius * (np.cos(alpha) * side + np.sin(alpha) * across)
    i = np.arange(SEGMENTS)
    fan = np.stack([np.zeros(SEGMENTS, int), 1 + i, 1 + (i + 1) % SEGMENTS], 1)
    return np.vstack([centre, rim]), np.tile(facing, (SEGMENTS + 1, 1)), fan


def merge(parts: list[Part]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One vertex and triangle list; triangles of zero area (at a lathe's axis) dropped."""
    offsets = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
    vertices = np.concatenate([p[0] for p in parts])
    normals = np.concatenate([p[1] for p in parts])
    triangles = np.concatenate([p[2] + o for p, o in zip(parts, offsets, strict=True)])
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    area = np.linalg.norm(np.cross(b - a, c - a), axis=1)
    return vertices, normals, triangles[area > 1e-12]


@functools.lru_cache(maxsize=256)
def pipe(stem_length: float, bowl_height: float, bowl_radius: float, bend: float) -> TriangleMesh:
    """The pipe with these dimensions (metres, degrees). Cached: call it with rounded values
    so that frames reuse meshes, and the engine its geometry (both are keyed by them)."""
    stem_radius = min(0.3 * bowl_radius, 0.2 * bowl_height)
    height = 0.3 * bowl_height  # of the stem's axis where it leaves the bowl
    start = np.array([bowl_radius * 0.8 * (1 - WALL / 2), 0.0, height])  # inside the wall
    centres, _ = stem_path(start, stem_length, bend)
    vertices, normals, triangles = merge(
        bowl(bowl_height, bowl_radius) + stem(start, stem_length, bend, stem_radius)
    )
    return TriangleMesh(
        vertices,
        normals,
        triangles,
        key=f"lite_pipe:{stem_length:g}:{bowl_height:g}:{bowl_radius:g}:{bend:g}:{SEGMENTS}",
        keypoints={
            "bowl": np.array([0.0, 0.0, bowl_height]),  # centre of the opening
            "heel": np.zeros(3),  # bottom of the bowl
            "mouthpiece": centres[-1],
        },
    )
