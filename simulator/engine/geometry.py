"""Panda3D geometry for scene meshes, built once and reused across frames."""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from panda3d.core import (
    Filename,
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexArrayFormat,
    GeomVertexData,
    GeomVertexFormat,
    InternalName,
    Loader,
    LoaderOptions,
    NodePath,
    RenderState,
    Texture,
)

from simulator.engine.model_mesh import DrawnMesh, drawn_mesh
from simulator.errors import RenderError
from simulator.labels.parts import part_codes
from simulator.scene.materials import Material
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import Mesh, ModelAsset

_VERTEX = np.dtype([("position", "<f4", 3), ("normal", "<f4", 3), ("uv", "<f4", 2)])
_COLORED = np.dtype(
    [("position", "<f4", 3), ("normal", "<f4", 3), ("color", "<f4", 4), ("uv", "<f4", 2)]
)
MaterialStateOf = Callable[[Material], RenderState]
# A mesh with materials is tagged so that each camera draws it with the material variant of
# its shader (Camera.set_tag_state); plain meshes keep the plain shaders.
SHADING_TAG, MATERIAL_SHADING = "sim-shading", "material"
# The colour cameras tell the material variants apart by another tag, set on each entity's
# node (engine.materials.variant_tag): the features its materials use.
VARIANT_TAG = "sim-material-variant"


@functools.cache
def _colored_format() -> GeomVertexFormat:
    """Like v3n3t2 with float RGBA vertex colours (sRGB, as the mesh gives them: the vertex
    shader linearises p3d_Color), laid out as _COLORED."""
    array = GeomVertexArrayFormat()
    array.add_column(InternalName.get_vertex(), 3, Geom.NT_float32, Geom.C_point)
    array.add_column(InternalName.get_normal(), 3, Geom.NT_float32, Geom.C_normal)
    array.add_column(InternalName.get_color(), 4, Geom.NT_float32, Geom.C_color)
    array.add_column(InternalName.get_texcoord(), 2, Geom.NT_float32, Geom.C_texcoord)
    return GeomVertexFormat.register_format(array)


def _vertex_data(mesh: TriangleMesh) -> GeomVertexData:
    """The mesh's vertices, filled straight from its numpy arrays (with a colour column only
    where it has vertex colours: plain meshes keep v3n3t2)."""
    colored = mesh.colors is not None
    rows = np.empty(len(mesh.vertices), _COLORED if colored else _VERTEX)
    rows["position"], rows["normal"], rows["uv"] = mesh.vertices, mesh.normals, mesh.uvs
    if mesh.colors is not None:
        rows["color"] = mesh.colors
    vertex_format = _colored_format() if colored else GeomVertexFormat.get_v3n3t2()
    data = GeomVertexData(mesh.key, vertex_format, Geom.UH_static)
    data.unclean_set_num_rows(len(rows))
    memoryview(data.modify_array(0)).cast("B")[:] = rows.tobytes()
    return data


def _triangles(triangles: np.ndarray) -> GeomTriangles:
    primitive = GeomTriangles(Geom.UH_static)
    primitive.set_index_type(Geom.NT_uint32)
    indices = primitive.modify_vertices()
    indices.unclean_set_num_rows(triangles.size)
    memoryview(indices).cast("B")[:] = triangles.astype("<u4").tobytes()
    return primitive


def geom_node(mesh: TriangleMesh, material_state: MaterialStateOf | None = None) -> NodePath:
    """A GeomNode holding `mesh`: one Geom per material group (one for a mesh without
    groups), sharing the vertex data. A group with a material carries `material_state` of
    it, and the node is tagged for the cameras' material shaders; a group without takes the
    entity's inputs. A named group also carries its part code (labels.parts) for the parts
    pass."""
    data = _vertex_data(mesh)
    node = GeomNode(mesh.key)
    if not mesh.groups:
        node.add_geom(_geom(data, mesh.triangles))
        return NodePath(node)
    for group, code in zip(mesh.groups, part_codes(mesh), strict=True):
        state = NodePath("group")
        if group.material is not None:
            if material_state is None:
                raise RenderError(f"mesh {mesh.key!r} has materials but no material states")
            state.set_state(material_state(group.material))
            node.set_tag(SHADING_TAG, MATERIAL_SHADING)
        state.set_shader_input("part", float(code))
        triangles = mesh.triangles[group.first : group.first + group.count]
        node.add_geom(_geom(data, triangles), state.get_state())
    return NodePath(node)


