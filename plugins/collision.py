"""Collision shapes from an entity's real geometry, built once per mesh and scale.

- "hull": the convex hull of the mesh's vertices, scaled as posed, for convex objects and for
  anything that need not hold other things.
- "decomposition": convex parts (plugins/decomposition.py), for concave objects: a bowl, a bin.
- "auto": the decomposition where the mesh is closed and fills less than `concavity` of its
  hull's volume, else the hull.
- static supports (a table, a shelf, a bin that does not move): the triangles themselves
  ("mesh"); with "auto", a convex support (a box, a slab: its volume within 1 % of its
  hull's) collides as its hull instead, since small objects resting on a triangle mesh keep
  jittering on its internal edges (Bullet's edge-contact fix is not reachable from panda3d),
  and a closed concave one (a bin) as a convex slab per flat face ("slabs", plugins/slabs.py).

Hull points go to Bullet as one array (`add_array`): point by point (`add_point`), Bullet
recomputes the shape's bounds after each, which made a 2,000-vertex hull cost 30 ms. A hull of
2,000 points steps about as fast as one of 100, so nothing is thinned: the shape is the mesh's
exact hull, with Bullet's collision margin around it: 1 mm, or a 50th of the object's
smallest extent where that is less (a 6 mm nut would otherwise rest a millimetre up).
`factor` builds a collider larger than life, for plugins/physics.py's physics scale.

Shapes are cached by (mesh key, scale, parameters) in a bounded table, and shared between
bodies (Bullet allows that); `CACHE.builds` and `CACHE.hits` count what happened.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import numpy as np
from panda3d.bullet import (
    BulletConvexHullShape,
    BulletShape,
    BulletTriangleMesh,
    BulletTriangleMeshShape,
)
from panda3d.core import LPoint3f, PTA_LVecBase3f

from sim_plugins import decomposition, slabs
from simulator import Entity, ModelAsset, TriangleMesh

ShapeKind = Literal["hull", "decomposition", "auto"]
SupportKind = Literal["auto", "mesh", "hull", "slabs"]
MARGIN = 0.001


@dataclass(frozen=True)
class ShapeSpec:
    """How an entity's collision shape is made (the settle randomizer's parameters)."""

    kind: ShapeKind = "hull"
    weigh: bool = False  # work out the volume (for mass from density); "auto" always does
    concavity: float = 0.7
    max_parts: int = 16
    resolution: int = 50_000
    support: SupportKind = "auto"


@dataclass(frozen=True)
class Collider:
    """An entity's collision shape(s), in its own frame, scaled; and its volume, m^3."""

    shapes: tuple[BulletShape, ...]
    volume: float | None  # None: not asked for (ShapeSpec.weigh)
    kind: str  # "hull", "decomposition", "box" (model files) or "mesh" (static triangles)


class ShapeCache:
    """Colliders by (mesh key, scale, spec), the least recently used dropped beyond `limit`
    (generated meshes, such as pipes, are new every frame). `builds` and `hits` count
    colliders made and reused; `analyses`, meshes measured (volume, closedness), which
    happens once per mesh whatever its scale."""

    def __init__(self, limit: int = 512) -> None:
        self.limit, self.builds, self.hits, self.analyses = limit, 0, 0, 0
        self._table: OrderedDict[tuple, Collider] = OrderedDict()

    def collider(
        self, entity: Entity, spec: ShapeSpec, static: bool = False, factor: float = 1.0
    ) -> Collider:
        """The entity's collider, its lengths multiplied by `factor` (the physics scale of
        plugins/physics.py); its volume stays in cubic metres."""
        key = (entity.mesh.key, entity.scale.tobytes(), spec, static, factor)
        if key in self._table:
            self.hits += 1
            self._table.move_to_end(key)
            return self._table[key]
        self.builds += 1
        collider = _build(entity, entity.scale * factor, spec, static, MARGIN * factor)
        if collider.volume is not None:
            collider = Collider(collider.shapes, collider.volume / factor**3, collider.kind)
        self._table[key] = collider
        if len(self._table) > self.limit:
            self._table.popitem(last=False)
        return collider


CACHE = ShapeCache()


