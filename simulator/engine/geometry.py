"""Panda3D geometry for scene meshes, built once and reused across frames."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
from panda3d.core import (
    Filename,
    Geom,
    GeomNode,
    GeomTriangles,
    GeomVertexData,
    GeomVertexFormat,
    GeomVertexReader,
    Loader,
    LoaderOptions,
    NodePath,
)

from simulator.errors import RenderError
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import Mesh, ModelAsset

_VERTEX = np.dtype([("position", "<f4", 3), ("normal", "<f4", 3), ("uv", "<f4", 2)])


def geom_node(mesh: TriangleMesh) -> NodePath:
    """A GeomNode holding `mesh`, filled straight from its numpy arrays."""
    rows = np.empty(len(mesh.vertices), _VERTEX)
    rows["position"], rows["normal"], rows["uv"] = mesh.vertices, mesh.normals, mesh.uvs
    data = GeomVertexData(mesh.key, GeomVertexFormat.get_v3n3t2(), Geom.UH_static)
    data.unclean_set_num_rows(len(rows))
    memoryview(data.modify_array(0)).cast("B")[:] = rows.tobytes()
    triangles = GeomTriangles(Geom.UH_static)
    triangles.set_index_type(Geom.NT_uint32)
    indices = triangles.modify_vertices()
    indices.unclean_set_num_rows(mesh.triangles.size)
    memoryview(indices).cast("B")[:] = mesh.triangles.astype("<u4").tobytes()
    geom = Geom(data)
    geom.add_primitive(triangles)
    node = GeomNode(mesh.key)
    node.add_geom(geom)
    return NodePath(node)


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
    if wrapper.find_all_textures().get_num_textures():
        # The frame shader samples p3d_Texture0 only where told to (untextured parts of the
        # model then sample Panda3D's default white texture, which changes nothing).
        wrapper.set_shader_input("textured", 1.0)
    return wrapper


def model_arrays(model: NodePath) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (N, 3) and triangles (M, 3) of every geom under `model`, in `model`'s space."""
    vertices: list[np.ndarray] = []
    triangles: list[np.ndarray] = []
    offset = 0
    for path in model.find_all_matches("**/+GeomNode"):
        transform = path.get_transform(model).get_mat()
        node = path.node()
        for g in range(node.get_num_geoms()):
            geom = node.get_geom(g).decompose()
            reader = GeomVertexReader(geom.get_vertex_data(), "vertex")
            points = []
            while not reader.is_at_end():
                points.append(transform.xform_point(reader.get_data3()))
            local = np.array(points, dtype=float).reshape(-1, 3)
            for p in range(geom.get_num_primitives()):
                primitive = geom.get_primitive(p)
                indices = [primitive.get_vertex(i) for i in range(primitive.get_num_vertices())]
                triangles.append(np.array(indices, dtype=np.int64).reshape(-1, 3) + offset)
            vertices.append(local)
            offset += len(local)
    if not vertices:
        return np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64)
    return np.concatenate(vertices), np.concatenate(triangles)


class GeometryCache:
    """Meshes by key, least recently used dropped first, so per-frame procedural meshes
    cannot grow memory without bound."""

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._nodes: OrderedDict[str, NodePath] = OrderedDict()
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # model files only

    def get(self, mesh: Mesh) -> NodePath:
        node = self._nodes.get(mesh.key)
        if node is None:
            node = geom_node(mesh) if isinstance(mesh, TriangleMesh) else load_model(mesh)
            self._nodes[mesh.key] = node
            if len(self._nodes) > self.capacity:
                self._nodes.popitem(last=False)
        else:
            self._nodes.move_to_end(mesh.key)
        return node

    def arrays(self, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
        """The mesh's vertices and triangles in its own (unit-cube) frame, as drawn."""
        if isinstance(mesh, TriangleMesh):
            return mesh.vertices.astype(float), mesh.triangles.astype(np.int64)
        arrays = self._arrays.get(mesh.key)
        if arrays is None:
            arrays = self._arrays[mesh.key] = model_arrays(self.get(mesh))
        return arrays

    def __len__(self) -> int:
        return len(self._nodes)
