"""sim's looks as glTF 2.0 metallic-roughness materials: the model sim's `Material` is made
on, so the mapping is field for field.

Colours: sim's colour factors are sRGB-encoded and the engine (and sim's Cycles backend)
decodes them by the exact sRGB curve; glTF's factors are linear, so each is written decoded
by that same curve: a viewer then lights the albedo sim lit. Alpha is not encoded and stays as it
is. Images go in as they are (glTF reads base-colour and emissive images as sRGB, the
metallic-roughness, normal and occlusion images as linear data: sim's own convention).

Texture coordinates: sim's (Panda3D's, Blender's) v grows up from the image's bottom row,
glTF's down from its top row, so meshes are written with v' = 1 - v (`gltf`), and a
`texture_scale` (s_u, s_v) becomes KHR_texture_transform's scale (s_u, s_v) with offset
(0, 1 - s_v): the texel sim reads at (s_u u, s_v v) is the one glTF then reads.

An entity without a material of its own takes its look (colour, texture, roughness,
metallic) as one material per distinct look; single-sided, as the engine culls back faces.
"""

from __future__ import annotations

from typing import Any

import pygltflib

from simulator.export.document import Document
from simulator.scene.materials import Material
from simulator.scene.patterns import linear
from simulator.scene.scene import Entity
from simulator.scene.textures import TextureImage

TEXTURE_TRANSFORM = "KHR_texture_transform"


class Materials:
    """The document's materials, each written once per look."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self._index: dict[str, int] = {}

    def material(self, material: Material) -> int:
        """The glTF material of one of sim's `Material`s."""
        if material.key not in self._index:
            self._index[material.key] = self.document.add("materials", self._convert(material))
        return self._index[material.key]

    def look(self, entity: Entity, model_texture: TextureImage | None = None) -> int:
        """What an entity's mesh parts without a material of their own show: the entity's
        whole-object material when it has one, else its own look: its colour times its
        texture, or the model file's own texture where it has none (as the engine draws)."""
        look = entity.material or Material(
            name=f"look of {entity.category or entity.source or 'entity'}",
            base_color=(*(float(c) for c in entity.color[:3]), 1.0),  # type: ignore[arg-type]
            base_color_texture=entity.texture or model_texture,
            metallic=float(entity.metallic),
            roughness=float(entity.roughness),
        )
        return self.material(look)

    def _texture(
        self, texture: TextureImage | None, scale: tuple[float, float], info: type[Any]
    ) -> Any:
        if texture is None:
            return None
        out = info(index=self.document.texture(texture))
        if tuple(scale) != (1.0, 1.0):
            self.document.use(TEXTURE_TRANSFORM)
            su, sv = (float(s) for s in scale)
            out.extensions = {TEXTURE_TRANSFORM: {"offset": [0.0, 1.0 - sv], "scale": [su, sv]}}
        return out

    def _convert(self, material: Material) -> pygltflib.Material:
        scale = material.texture_scale
        *rgb, alpha = material.base_color
        pbr = pygltflib.PbrMetallicRoughness(
            baseColorFactor=[*linear(rgb), float(alpha)],
            metallicFactor=float(material.metallic),
            roughnessFactor=float(material.roughness),
            baseColorTexture=self._texture(
                material.base_color_texture, scale, pygltflib.TextureInfo
            ),
            metallicRoughnessTexture=self._texture(
                material.metallic_roughness_texture, scale, pygltflib.TextureInfo
            ),
        )
        normal = self._texture(material.normal_texture, scale, pygltflib.NormalMaterialTexture)
        if normal is not None:
            normal.scale = float(material.normal_scale)
        occlusion = self._texture(material.occlusion_texture, scale, pygltflib.OcclusionTextureInfo)
        if occlusion is not None:
            occlusion.strength = float(material.occlusion_strength)
        return pygltflib.Material(
            name=material.name or None,
            pbrMetallicRoughness=pbr,
            normalTexture=normal,
            occlusionTexture=occlusion,
            emissiveFactor=linear(material.emissive),
            emissiveTexture=self._texture(material.emissive_texture, scale, pygltflib.TextureInfo),
            alphaMode=material.alpha_mode,
            alphaCutoff=float(material.alpha_cutoff) if material.alpha_mode == "MASK" else None,
            doubleSided=bool(material.double_sided),
        )
