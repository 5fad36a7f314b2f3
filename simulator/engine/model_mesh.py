"""A Panda3D model (a `ModelAsset`: an .egg, a .bam, a bundled model such as "models/teapot")
as the `TriangleMesh` the engine draws: positions, normals, texture coordinates and vertex
colours, read from its vertex data after `geometry.load_model` has centred and scaled it.

Renderers that are not Panda3D (Cycles) and the glTF export take a model through this, so the
model shades smooth there as in the engine, with its texture. The engine draws a model's
texture multiplied by the entity's colour, which a `Material` of its own would replace: the
texture therefore comes beside the mesh (`scene.meshes.DrawnMesh`), for the entity's look, and the
groups stay without materials. A model whose parts use different textures keeps its first
(`notes` says so); flat colours of its parts (Panda3D's ColorAttrib) become vertex colours.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import ColorAttrib, GeomVertexReader, NodePath, RenderState, TextureAttrib

from simulator.engine.convert import from_panda
from simulator.scene.meshes import DrawnMesh, TriangleMesh
from simulator.scene.textures import TextureImage


def _column(data: object, name: str, width: int) -> np.ndarray | None:
    """One column of a GeomVertexData as a float array (None where the data has none)."""
    reader = GeomVertexReader(data, name)
    if not reader.has_column():
        return None
    get = {2: reader.get_data2, 3: reader.get_data3, 4: reader.get_data4}[width]
    values = []
    while not reader.is_at_end():
        values.extend(get())
    return np.array(values, dtype=float).reshape(-1, width)


def _texture_image(state: RenderState, key: str) -> TextureImage | None:
    attrib = state.get_attrib(TextureAttrib)
    texture = attrib.get_texture() if attrib is not None else None
    if texture is None or not texture.has_ram_image():
        return None
    size = (texture.get_y_size(), texture.get_x_size())
    pixels = np.frombuffer(bytes(texture.get_ram_image_as("RGBA")), np.uint8)
    image = pixels.reshape(*size, 4)[::-1]  # Panda3D keeps rows bottom first
    rgb = image if (image[:, :, 3] < 255).any() else image[:, :, :3]
    return TextureImage(rgb, source=f"{key}:{texture.get_name()}")


def _flat_color(state: RenderState) -> np.ndarray | None:
    attrib = state.get_attrib(ColorAttrib)
    if attrib is None or attrib.get_color_type() != ColorAttrib.T_flat:
        return None
    return np.array(attrib.get_color(), dtype=float)


def drawn_mesh(model: NodePath, key: str) -> DrawnMesh:
    """The triangles of every geom under `model` (in `model`'s space), with what they wear."""
    parts: list[tuple[np.ndarray, ...]] = []
    textures: list[TextureImage] = []
    offset, colored = 0, False
    for path in model.find_all_matches("**/+GeomNode"):
        matrix = from_panda(path.get_transform(model).get_mat())  # column vectors
        node, net = path.node(), path.get_net_state()
        for g in range(node.get_num_geoms()):
            geom = node.get_geom(g).decompose()
            data = geom.get_vertex_data()
            state = net.compose(node.get_geom_state(g))
            local = _column(data, "vertex", 3)
            if local is None or not len(local):
                continue
            normals = _column(data, "normal", 3)
            uvs = _column(data, "texcoord", 2)
            colors = _column(data, "color", 4)
            flat = _flat_color(state)
            if flat is not None:
                colors = np.tile(flat, (len(local), 1))
            colored = colored or colors is not None
            texture = _texture_image(state, key)
            if texture is not None and all(t.key != texture.key for t in textures):
                textures.append(texture)
            indices = [
                np.array(
                    [primitive.get_vertex(i) for i in range(primitive.get_num_vertices())],
                    dtype=np.int64,
                ).reshape(-1, 3)
                for primitive in geom.get_primitives()
            ]
            points = local @ matrix[:3, :3].T + matrix[:3, 3]
            if normals is None:
                normals = np.zeros_like(local)
            normals = normals @ np.linalg.inv(matrix[:3, :3])  # the inverse transpose
            lengths = np.linalg.norm(normals, axis=1, keepdims=True)
            normals = np.where(lengths > 0, normals / np.maximum(lengths, 1e-30), 0.0)
            parts.append(
                (
                    points,
                    normals,
                    np.zeros((len(local), 2)) if uvs is None else uvs,
                    colors if colors is not None else np.ones((len(local), 4)),
                    np.concatenate(indices) + offset,
                )
            )
            offset += len(local)
    if not parts:
        empty = np.zeros((0, 3))
        return DrawnMesh(TriangleMesh(empty, empty, np.zeros((0, 3), np.int64), key=key))
    columns = (np.concatenate(column) for column in zip(*parts, strict=True))
    vertices, normals, uvs, colors, triangles = columns
    notes: tuple[str, ...] = ()
    if len(textures) > 1:
        notes = (f"{key} has {len(textures)} textures; other renderers show its first only",)
    mesh = TriangleMesh(
        vertices, normals, triangles, uvs, key=key, colors=colors if colored else None
    )
    return DrawnMesh(mesh, textures[0] if textures else None, notes)
