"""Triangle meshes as numpy arrays, and the procedural primitives.

Primitives are built once per set of arguments and shared (treat meshes as read-only).
Every primitive is centred on the origin and fits a unit cube (a box of edge 1, a sphere of
diameter 1, ...); entity scale sizes it. Triangles wind counter-clockwise seen from outside,
and normals point outwards: flat across the faces of a box or a cap, smooth over curved
surfaces.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulator.scene.materials import MeshGroup
from simulator.scene.textures import TextureImage


@dataclass(frozen=True, eq=False)
class TriangleMesh:
    """vertices (N,3), normals (N,3), uvs (N,2), triangles (M,3) indices into the vertices.

    `colors` (N,4): optional per-vertex RGBA, sRGB-encoded in [0, 1], multiplying the base
    colour (scans and vertex-painted models). `groups`: optional runs of triangles, each drawn
    with its own material (a model file's primitives or parts), in triangle order and covering
    every triangle; without groups the whole mesh takes the entity's color and texture.

    `key` names the geometry for the engine's cache: two meshes with the same key must be
    the same geometry. Plugins that generate meshes per frame leave it empty and get a key
    from the content.
    """

    vertices: np.ndarray
    normals: np.ndarray
    triangles: np.ndarray
    uvs: np.ndarray | None = None
    key: str = ""
    keypoints: dict[str, np.ndarray] = field(default_factory=dict)
    colors: np.ndarray | None = None
    groups: tuple[MeshGroup, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "vertices", np.ascontiguousarray(self.vertices, np.float32))
        object.__setattr__(self, "normals", np.ascontiguousarray(self.normals, np.float32))
        object.__setattr__(self, "triangles", np.ascontiguousarray(self.triangles, np.uint32))
        uvs = np.ascontiguousarray(
            self.uvs if self.uvs is not None else np.zeros((len(self.vertices), 2)), np.float32
        )
        object.__setattr__(self, "uvs", uvs)
        if self.colors is not None:
            colors = np.ascontiguousarray(self.colors, np.float32)
            if colors.shape != (len(self.vertices), 4):
                raise ValueError(f"colors are (N, 4) RGBA per vertex, got {colors.shape}")
            object.__setattr__(self, "colors", colors)
        if self.groups and sum(g.count for g in self.groups) != len(self.triangles):
            raise ValueError("mesh groups must cover every triangle, in order")
        if not self.key:
            digest = hashlib.blake2b(digest_size=12)
            for array in (self.vertices, self.normals, self.triangles, uvs):
                digest.update(array.tobytes())
            if self.colors is not None:  # only then, so keys of plain meshes stay as they were
                digest.update(self.colors.tobytes())
            for group in self.groups:
                material = group.material.key if group.material else "-"
                digest.update(f"{group.name}|{group.first}|{group.count}|{material}".encode())
            object.__setattr__(self, "key", "mesh:" + digest.hexdigest())

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The low and high corners of the vertices' box (float64 copies)."""
        low, high = self._bounds
        return low.copy(), high.copy()

    @functools.cached_property
    def _bounds(self) -> tuple[np.ndarray, np.ndarray]:
        # Worked out once: the mesh is read-only, and placement asks for it every frame.
        return self.vertices.min(axis=0).astype(float), self.vertices.max(axis=0).astype(float)


@dataclass(frozen=True)
class DrawnMesh:
    """A mesh as the engine draws it, for renderers that are not the engine (Cycles) and the
    glTF export: the triangles, and the texture a model file brings for its entity's look
    (multiplied by the entity's colour, as the engine draws it; None for a `TriangleMesh`,
    whose groups carry their own). `notes`: what the conversion could not keep."""

    mesh: TriangleMesh
    texture: TextureImage | None = None
    notes: tuple[str, ...] = ()


def _grid(u_count: int, v_count: int) -> np.ndarray:
    """Triangles of a (u_count+1) x (v_count+1) vertex grid, row-major in u."""
    u, v = np.meshgrid(np.arange(u_count), np.arange(v_count), indexing="ij")
    a = (u * (v_count + 1) + v).ravel()
    b, c, d = a + v_count + 1, a + 1, a + v_count + 2
    return np.concatenate([np.stack([a, b, d], 1), np.stack([a, d, c], 1)])


def _surface(
    point: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    u_count: int,
    v_count: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    u, v = np.meshgrid(
        np.linspace(0, 1, u_count + 1), np.linspace(0, 1, v_count + 1), indexing="ij"
    )
    pos, nrm = point(u.ravel(), v.ravel())
    return pos, nrm, np.stack([u.ravel(), v.ravel()], 1), _grid(u_count, v_count)


def _merge(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]], key: str
) -> TriangleMesh:
    vertices, normals, uvs, triangles, offset = [], [], [], [], 0
    for pos, nrm, uv, tri in parts:
        vertices.append(pos)
        normals.append(nrm)
        uvs.append(uv)
        triangles.append(tri + offset)
        offset += len(pos)
    vertices_all, triangles_all = np.concatenate(vertices), np.concatenate(triangles)
    corners = vertices_all[triangles_all]
    area = np.linalg.norm(
        np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0]), axis=1
    )
    return TriangleMesh(
        vertices_all,
        np.concatenate(normals),
        triangles_all[area > 1e-12],
        np.concatenate(uvs),
        key=key,
    )


