"""A sim `Scene` as a glTF 2.0 document: meshes, materials, the camera and the lights.

Axes: sim's world is Z up, glTF's Y up. One root node ("sim world (Z up)") turns the one
into the other (a quarter turn about x: sim's (x, y, z) is glTF's (x, z, -y)), and every
node below it keeps sim's own matrix: an entity's `matrix()`, the camera's cam_to_world
(turned to glTF's camera axes), a light's pose. Blender's importer turns Y up back to Z up,
so a point lands at sim's coordinates there.

Meshes: a `TriangleMesh` keeps its positions, normals, uvs (v flipped: `materials`) and
vertex colours (COLOR_0, linear: sim's are sRGB-encoded), one primitive per `MeshGroup`
with its material; a mesh shared by entities is stored once. A `ModelAsset` (a Panda3D
model such as "models/teapot") comes as the engine draws it (`drawn`: its vertices,
normals, uvs and vertex colours read back from the engine, normalised into its unit cube,
so the geometry is the labels'), in its entity's look with the model's own texture where the
entity has none (the engine multiplies the two). Entity nodes carry the instance id, category
and source in `extras`.

What glTF cannot say goes into the scene's `extras["sim"]`: the ambient light (radiance,
linear RGB), the environment (its image file, written beside the .glb, its rotation about
sim's +Z in degrees and its intensity), the background colour and the film.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pygltflib

from simulator.export.document import Document
from simulator.export.materials import Materials, linear
from simulator.export.nodes import camera_node, column_major, light_node
from simulator.scene.meshes import DrawnMesh, TriangleMesh
from simulator.scene.scene import Entity, Mesh, Scene

Drawn = Callable[[Mesh], DrawnMesh]
# sim's Z up to glTF's Y up: a quarter turn about x, (x, y, z) -> (x, z, -y)
Z_UP_TO_Y_UP = np.array([[1.0, 0, 0, 0], [0, 0, 1.0, 0], [0, -1.0, 0, 0], [0, 0, 0, 1.0]])
ROOT_ROTATION = [-float(np.sqrt(0.5)), 0.0, 0.0, float(np.sqrt(0.5))]  # (x, y, z, w)


class SceneWriter:
    """Builds the document of one scene."""

    def __init__(self, drawn: Drawn) -> None:
        self.document = Document()
        self.materials = Materials(self.document)
        self.drawn = drawn
        self.notes: list[str] = []
        self._meshes: dict[tuple[str, tuple[int, ...]], int] = {}

    def note(self, message: str) -> None:
        if message not in self.notes:
            self.notes.append(message)

    def write(self, scene: Scene, extras: dict[str, Any]) -> Document:
        doc = self.document
        children = [doc.add("nodes", self._entity(entity)) for entity in scene.entities]
        children.append(doc.add("nodes", camera_node(doc, scene.camera)))
        for number, light in enumerate(scene.lights):
            if light.kind != "ambient":
                children.append(doc.add("nodes", light_node(doc, light, number, self.note)))
        root = pygltflib.Node(name="sim world (Z up)", rotation=ROOT_ROTATION, children=children)
        doc.gltf.scenes = [pygltflib.Scene(name="sim frame", nodes=[doc.add("nodes", root)])]
        doc.gltf.scene = 0
        doc.gltf.scenes[0].extras = {"sim": {**self._world(scene), **extras}}
        if scene.effects:
            self.note("image effects (the sensor's: noise, blur, ...) are not part of a scene")
        if scene.background_image is not None:
            self.note("the background image is not written (glTF has no backdrop)")
        return doc

    def _world(self, scene: Scene) -> dict[str, Any]:
        ambient = np.zeros(3)
        for light in scene.lights:
            if light.kind == "ambient":
                ambient = ambient + light.color * light.intensity
        return {
            "ambient": ambient.tolist(),
            "background_linear": linear(scene.background),
            "film": scene.film.record(),
        }

    def _entity(self, entity: Entity) -> pygltflib.Node:
        return pygltflib.Node(
            name=f"{entity.instance_id} {entity.category or 'distractor'} ({entity.source})",
            mesh=self._mesh(entity),
            matrix=column_major(entity.matrix()),
            extras={
                "instance_id": entity.instance_id,
                "category": entity.category,
                "source": entity.source,
                "mesh": entity.mesh.key,
            },
        )

    def _mesh(self, entity: Entity) -> int:
        drawn = self.drawn(entity.mesh)
        for note in drawn.notes:
            self.note(note)
        mesh = drawn.mesh
        look = self.materials.look(entity, drawn.texture)
        if mesh.groups:
            materials = tuple(
                self.materials.material(g.material) if g.material is not None else look
                for g in mesh.groups
            )
        else:
            materials = (look,)
        key = (mesh.key, materials)
        if key not in self._meshes:
            primitives = self._primitives(mesh, materials)
            item = pygltflib.Mesh(name=mesh.key, primitives=primitives)
            self._meshes[key] = self.document.add("meshes", item)
        return self._meshes[key]

    def _primitives(
        self, mesh: TriangleMesh, materials: tuple[int, ...]
    ) -> list[pygltflib.Primitive]:
        doc = self.document
        attributes = self._attributes(mesh)
        groups = [(g.first, g.count) for g in mesh.groups] or [(0, len(mesh.triangles))]
        primitives = []
        for number, ((first, count), material) in enumerate(zip(groups, materials, strict=True)):
            triangles = mesh.triangles[first : first + count].ravel()
            indices = doc.accessor((mesh.key, number), triangles.astype(np.uint32), True)
            primitives.append(
                pygltflib.Primitive(attributes=attributes, indices=indices, material=material)
            )
        return primitives

    def _attributes(self, mesh: TriangleMesh) -> pygltflib.Attributes:
        doc = self.document
        assert mesh.uvs is not None  # TriangleMesh fills missing uvs with zeros
        lengths = np.linalg.norm(mesh.normals, axis=1, keepdims=True)
        normals = np.where(lengths > 0, mesh.normals / np.maximum(lengths, 1e-30), [0, 0, 1])
        uvs = np.column_stack([mesh.uvs[:, 0], 1.0 - mesh.uvs[:, 1]])
        attributes = pygltflib.Attributes(
            POSITION=doc.accessor((mesh.key, "POSITION"), mesh.vertices),
            NORMAL=doc.accessor((mesh.key, "NORMAL"), normals.astype(np.float32)),
            TEXCOORD_0=doc.accessor((mesh.key, "TEXCOORD_0"), uvs.astype(np.float32)),
        )
        if mesh.colors is not None:
            colors = np.column_stack([np.asarray(linear(mesh.colors[:, :3])), mesh.colors[:, 3]])
            attributes.COLOR_0 = doc.accessor((mesh.key, "COLOR_0"), colors.astype(np.float32))
        return attributes


def scene_document(
    scene: Scene, drawn: Drawn, extras: dict[str, Any] | None = None
) -> tuple[Document, list[str]]:
    """The glTF document of `scene` and what it could not express (one line each);
    `extras` are added to the scene's `extras["sim"]` (the frame, the environment file)."""
    writer = SceneWriter(drawn)
    return writer.write(scene, extras or {}), writer.notes
