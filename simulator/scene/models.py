"""Model files (STL, PLY, OBJ + MTL, glTF / GLB, OFF, and USD with the `usd` extra) read into
one `TriangleMesh` in metres, Z up, at their real size: a 120 mm CAD part is 0.12 m long.
Renderer-free: trimesh reads the files (sim writes no parser), this module walks trimesh's
scene graph and converts; USD stages go through Pixar's library instead (`scene.usd`), in
their own units and up axis.

Every mesh of the file's (default) scene lands in the one mesh with its node's transform, as
one `MeshGroup` (a glTF primitive, an OBJ group, the whole of an STL, PLY or OFF) named after
its node or group, with the file's material. The model keeps the file's origin (CAD parts are
positioned relative to it); glTF's Y-up axes become sim's Z-up ones: (x, y, z) -> (x, -z, y).
Normals are the file's; where it has none they are computed, smooth across edges sharper than
trimesh's crease angle (20 degrees) only. A texture or MTL the file names but that cannot be
read is skipped with a `MissingAssetWarning` naming it (the material keeps its colour factor);
anything else wrong with a file is one `WorldError` naming it.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from simulator.errors import WorldError
from simulator.scene.materials import Material, MeshGroup
from simulator.scene.meshes import TriangleMesh
from simulator.scene.model_materials import material, vertex_colors

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}
USD_SUFFIXES = (".usd", ".usda", ".usdc", ".usdz")
SUFFIXES = (".stl", ".ply", ".obj", ".glb", ".gltf", ".off", *USD_SUFFIXES)
USD_INSTALL = 'USD files need Pixar\'s library: pip install "sim[usd]" (usd-core)'
GLTF_SUFFIXES = (".gltf", ".glb")
Unit = str | float
_Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


class MissingAssetWarning(UserWarning):
    """A file a model names (a texture, an MTL) cannot be read: the model is drawn without it."""


def unit_scale(unit: Unit) -> float:
    """Metres per file unit: "m", "cm", "mm", "in", or a positive number."""
    if isinstance(unit, int | float) and not isinstance(unit, bool):
        if math.isfinite(unit) and unit > 0:
            return float(unit)
        raise WorldError(f"unit {unit!r} is not a positive scale", hint="e.g. 0.001 for mm")
    if isinstance(unit, str) and unit in UNITS:
        return UNITS[unit]
    raise WorldError(
        f"unknown unit {unit!r}",
        hint="one of " + ", ".join(UNITS) + ", or a number: metres per file unit",
    )


def _usd() -> Any:
    """scene.usd, loaded only for USD files (its library is an optional extra)."""
    try:
        return importlib.import_module("simulator.scene.usd")
    except ImportError as error:
        if (error.name or "").split(".")[0] == "pxr":
            raise WorldError(USD_INSTALL) from None
        raise


def is_usd(path: str | Path) -> bool:
    return Path(path).suffix.lower() in USD_SUFFIXES


def axes(path: str | Path) -> np.ndarray:
    """The rotation from a file's axes to sim's: glTF's Y up to Z up; a USD stage's as its
    upAxis says; others are Z up."""
    if is_usd(path):
        return np.asarray(_usd().stage_frame(str(Path(path).resolve()))[0])
    return _Y_UP_TO_Z_UP if Path(path).suffix.lower() in GLTF_SUFFIXES else np.eye(3)


def file_scale(path: str | Path, unit: Unit) -> float:
    """Metres per file unit: `unit`'s, or for a USD stage with unit "m" its metersPerUnit."""
    if is_usd(path) and unit == "m":
        return float(_usd().stage_frame(str(Path(path).resolve()))[1])
    return unit_scale(unit)


def to_model_frame(points: np.ndarray, path: str | Path, unit: Unit) -> np.ndarray:
    """Points in a file's own units and axes (a keypoint sidecar's) in the frame `read_model`
    gives its mesh: sim's axes, metres."""
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    return (points @ axes(path).T) * file_scale(path, unit)


def read_model(path: str | Path, unit: Unit = "m") -> TriangleMesh:
    """The model file as one mesh in metres (file units times `unit`), Z up, origin kept.

    Read once per file content (path, modification time and size) and unit; the mesh's key
    names the file, the unit and the geometry, so a changed file is a new mesh to the engine.
    """
    file = Path(path).resolve()
    if file.suffix.lower() not in SUFFIXES:
        raise WorldError(
            f"unknown model file extension {file.suffix!r}",
            file=file,
            hint="expected one of " + ", ".join(SUFFIXES),
        )
    try:
        scale = unit_scale(unit)
    except WorldError as error:
        raise WorldError(error.message, file=file, hint=error.hint) from None
    try:
        stat = file.stat()
    except OSError:
        raise WorldError("model file not found", file=file) from None
    return _read(str(file), stat.st_mtime_ns, stat.st_size, scale, str(unit))


def model_frame(mesh: TriangleMesh) -> tuple[np.ndarray, float]:
    """(centre, longest side) of the mesh's box: normalising draws (point - centre) / side."""
    low, high = mesh.bounds()
    return (low + high) / 2, float(max(high - low))


def normalized(mesh: TriangleMesh) -> TriangleMesh:
    """The mesh centred on its box's centre with its longest side 1, as sim drew every model
    file before real sizes (`normalize = true`)."""
    centre, side = model_frame(mesh)
    if side <= 0:
        raise WorldError(f"{mesh.key}: the model has no extent to normalise")
    vertices = (mesh.vertices - centre) / side
    return dataclasses.replace(mesh, vertices=vertices, key=mesh.key + ":normalized")