def _geom(data: GeomVertexData, triangles: np.ndarray) -> Geom:
    geom = Geom(data)
    geom.add_primitive(_triangles(triangles))
    return geom


GLTF_SUFFIXES = (".gltf", ".glb")


def _read_model(path: str) -> NodePath:
    """A model file as Panda3D nodes, Z up. glTF goes through panda3d-gltf, which converts
    glTF's Y-up axes (Panda3D's own Assimp importer would otherwise claim .gltf and not)."""
    if Path(path).suffix.lower() in GLTF_SUFFIXES:
        import gltf

        try:
            return NodePath(gltf.load_model(path))
        except Exception as error:
            raise RenderError(f"could not load glTF model {path!r}: {error}") from error
    options = LoaderOptions(LoaderOptions.LF_search | LoaderOptions.LF_report_errors)
    filename = Filename.from_os_specific(path) if Path(path).is_absolute() else Filename(path)
    node = Loader.get_global_ptr().load_sync(filename, options)
    if node is None:
        raise RenderError(f"could not load model {path!r}")
    return NodePath(node)


def model_bounds(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Tight bounds of a model file's geometry (Z up), as loaded."""
    low, high = _read_model(path).get_tight_bounds()
    return np.array(low, dtype=float), np.array(high, dtype=float)


def load_model(asset: ModelAsset) -> NodePath:
    """Load a model file, centred on the origin and scaled to fit a unit cube."""
    model = _read_model(asset.path)
    low, high = model.get_tight_bounds()
    size = max(high - low)
    if size <= 0:
        raise RenderError(f"model {asset.path!r} has no geometry")
    wrapper = NodePath(asset.key)
    model.reparent_to(wrapper)
    model.set_pos(-(low + high) / 2)
    wrapper.set_scale(1.0 / size)
    wrapper.flatten_strong()
    textures = wrapper.find_all_textures()
    if textures.get_num_textures():
        # The frame shader samples p3d_Texture0 only where told to (untextured parts of the
        # model then sample Panda3D's default white texture, which changes nothing).
        wrapper.set_shader_input("textured", 1.0)
        for texture in textures:  # colour images: decoded from sRGB by the sampler
            texture.set_format(_SRGB.get(texture.get_num_components(), texture.get_format()))
    return wrapper


_SRGB = {  # components -> the sRGB format of a colour image
    1: Texture.F_sluminance,
    2: Texture.F_sluminance_alpha,
    3: Texture.F_srgb,
    4: Texture.F_srgb_alpha,
}


class GeometryCache:
    """Meshes by key, least recently used dropped first, so per-frame procedural meshes
    cannot grow memory without bound."""

    def __init__(self, material_state: MaterialStateOf | None = None, capacity: int = 512) -> None:
        self.capacity, self._material_state = capacity, material_state
        self._nodes: OrderedDict[str, NodePath] = OrderedDict()
        self._drawn: dict[str, DrawnMesh] = {}  # model files only

    def get(self, mesh: Mesh) -> NodePath:
        node = self._nodes.get(mesh.key)
        if node is None:
            if isinstance(mesh, TriangleMesh):
                node = geom_node(mesh, self._material_state)
            else:
                node = load_model(mesh)
            self._nodes[mesh.key] = node
            if len(self._nodes) > self.capacity:
                self._nodes.popitem(last=False)
        else:
            self._nodes.move_to_end(mesh.key)
        return node

    def arrays(self, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
        """The mesh's vertices and triangles in its own (unit-cube) frame, as drawn."""
        drawn = self.drawn(mesh).mesh
        return drawn.vertices.astype(float), drawn.triangles.astype(np.int64)

    def drawn(self, mesh: Mesh) -> DrawnMesh:
        """The mesh as the engine draws it: a model file's normals, uvs, vertex colours and
        texture read back from Panda3D's geometry (for Cycles and the glTF export)."""
        if isinstance(mesh, TriangleMesh):
            return DrawnMesh(mesh)
        drawn = self._drawn.get(mesh.key)
        if drawn is None:
            drawn = self._drawn[mesh.key] = drawn_mesh(self.get(mesh), mesh.key)
        return drawn

    def __len__(self) -> int:
        return len(self._nodes)
