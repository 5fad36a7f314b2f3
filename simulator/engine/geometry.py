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
    Loader,
    LoaderOptions,
    NodePath,
)

from simulator.errors import RenderError
from simulator.meshes import TriangleMesh
from simulator.scene import Mesh, ModelAsset

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


def load_model(asset: ModelAsset) -> NodePath:
    """Load a model file, centred on the origin and scaled to fit a unit cube."""
    options = LoaderOptions(LoaderOptions.LF_search | LoaderOptions.LF_report_errors)
    node = Loader.get_global_ptr().load_sync(
        Filename.from_os_specific(asset.path)
        if Path(asset.path).is_absolute()
        else Filename(asset.path),
        options,
    )
    if node is None:
        raise RenderError(f"could not load model {asset.path!r}")
    model = NodePath(node)
    low, high = model.get_tight_bounds()
    size = max(high - low)
    if size <= 0:
        raise RenderError(f"model {asset.path!r} has no geometry")
    wrapper = NodePath(asset.key)
    model.reparent_to(wrapper)
    model.set_pos(-(low + high) / 2)
    wrapper.set_scale(1.0 / size)
    wrapper.flatten_strong()
    return wrapper


class GeometryCache:
    """Meshes by key, least recently used dropped first, so per-frame procedural meshes
    cannot grow memory without bound."""

    def __init__(self, capacity: int = 512) -> None:
        self.capacity = capacity
        self._nodes: OrderedDict[str, NodePath] = OrderedDict()

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

    def __len__(self) -> int:
        return len(self._nodes)
