"""A static support's faces as thin convex slabs: how a concave support (a bin, a shelf with
boards) collides when small objects rest on it.

Bullet's triangle meshes make poor floors for small objects: a triangle has no thickness, so
a part that sinks past its margin in one step falls through or is pushed out the wrong side,
and a nut dropped into worlds/parts.toml's tote (its floor two 392 x 292 mm triangles) rocked
for the whole 4 s, where the same nut on a plane came to rest in 2 s. Here every flat face of
the support's closed surface becomes a convex slab: the face, and the face pushed into the
solid by its local thickness (so a slab never pokes out of the far side of a wall), as one
convex hull. Contacts are then hull against hull, as between the moving objects themselves.

A flat face (trimesh's facets: coplanar neighbouring triangles) that is convex becomes one
slab; a face that is not (a bin's rim, a ring) is split into its triangles, each its own slab.
The thickness is measured by casting rays into the solid from the face's corners (pulled a
little towards its middle) and its centre, the nearest hit.
"""

from __future__ import annotations

import numpy as np
import trimesh
from panda3d.bullet import BulletConvexHullShape
from panda3d.core import PTA_LVecBase3f
from scipy.spatial import ConvexHull

from simulator import TriangleMesh

THINNEST = 1e-4  # metres: a slab is at least this thick (a face with nothing measured behind)


def slab_shapes(mesh: TriangleMesh, scale: np.ndarray, margin: float) -> tuple:
    """The slabs of a closed support mesh, scaled, each a convex hull shape with `margin`."""
    solid = trimesh.Trimesh(mesh.vertices * scale, mesh.triangles, process=True)
    shapes = []
    grouped = np.zeros(len(solid.faces), bool)
    for facet, normal in zip(solid.facets, solid.facets_normal, strict=True):
        grouped[facet] = True
        corners = solid.vertices[np.unique(solid.faces[facet])]
        if _convex(corners, normal, float(solid.area_faces[facet].sum())):
            shapes.append(_slab(solid, corners, normal, margin))
        else:
            shapes += [
                _slab(solid, solid.triangles[f], solid.face_normals[f], margin) for f in facet
            ]
    for face in np.flatnonzero(~grouped):
        shapes.append(_slab(solid, solid.triangles[face], solid.face_normals[face], margin))
    return tuple(shapes)


def _convex(corners: np.ndarray, normal: np.ndarray, area: float) -> bool:
    """Whether a flat face with these corners is convex: its area is its outline's hull's."""
    u = np.cross(normal, [1.0, 0, 0] if abs(normal[0]) < 0.9 else [0, 1.0, 0])
    u /= np.linalg.norm(u)
    flat = np.c_[corners @ u, corners @ np.cross(normal, u)]
    return bool(abs(ConvexHull(flat).volume - area) <= 1e-6 * area)


def _slab(solid: trimesh.Trimesh, corners: np.ndarray, normal: np.ndarray, margin: float):
    centre = corners.mean(axis=0)
    starts = np.vstack([centre, corners + 0.05 * (centre - corners)])
    depth = max(THINNEST, _nearest_hit(solid.triangles, starts, -normal))
    # Sunk by the margin, which Bullet adds all round a hull: the padded slab's top is the
    # face and its bottom the solid's far side (the margin shrinks for a thinner solid).
    margin = min(margin, depth / 3)
    points = np.vstack([corners - normal * margin, corners - normal * (depth - margin)])
    array = PTA_LVecBase3f.empty_array(len(points))
    np.frombuffer(memoryview(array), np.float32)[:] = points.astype(np.float32).ravel()
    shape = BulletConvexHullShape()
    shape.add_array(array)
    shape.set_margin(margin)
    return shape


def _nearest_hit(triangles: np.ndarray, starts: np.ndarray, direction: np.ndarray) -> float:
    """The nearest distance (beyond 1e-9) from any of `starts` along `direction` to a
    triangle (Moller-Trumbore, every ray against every triangle); 0 where none is hit."""
    a, edge1, edge2 = (
        triangles[:, 0],
        triangles[:, 1] - triangles[:, 0],
        triangles[:, 2] - triangles[:, 0],
    )
    p = np.cross(direction, edge2)
    det = np.einsum("ij,ij->i", edge1, p)
    ok = np.abs(det) > 1e-15
    a, edge1, edge2, p, det = a[ok], edge1[ok], edge2[ok], p[ok], det[ok]
    s = starts[:, None, :] - a[None]
    u = np.einsum("rtj,tj->rt", s, p) / det
    q = np.cross(s, edge1[None])
    v = (q @ direction) / det
    t = np.einsum("rtj,tj->rt", q, edge2) / det
    hit = (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 1e-9)
    return float(t[hit].min()) if hit.any() else 0.0
