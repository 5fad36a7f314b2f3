"""Procedural tobacco pipes: a lathed bowl, and shank, stem and mouthpiece swept along a bent
path, as one triangle mesh with keypoints. Texture coordinates put the wood (bowl, shank) in
the left of the texture and the vulcanite (stem, mouthpiece) in its right tenth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator import TriangleMesh

WOOD_U, STEM_U = (0.0, 0.85), (0.9, 1.0)  # texture columns of the two materials


@dataclass(frozen=True)
class PipeShape:
    bowl_height: float = 0.42  # metres-free units: the mesh is scaled to a longest side of 1
    bowl_radius: float = 0.17
    wall: float = 0.05
    shank_length: float = 0.25
    stem_length: float = 0.45
    bend: float = 20.0  # degrees the stem rises over its length
    stem_radius: float = 0.045


def _grid(rows: int, cols: int) -> np.ndarray:
    """Triangles of a rows x cols vertex grid whose columns wrap around (cols is the seam)."""
    r, c = np.meshgrid(np.arange(rows - 1), np.arange(cols - 1), indexing="ij")
    a = r * cols + c
    b, d, e = a + 1, a + cols, a + cols + 1
    return np.concatenate(
        [np.stack([a, d, e], -1).reshape(-1, 3), np.stack([a, e, b], -1).reshape(-1, 3)]
    )


def _lathe(profile: np.ndarray, u: tuple[float, float], sides: int = 40):
    """Revolve a (r, z) profile, listed bottom to top on the outside, about the z axis."""
    angle = np.linspace(0, 2 * np.pi, sides + 1)
    r, z = profile[:, 0:1], profile[:, 1:2]
    vertices = np.stack([r * np.cos(angle), r * np.sin(angle), np.repeat(z, sides + 1, 1)], -1)
    t = np.linspace(0, 1, len(profile))[:, None].repeat(sides + 1, 1)
    uv = np.stack(
        [u[0] + (u[1] - u[0]) * angle[None, :].repeat(len(profile), 0) / (2 * np.pi), t], -1
    )
    return vertices.reshape(-1, 3), uv.reshape(-1, 2), _grid(len(profile), sides + 1)[:, ::-1]


def _sweep(
    path: np.ndarray,
    radius_a: np.ndarray,
    radius_b: np.ndarray,
    u: tuple[float, float],
    sides: int = 24,
):
    """A tube along `path` with elliptical sections (half-axes a sideways, b upwards),
    framed by parallel transport so it does not twist."""
    tangents = np.gradient(path, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True)
    normal = np.cross(tangents[0], [0.0, 1.0, 0.0])
    normal /= np.linalg.norm(normal)
    angle = np.linspace(0, 2 * np.pi, sides + 1)
    normals = np.empty_like(tangents)
    for i, tangent in enumerate(tangents):  # sequential: each frame follows the last
        normal -= tangent * (normal @ tangent)
        normal /= np.linalg.norm(normal)
        normals[i] = normal
    binormals = np.cross(tangents, normals)  # all rings at once: the loop above is the slow part
    rings = (
        path[:, None]
        + (np.cos(angle)[None, :] * radius_a[:, None])[..., None] * binormals[:, None]
        + (np.sin(angle)[None, :] * radius_b[:, None])[..., None] * normals[:, None]
    )
    vertices = rings.reshape(-1, 3)
    t = np.linspace(0, 1, len(path))[:, None].repeat(sides + 1, 1)
    uv = np.stack([u[0] + (u[1] - u[0]) * angle[None, :].repeat(len(path), 0) / (2 * np.pi), t], -1)
    return vertices, uv.reshape(-1, 2), _grid(len(path), sides + 1)


def _cap(centre: np.ndarray, ring: np.ndarray, u: tuple[float, float], outward: np.ndarray):
    """Close a tube end: a fan from its centre to its last ring, facing `outward`."""
    vertices = np.vstack([centre, ring])
    n = len(ring)
    tri = np.stack([np.zeros(n - 1, int), np.arange(1, n), np.arange(2, n + 1)], 1)
    face = np.cross(ring[1] - centre, ring[2] - centre)
    if face @ outward < 0:
        tri = tri[:, [0, 2, 1]]
    uv = np.full((n + 1, 2), [(u[0] + u[1]) / 2, 0.5])
    return vertices, uv, tri


def _normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    corners = vertices[triangles]
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):  # as np.add.at would, but vectorised
        for axis in range(3):
            normals[:, axis] += np.bincount(triangles[:, k], face[:, axis], len(vertices))
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.where(length > 0, length, 1)


def pipe(shape: PipeShape) -> TriangleMesh:
    s = shape
    h, r = s.bowl_height, s.bowl_radius
    inner = r - s.wall
    # Bowl: a rounded heel, straight walls flaring a little, a flat rim, the chamber inside.
    heel = [(r * np.sin(a), r * (1 - np.cos(a)) * 0.6) for a in np.linspace(0.05, np.pi / 2, 8)]
    outer = [(r * (1 + 0.08 * t), r * 0.6 + t * (h - r * 0.6)) for t in np.linspace(0, 1, 10)[1:]]
    rim = [(inner * 1.08, h)]
    chamber = [
        (inner * (1 + 0.08 * t), s.wall * 2 + t * (h - s.wall * 2)) for t in np.linspace(1, 0, 8)
    ]
    profile = np.array([(0.0, 0.0), *heel, *outer, *rim, *chamber, (0.0, s.wall * 2)])
    parts = [_lathe(profile, WOOD_U)]
    # Shank and stem: out of the bowl's side near the bottom, rising by `bend`.
    start = np.array([r * 0.8, 0.0, r * 0.75])
    length = s.shank_length + s.stem_length
    t = np.linspace(0, 1, 40)
    rise = np.radians(s.bend) * t**2 / 2
    path = start + np.stack([t * length, np.zeros_like(t), np.sin(rise) * length * t], 1)
    shank = t <= s.shank_length / length
    radius = np.where(shank, s.stem_radius * 1.35, s.stem_radius * (1 - 0.25 * t))
    flat = np.clip((t - 0.8) / 0.2, 0, 1)  # the mouthpiece flattens over the last fifth
    radius_a, radius_b = radius * (1 + 0.5 * flat), radius * (1 - 0.55 * flat)
    split = int(np.argmin(shank))  # first stem point: wood before, vulcanite after
    parts.append(_sweep(path[: split + 1], radius_a[: split + 1], radius_b[: split + 1], WOOD_U))
    stem = _sweep(path[split:], radius_a[split:], radius_b[split:], STEM_U)
    parts.append(stem)
    tip_ring = stem[0][-25:]
    parts.append(_cap(path[-1], tip_ring, STEM_U, path[-1] - path[-2]))
    vertices, uvs, triangles, offset = [], [], [], 0
    for v, uv, tri in parts:
        vertices.append(v)
        uvs.append(uv)
        triangles.append(tri + offset)
        offset += len(v)
    points, tris = np.vstack(vertices), np.vstack(triangles)
    centre = (points.min(0) + points.max(0)) / 2
    size = float(np.ptp(points, axis=0).max())
    points = (points - centre) / size
    keypoints = {
        "bowl": (np.array([0.0, 0.0, h]) - centre) / size,
        "heel": (np.array([0.0, 0.0, 0.0]) - centre) / size,
        "mouthpiece": (path[-1] - centre) / size,
    }
    return TriangleMesh(points, _normals(points, tris), tris, np.vstack(uvs), keypoints=keypoints)
