"""Contact occlusion: how much of the light from every direction the objects of a scene hide
from the surfaces near them (the dark rim where a part sits on a table, the floor under a
ball), without another pass.

Each entity is an ellipsoid proxy: the ellipsoid inscribed in its mesh's box, placed by its
matrix (exact for a sphere; a box's is a little smaller than the box). The frame shader
(shaders._CONTACT_UNIFORMS) darkens the ambient and environment light of every fragment by
the proxies near it. Meshes without volume (planes, a flat card) hide nothing and have no
proxy; of the rest, the MAX_OCCLUDERS nearest the camera are used.

Measured on llvmpipe: a few per cent of a frame with ten objects (docs/performance.md).
Cycles traces occlusion itself; the proxies are the rasterizer's stand-in for it.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import LMatrix4f, LVecBase4f, NodePath, PTA_float, PTA_LMatrix4f, PTA_LVecBase4f

from simulator.engine.convert import to_panda
from simulator.engine.geometry import GeometryCache
from simulator.engine.shaders import MAX_OCCLUDERS
from simulator.scene.scene import Entity

THIN = 1e-6  # a proxy axis shorter than this (metres, after scale): the mesh has no volume


Proxy = tuple[np.ndarray, np.ndarray, int, np.ndarray]


def proxies(
    entities: list[Entity], geometry: GeometryCache, world_to_view: np.ndarray
) -> list[Proxy]:
    """(view space -> the proxy's unit-sphere frame, the normals' map there, instance id,
    bounds: the view-space centre and the square of 4 times the longest axis) for up to
    MAX_OCCLUDERS entities, nearest the camera first."""
    found = []
    for entity in entities:
        mesh = geometry.drawn(entity.mesh).mesh
        if not len(mesh.vertices):
            continue
        low, high = mesh.bounds()  # worked out once per mesh, not per frame
        matrix = entity.matrix()
        axes = np.linalg.norm(matrix[:3, :3], axis=0) * (high - low) / 2
        if axes.min() < THIN:
            continue
        # unit sphere -> mesh frame (centre + half extents) -> world -> view
        sphere = np.diag([*((high - low) / 2), 1.0])
        sphere[:3, 3] = (low + high) / 2
        unit_to_view = world_to_view @ matrix @ sphere
        to_unit = np.linalg.inv(unit_to_view)
        normal = np.eye(4)
        normal[:3, :3] = np.linalg.inv(to_unit[:3, :3]).T
        centre = unit_to_view[:3, 3]
        bounds = np.append(centre, (4 * axes.max()) ** 2)
        found.append((float(np.linalg.norm(centre)), entity.instance_id, to_unit, normal, bounds))
    found.sort(key=lambda item: (item[0], item[1]))
    return [(m, n, iid, bounds) for _, iid, m, n, bounds in found[:MAX_OCCLUDERS]]


def bind(root: NodePath, occluders: list[Proxy]) -> None:
    """The proxies as the shader's inputs, on the scene's root."""
    points = PTA_LMatrix4f.empty_array(MAX_OCCLUDERS)
    normals = PTA_LMatrix4f.empty_array(MAX_OCCLUDERS)
    ids = PTA_float.empty_array(MAX_OCCLUDERS)
    bounds = PTA_LVecBase4f.empty_array(MAX_OCCLUDERS)
    for i in range(MAX_OCCLUDERS):
        points[i] = normals[i] = LMatrix4f.ident_mat()
    for i, (to_unit, normal, instance_id, bound) in enumerate(occluders):
        points[i], normals[i], ids[i] = to_panda(to_unit), to_panda(normal), float(instance_id)
        bounds[i] = LVecBase4f(*bound)
    root.set_shader_input("occluder_count", len(occluders))
    root.set_shader_input("occluder_to_unit", points)
    root.set_shader_input("occluder_normal", normals)
    root.set_shader_input("occluder_id", ids)
    root.set_shader_input("occluder_bounds", bounds)
