"""A sim `Scene` as Blender datablocks, kept between frames: a frame changes only what it
changes.

Meshes are built once per mesh key (`meshes.build_mesh`), materials once per material key
(per vertex-coloured or not). Objects are pooled per mesh key: frame i takes as many of that
mesh's objects as it has entities with it (making more when it needs them) and hides the
rest, so a run of frames with the same spawners creates no datablock after its first. Each
object's pass_index is its entity's instance id (Cycles' object-index pass then draws sim's
instance mask); its transform is the entity's `matrix()`. With the shutter open, the moving
objects and the camera are keyed at its opening, centre and closing (cycles.motion).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

from simulator.cycles import Shutter
from simulator.cycles.camera import camera_lens, camera_matrix
from simulator.cycles.lights import Lights, World
from simulator.cycles.materials import EntityLook, Images, build_material
from simulator.cycles.meshes import BlenderMesh, Drawn, build_mesh
from simulator.cycles.motion import ShutterKeys
from simulator.scene.materials import Material
from simulator.scene.scene import Entity, Scene
from simulator.scene.textures import TextureImage

_WHITE = TextureImage(np.full((1, 1, 3), 255, np.uint8), key="cycles:white")


class SceneSync:
    """Keeps one Blender scene in step with the sim scenes it is given."""

    def __init__(self, scene: Any, drawn: Drawn) -> None:
        self.scene, self.drawn = scene, drawn
        self.collection = scene.collection
        self.images = Images()  # materials' maps, kept with their materials
        self.textures = Images(capacity=128)  # entities' own textures, which change per frame
        self._white = self.images.get(_WHITE)
        self._meshes: dict[str, BlenderMesh] = {}
        self._materials: dict[tuple[str, bool], Any] = {}
        self._objects: dict[str, list[tuple[Any, list[EntityLook | None]]]] = defaultdict(list)
        self.lights = Lights(self.collection)
        self.world = World(scene)
        camera = bpy.data.cameras.new("sim-camera")
        camera.sensor_fit = "HORIZONTAL"
        self.camera = bpy.data.objects.new("sim-camera", camera)
        self.camera.rotation_mode = "QUATERNION"
        self.collection.objects.link(self.camera)
        scene.camera = self.camera
        self.keys = ShutterKeys(scene)

    def set(self, scene: Scene, shutter: Shutter | None = None) -> None:
        """Make the Blender scene `scene`'s; with `shutter`, open over its length, every
        moving object and the camera keyed at its opening, centre (`scene`) and closing."""
        self.keys.clear()
        self._set_camera(scene)
        self.lights.set(scene.lights)
        self.world.set(scene)
        used: dict[str, int] = defaultdict(int)
        placed = []
        for entity in scene.entities:
            key = entity.mesh.key
            pool = self._objects[key]
            if used[key] == len(pool):
                pool.append(self._new_object(entity))
            ob, looks = pool[used[key]]
            used[key] += 1
            self._place(ob, looks, entity)
            placed.append(ob)
        for key, pool in self._objects.items():
            for ob, _ in pool[used[key] :]:
                if not ob.hide_render:
                    ob.hide_render = True
        self.keys.open(None if shutter is None else shutter.length)
        if shutter is not None:
            self._key(scene, shutter, placed)

    def _key(self, scene: Scene, shutter: Shutter, placed: list[Any]) -> None:
        """Key the camera and the objects `placed` for `scene`'s entities over `shutter`."""
        opens, closes = shutter.opens, shutter.closes
        if not len(opens.entities) == len(scene.entities) == len(closes.entities):
            raise ValueError("the shutter's scenes have other entities than the frame's")
        cameras = (camera_matrix(opens.camera), camera_matrix(scene.camera))
        self.keys.key(self.camera, (*cameras, camera_matrix(closes.camera)), shutter.length)
        for ob, *at in zip(placed, opens.entities, scene.entities, closes.entities, strict=True):
            self.keys.key(ob, (at[0].matrix(), at[1].matrix(), at[2].matrix()), shutter.length)

    def _set_camera(self, scene: Scene) -> None:
        lens, camera = camera_lens(scene.camera), self.camera.data
        values = {
            "lens": lens.lens,
            "sensor_width": lens.sensor_width,
            "shift_x": lens.shift_x,
            "shift_y": lens.shift_y,
            "clip_start": lens.clip_start,
            "clip_end": lens.clip_end,
        }
        for name, value in values.items():
            if getattr(camera, name) != value:
                setattr(camera, name, value)
        self.camera.matrix_world = Matrix(camera_matrix(scene.camera).tolist())

    def _mesh(self, entity: Entity) -> BlenderMesh:
        key = entity.mesh.key
        if key not in self._meshes:
            self._meshes[key] = build_mesh(self.drawn(entity.mesh))
        return self._meshes[key]

    def _material(self, material: Material, colored: bool) -> Any:
        key = (material.key, colored)
        if key not in self._materials:
            self._materials[key] = build_material(material, self.images, colored)
        return self._materials[key]

    def _new_object(self, entity: Entity) -> tuple[Any, list[EntityLook | None]]:
        """An object of the entity's mesh: the groups' own materials on the mesh, and an
        object-linked slot (the entity's look) for every slot without."""
        mesh = self._mesh(entity)
        ob = bpy.data.objects.new(f"sim-{entity.mesh.key[:50]}", mesh.data)
        ob.rotation_mode = "QUATERNION"  # the keys of a blurred frame (cycles.motion)
        ob.cycles.use_deform_motion = False  # rigid: only its transform moves
        self.collection.objects.link(ob)
        looks: list[EntityLook | None] = []
        for index, material in enumerate(mesh.slots):
            slot = ob.material_slots[index]
            if material is not None:
                slot.link = "DATA"
                mesh.data.materials[index] = self._material(material, mesh.colored)
                looks.append(None)
            else:
                slot.link = "OBJECT"
                look = EntityLook(f"{ob.name}-look", mesh.colored, self._white)
                slot.material = look.material
                looks.append(look)
        return ob, looks

    def _place(self, ob: Any, looks: list[EntityLook | None], entity: Entity) -> None:
        ob.matrix_world = Matrix(entity.matrix().tolist())
        if ob.pass_index != entity.instance_id:
            ob.pass_index = entity.instance_id
        if ob.hide_render:
            ob.hide_render = False
        mesh = self._meshes[entity.mesh.key]
        whole = entity.material
        for index, look in enumerate(looks):
            if look is None:
                continue
            slot = ob.material_slots[index]
            if whole is not None:  # a whole-object material replaces the entity's look
                material = self._material(whole, mesh.colored)
                if slot.material is not material:
                    slot.material = material
                continue
            if slot.material is not look.material:
                slot.material = look.material
            texture = entity.texture if entity.texture is not None else mesh.texture
            if texture is not None:  # in use: the last to be dropped
                self.textures.get(texture, True)
            look.set(entity.color, entity.roughness, entity.metallic, texture, self.textures)