def _disk(z: float, radius: float, segments: int, up: bool):
    angle = np.linspace(0, 2 * np.pi, segments + 1)[:-1]
    rim = np.stack([radius * np.cos(angle), radius * np.sin(angle), np.full(segments, z)], 1)
    pos = np.vstack([[0.0, 0.0, z], rim])
    nrm = np.tile([0.0, 0.0, 1.0 if up else -1.0], (segments + 1, 1))
    uv = np.vstack([[0.5, 0.5], 0.5 + 0.5 * rim[:, :2] / radius])
    i = np.arange(segments)
    tri = np.stack([np.zeros(segments, int), 1 + i, 1 + (i + 1) % segments], 1)
    return pos, nrm, uv, tri if up else tri[:, [0, 2, 1]]


@functools.cache
def box() -> TriangleMesh:
    """A cube of edge 1 with flat faces."""
    parts = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            normal = np.zeros(3)
            normal[axis] = sign
            a, b = [(1, 2), (2, 0), (0, 1)][axis]
            corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
            pos = np.zeros((4, 3))
            pos[:, axis], pos[:, a], pos[:, b] = 0.5 * sign, corners[:, 0], corners[:, 1]
            tri = np.array([[0, 1, 2], [0, 2, 3]])
            parts.append(
                (
                    pos,
                    np.tile(normal, (4, 1)),
                    corners + 0.5,
                    tri if sign > 0 else tri[:, [0, 2, 1]],
                )
            )
    return _merge(parts, "primitive:box")


@functools.cache
def sphere(segments: int = 48, rings: int = 24) -> TriangleMesh:
    """A UV sphere of diameter 1."""

    def point(u, v):
        theta, phi = 2 * np.pi * u, np.pi * v
        n = np.stack([np.sin(phi) * np.cos(theta), np.sin(phi) * np.sin(theta), -np.cos(phi)], 1)
        return 0.5 * n, n

    return _merge([_surface(point, segments, rings)], f"primitive:sphere:{segments}:{rings}")


@functools.cache
def cylinder(segments: int = 48) -> TriangleMesh:
    """A cylinder of diameter 1 and height 1 along Z, with flat caps."""

    def side(u, v):
        theta = 2 * np.pi * u
        n = np.stack([np.cos(theta), np.sin(theta), np.zeros_like(u)], 1)
        return np.column_stack([0.5 * n[:, :2], v - 0.5]), n

    parts = [
        _surface(side, segments, 1),
        _disk(0.5, 0.5, segments, True),
        _disk(-0.5, 0.5, segments, False),
    ]
    return _merge(parts, f"primitive:cylinder:{segments}")


@functools.cache
def cone(segments: int = 48) -> TriangleMesh:
    """A cone of base diameter 1 and height 1 along Z, apex up, with a flat base."""
    slope = 0.5 / np.hypot(0.5, 1.0)  # the side normal's z component

    def side(u, v):
        theta = 2 * np.pi * u
        radius = 0.5 * (1 - v)
        n = np.stack(
            [
                np.cos(theta) * np.sqrt(1 - slope**2),
                np.sin(theta) * np.sqrt(1 - slope**2),
                np.full_like(u, slope),
            ],
            1,
        )
        pos = np.stack([radius * np.cos(theta), radius * np.sin(theta), v - 0.5], 1)
        return pos, n

    return _merge(
        [_surface(side, segments, 8), _disk(-0.5, 0.5, segments, False)],
        f"primitive:cone:{segments}",
    )


@functools.cache
def torus(minor: float = 0.15, segments: int = 48, sides: int = 24) -> TriangleMesh:
    """A torus around Z with outer diameter 1; `minor` is the tube radius."""
    major = 0.5 - minor

    def point(u, v):
        theta, phi = 2 * np.pi * u, 2 * np.pi * v
        ring = np.stack([np.cos(theta), np.sin(theta), np.zeros_like(u)], 1)
        n = ring * np.cos(phi)[:, None] + np.array([0, 0, 1.0]) * np.sin(phi)[:, None]
        return major * ring + minor * n, n

    return _merge([_surface(point, segments, sides)], f"primitive:torus:{minor}:{segments}:{sides}")


@functools.cache
def plane() -> TriangleMesh:
    """A 1 x 1 square in the XY plane facing +Z."""
    pos = np.array([[-0.5, -0.5, 0], [0.5, -0.5, 0], [0.5, 0.5, 0], [-0.5, 0.5, 0]], float)
    return TriangleMesh(
        pos,
        np.tile([0, 0, 1.0], (4, 1)),
        np.array([[0, 1, 2], [0, 2, 3]]),
        pos[:, :2] + 0.5,
        key="primitive:plane",
    )


PRIMITIVES: dict[str, Callable[[], TriangleMesh]] = {
    "box": box,
    "sphere": sphere,
    "cylinder": cylinder,
    "cone": cone,
    "torus": torus,
    "plane": plane,
}