def _build(
    entity: Entity, scale: np.ndarray, spec: ShapeSpec, static: bool, margin: float
) -> Collider:
    if isinstance(entity.mesh, ModelAsset):  # the engine's unit cube (no arrays here)
        return Collider((_hull_shape(entity.outline() * scale, margin),), _box(scale), "box")
    mesh = entity.mesh
    if static:
        if spec.support == "auto":
            solid, hull_volume, closed = _volumes(mesh, scale)
            if closed and solid >= 0.99 * hull_volume:
                return Collider((_hull_shape(mesh.vertices * scale, margin),), solid, "hull")
            if closed:
                return Collider(slabs.slab_shapes(mesh, scale, margin), None, "slabs")
        if spec.support == "slabs":
            return Collider(slabs.slab_shapes(mesh, scale, margin), None, "slabs")
        if spec.support != "hull":
            return Collider((_triangle_shape(mesh, scale, margin),), None, "mesh")
        return Collider((_hull_shape(mesh.vertices * scale, margin),), None, "hull")
    kind = spec.kind
    volume: float | None = None
    if kind == "auto" or spec.weigh:
        solid_volume, hull_volume, closed = _volumes(mesh, scale)
        volume = solid_volume
        if kind == "auto":
            concave = closed and solid_volume < spec.concavity * hull_volume
            kind = "decomposition" if concave else "hull"
    if kind == "decomposition":
        parts = decomposition.convex_parts(mesh, spec.max_parts, spec.resolution)
        pad = _margin(mesh.vertices * scale, margin)
        shapes = tuple(_hull_shape(part * scale, pad) for part in parts)
        return Collider(shapes, volume, "decomposition")
    points = mesh.vertices * scale
    return Collider((_hull_shape(points, _margin(points, margin)),), volume, "hull")


_measures: OrderedDict[str, tuple[float, float, bool]] = OrderedDict()


def _volumes(mesh: TriangleMesh, scale: np.ndarray) -> tuple[float, float, bool]:
    """The mesh's enclosed volume, its hull's, and whether it is closed (an open mesh's own
    volume means nothing: its hull's stands in). Measured once per mesh, unscaled: any
    scaling multiplies both volumes by the product of its factors."""
    if mesh.key not in _measures:
        CACHE.analyses += 1
        solid = decomposition.solid(mesh)
        hull, closed = float(solid.convex_hull.volume), bool(solid.is_watertight)
        _measures[mesh.key] = (abs(float(solid.volume)) if closed else hull), hull, closed
        if len(_measures) > CACHE.limit:
            _measures.popitem(last=False)
    volume, hull, closed = _measures[mesh.key]
    factor = float(np.prod(scale))
    return volume * factor, hull * factor, closed


def _box(scale: np.ndarray) -> float:
    return float(np.prod(scale))


def _margin(points: np.ndarray, largest: float) -> float:
    """Bullet's collision margin for a moving object: 1 mm, or under a 50th of the object's
    smallest extent for small ones (the margin pads the hull, so a 6 mm nut with 1 mm would
    rest a visible millimetre above the floor)."""
    return min(largest, float(np.ptp(points, axis=0).min()) / 50)


def _hull_shape(points: np.ndarray, margin: float) -> BulletConvexHullShape:
    array = PTA_LVecBase3f.empty_array(len(points))
    np.frombuffer(memoryview(array), np.float32)[:] = np.asarray(points, np.float32).ravel()
    shape = BulletConvexHullShape()
    shape.add_array(array)
    shape.set_margin(margin)
    return shape


def _triangle_shape(
    mesh: TriangleMesh, scale: np.ndarray, margin: float
) -> BulletTriangleMeshShape:
    """The triangles as a static (non-moving) concave shape: scenery that objects rest on."""
    triangles = BulletTriangleMesh()
    corners = mesh.vertices[mesh.triangles].astype(float) * scale
    for a, b, c in corners:
        triangles.add_triangle(LPoint3f(*a), LPoint3f(*b), LPoint3f(*c))
    shape = BulletTriangleMeshShape(triangles, dynamic=False)
    shape.set_margin(margin)
    return shape
