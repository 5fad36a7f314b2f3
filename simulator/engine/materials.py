"""Materials on the GPU: the render state a mesh's material group is drawn with.

A `MeshGroup` with a `Material` is one Geom of its mesh's GeomNode, carrying the state made
here; its shader inputs sit below the entity's (which the renderer sets on the entity's node)
and so replace them. A group without a material carries no state and takes the entity's
color, texture, roughness and metallic, exactly as a mesh without groups.

A mesh with any material is tagged (geometry.SHADING_TAG): each camera swaps in the material variant
of its shader for it (shaders._MATERIAL, SOLO_MATERIAL_FRAGMENT, SHADOW_MATERIAL_FRAGMENT).
Plain meshes keep the plain shaders, so they render exactly as before and pay nothing for
alpha.

Alpha: OPAQUE ignores it. MASK discards below the cutoff in every pass: a cut-out is a hole in
the geometry, so the labels, the visibility passes and the shadows see through it too. BLEND
is drawn after everything opaque (`BLEND_BIN`, back to front, no depth writes) with its alpha
blended into the color; in the labels it counts where alpha >= 0.5 and is absent elsewhere
(what is behind keeps the label). Double-sided materials are drawn with culling off.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from panda3d.core import (
    CullBinManager,
    LVecBase2f,
    LVecBase3f,
    LVecBase4f,
    NodePath,
    RenderState,
    Texture,
    TransparencyAttrib,
)

from simulator.engine.lru import Lru
from simulator.engine.surfaces import plain_texture
from simulator.scene.materials import Material
from simulator.scene.patterns import linear
from simulator.scene.textures import TextureImage

BLEND_BIN = "sim-blend"  # after "fixed" (40), where the renderer puts every entity
BLEND_LABEL_ALPHA = 0.5  # a BLEND surface is in the labels where its alpha reaches this
FLAT_NORMAL = (128, 128, 255, 255)
# The material inputs a group without a material reads (it keeps the entity's own color,
# texture and surface): nothing cut, nothing emitted, no maps.
DEFAULT_INPUTS = {
    "alpha_mode": LVecBase2f(0, 0),
    "material": LVecBase4f(0.5, 0, 0, 0),
    "emissive": LVecBase3f(0, 0, 0),
    "normal_scale": 0.0,
    "texture_scale": LVecBase2f(1, 1),
}


# Uploads an image: as a colour image (True: decoded from sRGB by the sampler) or as data.
Upload = Callable[[TextureImage, bool], Texture]


def surface(roughness: float, metallic: float) -> tuple[float, float, float]:
    """The shader's `surface`: (roughness, metallic, 0)."""
    return float(roughness), float(metallic), 0.0


def features(material: Material) -> frozenset[str]:
    """What of the material variant's code `material` needs (shaders.material_parts): the
    blocks whose uniforms material_state sets to act."""
    found = set()
    if material.base_color_texture is not None:
        found.add("base")
    if material.alpha_mode == "MASK":
        found.add("cutout")
    mr, occlusion = material.metallic_roughness_texture, material.occlusion_texture
    if mr is not None:
        found.add("mr")
    if occlusion is not None and material.occlusion_strength != 0:
        packed = mr is not None and occlusion.key == mr.key  # one upload, one texture
        found.add("orm" if packed else "occlusion")
    if material.normal_texture is not None and material.normal_scale != 0:
        found.add("normal")
    if any(material.emissive):
        found.add("emissive")
    return frozenset(found)


def variant_tag(found: frozenset[str]) -> str:
    """The value of geometry.VARIANT_TAG for a node drawn with the variant of `found`."""
    return "material:" + ",".join(sorted(found))


def default_maps() -> dict[str, Texture]:
    """What the maps read where a material has none: white (the factor alone, as in glTF),
    and a flat normal."""
    white = plain_texture()
    return {
        "metallic_roughness_map": white,
        "occlusion_map": white,
        "emissive_map": white,
        "normal_map": plain_texture(FLAT_NORMAL),
    }


@functools.cache
def _blend_bin() -> str:
    manager = CullBinManager.get_global_ptr()
    if manager.find_bin(BLEND_BIN) < 0:
        manager.add_bin(BLEND_BIN, CullBinManager.BT_back_to_front, 45)
    return BLEND_BIN


def _alpha_mode(material: Material) -> LVecBase2f:
    """(cutoff, blend): a fragment is cut (MASK) or left out of the labels (BLEND) below the
    cutoff; 0 cuts nothing."""
    if material.alpha_mode == "MASK":
        return LVecBase2f(material.alpha_cutoff, 0)
    if material.alpha_mode == "BLEND":
        return LVecBase2f(BLEND_LABEL_ALPHA, 1)
    return LVecBase2f(0, 0)


def material_state(material: Material, texture: Upload) -> RenderState:
    """The render state of a group drawn with `material`; `texture` uploads an image (as a
    colour image, decoded from sRGB, or as data)."""
    node = NodePath("material")
    *rgb, alpha = material.base_color
    node.set_shader_input("base_color", LVecBase4f(*linear(rgb), alpha))
    node.set_shader_input("surface", LVecBase3f(*surface(material.roughness, material.metallic)))
    mapped = material.metallic_roughness_texture is not None
    occlusion = material.occlusion_strength if material.occlusion_texture is not None else 0.0
    node.set_shader_input(
        "material", LVecBase4f(material.roughness, material.metallic, occlusion, float(mapped))
    )
    node.set_shader_input("emissive", LVecBase3f(*linear(material.emissive)))
    node.set_shader_input("alpha_mode", _alpha_mode(material))
    normal = material.normal_scale if material.normal_texture is not None else 0.0
    node.set_shader_input("normal_scale", float(normal))
    node.set_shader_input("texture_scale", LVecBase2f(*material.texture_scale))
    maps = {  # name: (image, whether it is a colour image)
        "metallic_roughness_map": (material.metallic_roughness_texture, False),
        "occlusion_map": (material.occlusion_texture, False),
        "emissive_map": (material.emissive_texture, True),
        "normal_map": (material.normal_texture, False),
    }
    defaults = default_maps()
    for name, (image, srgb) in maps.items():
        node.set_shader_input(name, texture(image, srgb) if image is not None else defaults[name])
    node.set_shader_input("textured", float(material.base_color_texture is not None))
    if material.base_color_texture is not None:
        # Above the entity's own texture (priority 1): a material's group shows its own.
        node.set_texture(texture(material.base_color_texture, True), 2)
    if material.double_sided:
        node.set_two_sided(True)
    if material.alpha_mode == "BLEND":
        node.set_transparency(TransparencyAttrib.M_alpha)
        node.set_depth_write(False)
        node.set_bin(_blend_bin(), 0)
    return node.get_state()


class MaterialStates:
    """Render states by material key, least recently used dropped first (a Geom keeps its
    own state alive)."""

    def __init__(self, texture: Upload, capacity: int = 512) -> None:
        self._texture = texture
        self._states: Lru[RenderState] = Lru(capacity)

    def get(self, material: Material) -> RenderState:
        return self._states.get(material.key, lambda: material_state(material, self._texture))
