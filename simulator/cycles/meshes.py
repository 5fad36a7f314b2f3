"""sim's meshes as Blender meshes, built once per mesh key and kept between frames.

A mesh comes as the engine draws it (`scene.meshes.DrawnMesh`, from the engine's geometry
cache): a `TriangleMesh` as it is, a Panda3D model (a `ModelAsset` such as "models/teapot")
read back from the engine's own geometry, normalised into its unit cube, so the Cycles image
and the engine's labels cover the same pixels. Either keeps its uvs, vertex colours (linear
floats, decoded from sRGB here) and normals (custom split normals, so smooth surfaces shade as
the engine interpolates them), and one material slot per group; a model's own texture goes
to its entity's look, as the engine multiplies it by the entity's colour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import bpy
import numpy as np

from simulator.cycles.materials import COLORS, UV_MAP
from simulator.cycles.notices import unsupported
from simulator.scene.materials import Material
from simulator.scene.meshes import DrawnMesh
from simulator.scene.patterns import to_linear
from simulator.scene.scene import Mesh
from simulator.scene.textures import TextureImage

Drawn = Callable[[Mesh], DrawnMesh]


@dataclass(frozen=True)
class BlenderMesh:
    """A mesh datablock and what each of its material slots shows: a group's own material,
    or None where the entity's look goes."""

    data: Any
    slots: tuple[Material | None, ...]
    colored: bool
    texture: TextureImage | None = None  # a model file's own, for its entity's look


def build_mesh(drawn: DrawnMesh) -> BlenderMesh:
    mesh = drawn.mesh
    for note in drawn.notes:
        unsupported(note)
    data = _datablock(mesh.key, mesh.vertices, mesh.triangles)
    corners = mesh.triangles.reshape(-1)
    assert mesh.uvs is not None  # TriangleMesh fills missing uvs with zeros
    layer = data.uv_layers.new(name=UV_MAP)
    layer.uv.foreach_set("vector", mesh.uvs[corners].astype(np.float32).ravel())
    if mesh.colors is not None:
        colors = data.color_attributes.new(COLORS, "FLOAT_COLOR", "POINT")
        values = np.column_stack([to_linear(mesh.colors[:, :3]), mesh.colors[:, 3]])
        colors.data.foreach_set("color", values.astype(np.float32).ravel())
    data.polygons.foreach_set("use_smooth", np.ones(len(mesh.triangles), bool))
    data.normals_split_custom_set_from_vertices(mesh.normals.astype(np.float32))
    slots: tuple[Material | None, ...] = (None,)
    if mesh.groups:
        slots = tuple(group.material for group in mesh.groups)
        counts = [group.count for group in mesh.groups]
        index = np.repeat(np.arange(len(mesh.groups), dtype=np.int32), counts)
        data.polygons.foreach_set("material_index", index)
    for _ in slots:
        data.materials.append(None)
    data.update()
    return BlenderMesh(data, slots, mesh.colors is not None, drawn.texture)


def _datablock(name: str, vertices: np.ndarray, triangles: np.ndarray) -> Any:
    """A Blender mesh of triangles, straight from the arrays (foreach_set: no Python loop)."""
    data = bpy.data.meshes.new(name[:60])
    triangles = np.asarray(triangles, np.int32).reshape(-1, 3)
    data.vertices.add(len(vertices))
    data.vertices.foreach_set("co", np.asarray(vertices, np.float32).ravel())
    data.loops.add(triangles.size)
    data.loops.foreach_set("vertex_index", triangles.ravel())
    data.polygons.add(len(triangles))
    data.polygons.foreach_set("loop_start", np.arange(0, triangles.size, 3, dtype=np.int32))
    data.update()
    return data
