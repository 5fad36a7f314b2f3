"""sim's materials as Blender Principled BSDF node trees, built once per look and kept.

glTF's metallic-roughness model maps onto the Principled BSDF almost input for input (IOR 1.5
gives glTF's 4 % dielectric reflectance). Colours are linearised by the exact sRGB curve,
as the engine does (`scene.patterns.to_linear`): colour factors here, colour images by
Blender's "sRGB" colour space, vertex colours before they are stored (`meshes`); metallic-
roughness and normal maps are "Non-Color" data. Base colour = factor
x texture x vertex colours, as in glTF; `texture_scale` multiplies the uvs (a Mapping node).
Single-sided surfaces are transparent from behind (the engine culls their back faces).
Occlusion maps have no Cycles input: Cycles computes the occlusion itself (warned, once).

An entity's own look (color, roughness, metallic, texture) changes every frame: it is one
material per object slot, whose values are set each frame (`EntityLook`), not a new tree.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import bpy
import numpy as np

from simulator.cycles.notices import unsupported
from simulator.scene.materials import Material
from simulator.scene.patterns import linear
from simulator.scene.textures import TextureImage

UV_MAP = "UVMap"
COLORS = "Col"  # the vertex-colour attribute


class Images:
    """Blender images of sim's textures by key, least recently used dropped first when a
    capacity is given (an entity's texture changes per frame; a material's stays with it)."""

    def __init__(self, capacity: int | None = None) -> None:
        self.capacity = capacity
        self._images: OrderedDict[str, Any] = OrderedDict()

    def get(self, texture: TextureImage, srgb: bool = False) -> Any:
        """The image of `texture`: a colour image (`srgb`, decoded by Blender) or data."""
        key = texture.key + (" (sRGB)" if srgb else "")
        image = self._images.get(key)
        if image is None:
            image = self._images[key] = _image(texture, srgb)
            if self.capacity is not None and len(self._images) > self.capacity:
                bpy.data.images.remove(self._images.popitem(last=False)[1])
        else:
            self._images.move_to_end(key)
        return image


def _image(texture: TextureImage, srgb: bool) -> Any:
    """An 8-bit Blender image of the texture's bytes: a colour image in the sRGB colour space
    (decoded by its exact curve, as the engine's sampler does), or data."""
    pixels = texture.image
    height, width, channels = pixels.shape
    rgba = np.full((height, width, 4), 255, np.uint8)
    rgba[..., :channels] = pixels
    image = bpy.data.images.new(texture.key[:60], width, height, alpha=channels == 4)
    image.colorspace_settings.name = "sRGB" if srgb else "Non-Color"
    image.alpha_mode = "STRAIGHT"
    # Blender's rows start at the bottom, as Panda3D's do: the same uv reads the same texel.
    image.pixels.foreach_set((rgba[::-1].astype(np.float32) / 255).ravel())
    return image


class Tree:
    """A material's node tree being built: nodes by type, links by sockets."""

    def __init__(self, material: Any) -> None:
        self.nodes, self.links = material.node_tree.nodes, material.node_tree.links
        self.nodes.clear()
        self.output = self.add("ShaderNodeOutputMaterial")
        self.bsdf = self.add("ShaderNodeBsdfPrincipled")
        self.bsdf.inputs["IOR"].default_value = 1.5
        self._uv: Any = None

    def add(self, kind: str, **values: Any) -> Any:
        node = self.nodes.new(kind)
        for name, value in values.items():
            setattr(node, name, value)
        return node

    def link(self, output: Any, to: Any) -> None:
        self.links.new(output, to)

    def uv(self, scale: tuple[float, float]) -> Any:
        """The uvs times `scale`, shared by every map of the material."""
        if self._uv is None:
            coords = self.add("ShaderNodeUVMap", uv_map=UV_MAP)
            mapping = self.add("ShaderNodeMapping", vector_type="POINT")
            mapping.inputs["Scale"].default_value = (scale[0], scale[1], 1.0)
            self.link(coords.outputs["UV"], mapping.inputs["Vector"])
            self._uv = mapping.outputs["Vector"]
        return self._uv

    def image(self, image: Any, scale: tuple[float, float]) -> Any:
        node = self.add("ShaderNodeTexImage", interpolation="Linear", extension="REPEAT")
        node.image = image
        self.link(self.uv(scale), node.inputs["Vector"])
        return node

    def multiply(self, a: Any, b: Any) -> Any:
        node = self.add("ShaderNodeVectorMath", operation="MULTIPLY")
        self.link(a, node.inputs[0])
        self.link(b, node.inputs[1])
        return node.outputs["Vector"]

    def times(self, a: Any, b: Any | float, operation: str = "MULTIPLY") -> Any:
        node = self.add("ShaderNodeMath", operation=operation)
        self.link(a, node.inputs[0])
        if isinstance(b, float):
            node.inputs[1].default_value = b
        else:
            self.link(b, node.inputs[1])
        return node.outputs["Value"]

    def finish(self, double_sided: bool) -> None:
        """The BSDF to the output; a single-sided surface lets rays through from behind."""
        shader = self.bsdf.outputs["BSDF"]
        if not double_sided:
            geometry = self.add("ShaderNodeNewGeometry")
            clear = self.add("ShaderNodeBsdfTransparent")
            mix = self.add("ShaderNodeMixShader")
            self.link(geometry.outputs["Backfacing"], mix.inputs["Fac"])
            self.link(shader, mix.inputs[1])
            self.link(clear.outputs["BSDF"], mix.inputs[2])
            shader = mix.outputs["Shader"]
        self.link(shader, self.output.inputs["Surface"])


def build_material(material: Material, images: Images, colored: bool) -> Any:
    """A Blender material for `material`; `colored`: the mesh has vertex colours."""
    blender = bpy.data.materials.new(material.name or "sim-material")
    tree = Tree(blender)
    bsdf, scale = tree.bsdf, material.texture_scale
    *rgb, alpha = material.base_color
    base: Any = None
    alpha_out: Any = None
    if material.base_color_texture is not None:
        texel = tree.image(images.get(material.base_color_texture, True), scale)
        factor = tree.add("ShaderNodeRGB")
        factor.outputs[0].default_value = (*linear(rgb), 1.0)
        base = tree.multiply(texel.outputs["Color"], factor.outputs[0])
        alpha_out = tree.times(texel.outputs["Alpha"], float(alpha))
    if colored:
        vertex = tree.add("ShaderNodeVertexColor", layer_name=COLORS)
        if base is None:
            factor = tree.add("ShaderNodeRGB")
            factor.outputs[0].default_value = (*linear(rgb), 1.0)
            base = factor.outputs[0]
        base = tree.multiply(vertex.outputs["Color"], base)
        alpha_out = (
            tree.times(vertex.outputs["Alpha"], alpha_out)
            if alpha_out is not None
            else tree.times(vertex.outputs["Alpha"], float(alpha))
        )
    if base is not None:
        tree.link(base, bsdf.inputs["Base Color"])
    else:
        bsdf.inputs["Base Color"].default_value = (*linear(rgb), 1.0)
    bsdf.inputs["Metallic"].default_value = material.metallic
    bsdf.inputs["Roughness"].default_value = material.roughness
    if material.metallic_roughness_texture is not None:
        texel = tree.image(images.get(material.metallic_roughness_texture), scale)
        split = tree.add("ShaderNodeSeparateColor")
        tree.link(texel.outputs["Color"], split.inputs["Color"])
        tree.link(tree.times(split.outputs["Green"], material.roughness), bsdf.inputs["Roughness"])
        tree.link(tree.times(split.outputs["Blue"], material.metallic), bsdf.inputs["Metallic"])
    if material.normal_texture is not None:
        texel = tree.image(images.get(material.normal_texture), scale)
        bend = tree.add("ShaderNodeNormalMap", space="TANGENT", uv_map=UV_MAP)
        bend.inputs["Strength"].default_value = material.normal_scale
        tree.link(texel.outputs["Color"], bend.inputs["Color"])
        tree.link(bend.outputs["Normal"], bsdf.inputs["Normal"])
    if material.occlusion_texture is not None:
        unsupported("occlusion maps (Cycles traces the occlusion itself; the map is ignored)")
    _emission(tree, material, images)
    _alpha(tree, material, alpha_out, float(alpha))
    tree.finish(material.double_sided)
    return blender


def _emission(tree: Tree, material: Material, images: Images) -> None:
    if not any(material.emissive):
        return
    bsdf = tree.bsdf
    bsdf.inputs["Emission Strength"].default_value = 1.0  # radiance = the colour
    color = (*linear(material.emissive), 1.0)
    if material.emissive_texture is None:
        bsdf.inputs["Emission Color"].default_value = color
        return
    texel = tree.image(images.get(material.emissive_texture, True), material.texture_scale)
    factor = tree.add("ShaderNodeRGB")
    factor.outputs[0].default_value = color
    emitted = tree.multiply(texel.outputs["Color"], factor.outputs[0])
    tree.link(emitted, bsdf.inputs["Emission Color"])


def _alpha(tree: Tree, material: Material, alpha: Any, factor: float) -> None:
    """OPAQUE ignores alpha; MASK keeps alpha >= cutoff whole, cuts the rest; BLEND blends."""
    if material.alpha_mode == "OPAQUE":
        return
    if alpha is None:
        value = factor if material.alpha_mode == "BLEND" else float(factor >= material.alpha_cutoff)
        tree.bsdf.inputs["Alpha"].default_value = value
        return
    if material.alpha_mode == "MASK":
        below = tree.times(alpha, float(material.alpha_cutoff), "LESS_THAN")
        kept = tree.add("ShaderNodeMath", operation="SUBTRACT")
        kept.inputs[0].default_value = 1.0
        tree.link(below, kept.inputs[1])
        alpha = kept.outputs["Value"]
    tree.link(alpha, tree.bsdf.inputs["Alpha"])


class EntityLook:
    """The material of an object slot that takes its entity's own look, set per frame."""

    def __init__(self, name: str, colored: bool, white: Any) -> None:
        self.material = bpy.data.materials.new(name)
        tree = Tree(self.material)
        self.bsdf = tree.bsdf
        self.texel = tree.image(white, (1.0, 1.0))
        self.factor = tree.add("ShaderNodeRGB")
        base = tree.multiply(self.texel.outputs["Color"], self.factor.outputs[0])
        if colored:
            vertex = tree.add("ShaderNodeVertexColor", layer_name=COLORS)
            base = tree.multiply(vertex.outputs["Color"], base)
        tree.link(base, self.bsdf.inputs["Base Color"])
        tree.finish(double_sided=False)
        self.white = white
        self._state: tuple[object, ...] = ()

    def set(
        self,
        color: Any,
        roughness: float,
        metallic: float,
        texture: TextureImage | None,
        images: Images,
    ) -> None:
        """This frame's look (only changed values are written: each write re-syncs Cycles)."""
        key = texture.key if texture is not None else ""
        state = (tuple(linear(color)), float(roughness), float(metallic), key)
        if state == self._state:
            return
        self._state = state
        self.factor.outputs[0].default_value = (*state[0], 1.0)
        self.bsdf.inputs["Roughness"].default_value = state[1]
        self.bsdf.inputs["Metallic"].default_value = state[2]
        self.texel.image = images.get(texture, True) if texture is not None else self.white
