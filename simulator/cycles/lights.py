"""sim's lights, ambient and environment as Blender lights and a World node tree, in sim's
light units (engine.shaders: a light's intensity is the radiance of a white Lambertian
surface facing it; so its irradiance there is pi x intensity).

- directional: a SUN of strength pi x intensity (W/m^2, its irradiance), as wide as the
  light's `size` (a studio's key box: 10 to 30 degrees; the sun's disc: 0.53), else 0.53.
- point: a POINT of power 4 pi^2 x intensity (Blender's point light of power P has radiant
  intensity P / (4 pi) W/sr, and the engine's point light gives a white surface at distance
  d radiance intensity / d^2, an irradiance of pi x intensity / d^2), of radius 0.
- spot: a SPOT of the same power in a cone of spot_size 2 x angle, with spot_blend 0.25: full
  inside the cone, a smoothstep edge over the outer quarter of the cone's cosine range, as
  the engine draws it.
- ambient: a uniform environment of that radiance, added to the world's.
- the environment: its equirectangular image in an Environment Texture (Blender's layout is
  sim's, scene.environment), turned by a Mapping node, times its intensity.

Lights cast shadows where the scene says they do (`Light.shadows`), as in the engine. The
camera sees the environment only where the scene shows it; otherwise the film is transparent
and the frame is laid over the background (cycles.film.develop). Objects are kept between
frames and hidden when a frame has fewer lights.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

from simulator.scene.environment import Environment
from simulator.scene.scene import Light, Scene

SUN_ANGLE = np.radians(0.53)
SPOT_BLEND = 0.25
_KINDS = {"directional": "SUN", "point": "POINT", "spot": "SPOT"}
ENVIRONMENTS_KEPT = 8  # environment images kept in Blender (a sky per frame makes many)


def light_power(light: Light) -> float:
    """The Blender light's strength (SUN, W/m^2) or power (POINT, SPOT, W) in sim's units."""
    if light.kind == "directional":
        return float(np.pi * light.intensity)
    return float(4 * np.pi**2 * light.intensity)


class Lights:
    """The scene's lights as Blender light objects, reused frame to frame by kind."""

    def __init__(self, collection: Any) -> None:
        self.collection = collection
        self._objects: dict[str, list[Any]] = {kind: [] for kind in _KINDS.values()}

    def set(self, lights: list[Light]) -> None:
        used = {kind: 0 for kind in self._objects}
        for light in lights:
            if light.kind == "ambient":
                continue
            kind = _KINDS[light.kind]
            pool = self._objects[kind]
            if used[kind] == len(pool):
                pool.append(self._new(kind))
            ob = pool[used[kind]]
            used[kind] += 1
            data = ob.data
            data.color = tuple(float(c) for c in light.color)
            data.energy = light_power(light)
            data.use_shadow = bool(light.shadows)
            if kind == "SPOT":
                data.spot_size = float(np.radians(2 * light.angle))
            if kind == "SUN":  # the light's own size (a studio's key box), else the sun's
                data.angle = float(np.radians(light.size)) if light.size > 0 else SUN_ANGLE
            ob.matrix_world = Matrix(light.matrix().tolist())
            ob.hide_render = False
        for kind, pool in self._objects.items():
            for ob in pool[used[kind] :]:
                ob.hide_render = True

    def _new(self, kind: str) -> Any:
        data = bpy.data.lights.new(f"sim-{kind.lower()}", kind)
        if kind == "SUN":
            data.angle = SUN_ANGLE
        else:
            data.shadow_soft_size = 0.0
            data.use_soft_falloff = False
        if kind == "SPOT":
            data.spot_blend = SPOT_BLEND
        ob = bpy.data.objects.new(data.name, data)
        self.collection.objects.link(ob)
        return ob


class World:
    """The world shader: camera rays see the environment (when the scene shows it), every
    other ray the environment plus the ambient light."""

    def __init__(self, scene: Any) -> None:
        world = bpy.data.worlds.new("sim-world")
        scene.world = world
        nodes, links = world.node_tree.nodes, world.node_tree.links
        nodes.clear()
        self._images: OrderedDict[str, Any] = OrderedDict()
        coords = nodes.new("ShaderNodeTexCoord")
        self.mapping = nodes.new("ShaderNodeMapping")
        self.mapping.vector_type = "VECTOR"
        self.texture = nodes.new("ShaderNodeTexEnvironment")
        self.texture.interpolation = "Linear"
        self.scale = nodes.new("ShaderNodeVectorMath")
        self.scale.operation = "SCALE"
        self.ambient = nodes.new("ShaderNodeVectorMath")
        self.ambient.operation = "ADD"
        lit, seen = nodes.new("ShaderNodeBackground"), nodes.new("ShaderNodeBackground")
        path, mix = nodes.new("ShaderNodeLightPath"), nodes.new("ShaderNodeMixShader")
        output = nodes.new("ShaderNodeOutputWorld")
        links.new(coords.outputs["Generated"], self.mapping.inputs["Vector"])
        links.new(self.mapping.outputs["Vector"], self.texture.inputs["Vector"])
        links.new(self.texture.outputs["Color"], self.scale.inputs[0])
        links.new(self.scale.outputs["Vector"], self.ambient.inputs[0])
        links.new(self.ambient.outputs["Vector"], lit.inputs["Color"])
        links.new(self.scale.outputs["Vector"], seen.inputs["Color"])
        links.new(path.outputs["Is Camera Ray"], mix.inputs["Fac"])
        links.new(lit.outputs["Background"], mix.inputs[1])
        links.new(seen.outputs["Background"], mix.inputs[2])
        links.new(mix.outputs["Shader"], output.inputs["Surface"])
        self._state: tuple[object, ...] = ()

    def set(self, scene: Scene) -> None:
        ambient = np.zeros(3)
        for light in scene.lights:
            if light.kind == "ambient":
                ambient = ambient + light.color * light.intensity
        environment = scene.environment
        image = self._image(environment) if environment is not None else None
        intensity = environment.intensity if environment is not None else 0.0
        rotation = environment.rotation if environment is not None else 0.0
        state = (tuple(ambient.tolist()), image, float(intensity), float(rotation))
        if state == self._state:  # each change re-syncs (and re-samples) the world
            return
        self._state = state
        self.ambient.inputs[1].default_value = tuple(float(v) for v in ambient)
        self.scale.inputs["Scale"].default_value = float(intensity)
        # Mapping turns the lookup direction: the environment turns the other way.
        self.mapping.inputs["Rotation"].default_value = (0.0, 0.0, -np.radians(rotation))
        if image is not None:
            self.texture.image = image

    def _image(self, environment: Environment) -> Any:
        image = self._images.get(environment.key)
        if image is not None:
            self._images.move_to_end(environment.key)
        else:
            pixels = environment.image
            height, width = pixels.shape[:2]
            image = bpy.data.images.new(environment.key[:60], width, height, float_buffer=True)
            image.colorspace_settings.name = "Linear Rec.709"
            rgba = np.ones((height, width, 4), np.float32)
            rgba[..., :3] = pixels
            image.pixels.foreach_set(rgba[::-1].ravel())
            self._images[environment.key] = image
            if len(self._images) > ENVIRONMENTS_KEPT:
                _, oldest = self._images.popitem(last=False)
                if self.texture.image is oldest:
                    self.texture.image = None
                bpy.data.images.remove(oldest)
        return image