class _Resolver(trimesh.resolvers.FilePathResolver):
    """Finds the files a model names beside it, and remembers the ones it could not find."""

    def __init__(self, source: str) -> None:
        super().__init__(source, allow_anywhere=True)
        self.missing: list[str] = []

    def get(self, name: str) -> bytes:
        try:
            return super().get(name)
        except (OSError, ValueError):
            self.missing.append(name)
            raise


SLOW = 2.0  # seconds: a read that takes longer is reported on stderr (a scan, a big CAD part)


@functools.lru_cache(maxsize=32)
def _read(path: str, mtime_ns: int, size: int, scale: float, unit: str) -> TriangleMesh:
    began = time.perf_counter()
    mesh = _load(path, scale, unit)
    seconds = time.perf_counter() - began
    if seconds >= SLOW:  # once per file and process (the cache keeps the mesh)
        print(
            f"note: read {path}: {len(mesh.triangles):,} triangles in {seconds:.1f} s",
            file=sys.stderr,
        )
    return mesh


def _load(path: str, scale: float, unit: str) -> TriangleMesh:
    if is_usd(path):
        found = _usd().read_parts(path, None if unit == "m" else scale)
        return _mesh_of(found, path, unit)
    resolver = _Resolver(path)
    options: dict[str, Any] = (
        {"split_groups": True, "group_material": False} if path.endswith(".obj") else {}
    )
    try:
        scene = trimesh.load_scene(path, resolver=resolver, process=False, **options)
    except Exception as error:  # trimesh's loaders raise many kinds on a broken file
        raise WorldError(
            f"cannot read this model file: {type(error).__name__}: {error}",
            file=path,
            hint="is the file complete and in the format its suffix says?",
        ) from None
    for name in dict.fromkeys(resolver.missing):
        warnings.warn(
            f"model file {path} names {name!r}, which cannot be read: drawn without it "
            "(its material keeps its colour factor)",
            MissingAssetWarning,
            stacklevel=2,
        )
    linear = Path(path).suffix.lower() in GLTF_SUFFIXES
    parts = [_part(scene, node, path, scale, linear) for node in scene.graph.nodes_geometry]
    return _mesh_of([p for p in parts if p is not None], path, unit)


def _mesh_of(found: list[_Part], path: str, unit: str) -> TriangleMesh:
    if not found:
        raise WorldError(
            "the model file has no triangles that could be read",
            file=path,
            hint="is the file complete, and a mesh rather than points or lines?",
        )
    mesh = _merge(found)
    return dataclasses.replace(mesh, key=f"model:{path}@{unit}#{mesh.key.split(':', 1)[1]}")


_Part = tuple[
    str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, Material | None
]


def _part(scene: trimesh.Scene, node: str, path: str, scale: float, linear: bool) -> _Part | None:
    """One geometry of the scene graph in sim's frame: (name, vertices, normals, uvs,
    triangles, colours, material)."""
    transform, geometry_name = scene.graph[node]
    geometry = scene.geometry[geometry_name]
    if not isinstance(geometry, trimesh.Trimesh) or len(geometry.faces) == 0:
        return None
    look = material(geometry, node, path)  # before the edits below, which may drop visuals
    if getattr(geometry.visual, "kind", None) == "face":
        geometry.unmerge_vertices()  # each corner its own vertex, so face colours stay exact
    if "vertex_normals" not in geometry._cache.cache:  # the file gave none
        if getattr(geometry.visual, "kind", None) not in ("vertex", "face"):
            geometry.merge_vertices()  # an STL's triangle soup shares its corners
        geometry = trimesh.graph.smooth_shade(geometry)
    rotation = axes(path) @ transform[:3, :3]
    vertices = (geometry.vertices @ rotation.T + axes(path) @ transform[:3, 3]) * scale
    normals = geometry.vertex_normals @ np.linalg.inv(rotation)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    triangles = np.asarray(geometry.faces)
    if np.linalg.det(rotation) < 0:  # a mirroring transform turns the faces inside out
        triangles = triangles[:, ::-1]
    uv = getattr(geometry.visual, "uv", None)
    uvs = np.zeros((len(vertices), 2)) if uv is None else np.asarray(uv, float)
    colors = vertex_colors(geometry, linear)
    if look is None and colors is not None:
        look = Material(name=node)  # a painted scan shows its own colours, not the entity's
    return node, vertices, normals, uvs, triangles, colors, look


def _merge(parts: list[_Part]) -> TriangleMesh:
    """One mesh of the parts, triangles in part order, one group per part."""
    groups, offset, first = [], 0, 0
    triangles = []
    for name, vertices, _, _, faces, _, look in parts:
        triangles.append(faces + offset)
        groups.append(MeshGroup(name, first, len(faces), look))
        offset, first = offset + len(vertices), first + len(faces)
    has_colors = any(p[5] is not None for p in parts)
    colors = (
        np.concatenate([p[5] if p[5] is not None else np.ones((len(p[1]), 4)) for p in parts])
        if has_colors
        else None
    )
    return TriangleMesh(
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
        np.concatenate(triangles),
        np.concatenate([p[3] for p in parts]),
        colors=colors,
        groups=tuple(groups),
    )
