"""What a model file says about how its parts look, as sim's `Material` and vertex colours.

trimesh reads the files; this module only translates its visuals. glTF's colour factors and
COLOR_0 are linear (the glTF spec), so they are encoded to sRGB here, as `Material` keeps
them; an OBJ's `Kd` and a PLY's colours are taken as written (sRGB, as viewers show them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh
from trimesh.visual.color import linear_to_srgb
from trimesh.visual.material import PBRMaterial, SimpleMaterial

from simulator.scene.materials import AlphaMode, Material
from simulator.scene.textures import TextureImage


def _image(image: Any, source: str) -> TextureImage | None:
    """A PIL image as a TextureImage (RGB, or RGBA where the image has alpha)."""
    if image is None:
        return None
    mode = "RGBA" if "A" in image.getbands() else "RGB"
    return TextureImage(np.asarray(image.convert(mode)), source=source)


def _srgb(linear: np.ndarray) -> tuple[float, ...]:
    return tuple(float(v) for v in np.clip(linear_to_srgb(np.asarray(linear, float)), 0, 1))


def _pbr(material: PBRMaterial, name: str, source: str) -> Material:
    """A glTF material. Missing values take glTF's defaults (metallic and roughness 1)."""
    factor = material.baseColorFactor
    rgba = np.ones(4) if factor is None else np.asarray(factor, float) / 255.0
    emissive = material.emissiveFactor
    return Material(
        name=material.name or name,
        base_color=(*_srgb(rgba[:3]), float(rgba[3])),  # type: ignore[arg-type]
        base_color_texture=_image(material.baseColorTexture, source),
        metallic=1.0 if material.metallicFactor is None else float(material.metallicFactor),
        roughness=1.0 if material.roughnessFactor is None else float(material.roughnessFactor),
        metallic_roughness_texture=_image(material.metallicRoughnessTexture, source),
        normal_texture=_image(material.normalTexture, source),
        occlusion_texture=_image(material.occlusionTexture, source),
        emissive=(0.0, 0.0, 0.0) if emissive is None else _srgb(emissive),  # type: ignore[arg-type]
        emissive_texture=_image(material.emissiveTexture, source),
        alpha_mode=_alpha_mode(material.alphaMode),
        alpha_cutoff=0.5 if material.alphaCutoff is None else float(material.alphaCutoff),
        double_sided=bool(material.doubleSided),
    )


def _alpha_mode(value: str | None) -> AlphaMode:
    if value == "MASK":
        return "MASK"
    return "BLEND" if value == "BLEND" else "OPAQUE"


def _simple(material: SimpleMaterial, name: str, source: str) -> Material:
    """An OBJ (MTL) or PLY material: `Kd` and `map_Kd`, `d` as alpha, `Ns` as roughness
    (trimesh's conversion, (2 / (Ns + 2)) ** 0.25)."""
    rgba = np.asarray(material.diffuse, float) / 255.0
    dissolve = material.kwargs.get("d")
    alpha = float(dissolve[0]) if dissolve else float(rgba[3])
    glossiness = material.glossiness
    return Material(
        name=material.name or name,
        base_color=(float(rgba[0]), float(rgba[1]), float(rgba[2]), alpha),
        base_color_texture=_image(material.image, source),
        roughness=1.0 if glossiness is None else float((2 / (float(glossiness) + 2)) ** 0.25),
        alpha_mode="BLEND" if alpha < 1.0 else "OPAQUE",
    )


def material(geometry: trimesh.Trimesh, name: str, source: str) -> Material | None:
    """The material a file gives a geometry, None where it gives none (the entity's colour
    then applies). A material without its texture image keeps its colour factor."""
    found = getattr(geometry.visual, "material", None)
    if isinstance(found, PBRMaterial):
        return _pbr(found, name, source)
    if isinstance(found, SimpleMaterial):
        return _simple(found, name, source)
    return None


def vertex_colors(geometry: trimesh.Trimesh, linear: bool) -> np.ndarray | None:
    """Per-vertex RGBA in [0, 1], sRGB, where the file has them (PLY colours, glTF COLOR_0,
    OBJ's `v x y z r g b`; face colours once the caller has unshared the faces' corners)."""
    visual: Any = geometry.visual
    colors = getattr(visual, "vertex_attributes", {}).get("color")
    if colors is None and getattr(visual, "kind", None) in ("vertex", "face"):
        colors = visual.vertex_colors
    if colors is None:
        return None
    rgba = np.asarray(colors, float)
    if rgba.dtype.kind != "f" or rgba.max() > 1.0:
        rgba = rgba / 255.0
    if rgba.shape[1] == 3:
        rgba = np.column_stack([rgba, np.ones(len(rgba))])
    if linear:
        rgba[:, :3] = linear_to_srgb(rgba[:, :3])
    return np.clip(rgba, 0.0, 1.0)
