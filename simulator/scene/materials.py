"""Materials as glTF 2.0 defines them (metallic-roughness), renderer-free.

One model for every renderer and every source: materials read from model files, drawn by the
material randomizers, shaded by the Panda3D engine and, later, handed to a path tracer as a
Principled BSDF. Factors multiply their textures, as in glTF: base colour = `base_color` x
the base-colour texture x the mesh's vertex colours.

Colour spaces: `base_color` and `emissive` are sRGB-encoded in [0, 1], as `Entity.color` is
(the engine linearises them); the base-colour and emissive textures are sRGB images; the
metallic-roughness, normal and occlusion textures hold linear data (glTF's channel layout:
roughness in G, metallic in B; occlusion in R; tangent-space normals in RGB).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from simulator.scene.textures import TextureImage

AlphaMode = Literal["OPAQUE", "MASK", "BLEND"]


@dataclass(frozen=True)
class Material:
    """A surface's look. Treat as read-only (shared between meshes and frames)."""

    name: str = ""
    base_color: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)  # sRGB + alpha
    base_color_texture: TextureImage | None = None  # RGB or RGBA (alpha multiplies)
    metallic: float = 0.0
    roughness: float = 1.0  # glTF's default; 0 is a mirror
    metallic_roughness_texture: TextureImage | None = None
    normal_texture: TextureImage | None = None
    normal_scale: float = 1.0
    occlusion_texture: TextureImage | None = None
    occlusion_strength: float = 1.0
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)
    emissive_texture: TextureImage | None = None
    alpha_mode: AlphaMode = "OPAQUE"
    alpha_cutoff: float = 0.5  # MASK: drawn where alpha >= cutoff
    double_sided: bool = False
    # Texture coordinates are multiplied by this before any map is read (glTF's
    # KHR_texture_transform scale): 12 repeats a tileable texture 12 times along u.
    texture_scale: tuple[float, float] = (1.0, 1.0)

    @property
    def key(self) -> str:
        """Names the material for caches: equal keys, equal looks."""
        textures = (
            self.base_color_texture,
            self.metallic_roughness_texture,
            self.normal_texture,
            self.occlusion_texture,
            self.emissive_texture,
        )
        parts = [
            repr((self.base_color, self.metallic, self.roughness, self.normal_scale)),
            repr((self.occlusion_strength, self.emissive, self.alpha_mode, self.alpha_cutoff)),
            repr((self.double_sided, self.texture_scale)),
            *(t.key if t is not None else "-" for t in textures),
        ]
        return "material:" + "|".join(parts)

    def record(self) -> dict[str, Any]:
        """What a frame record keeps of it: the factors and which maps it has."""
        maps = {
            "base_color": self.base_color_texture,
            "metallic_roughness": self.metallic_roughness_texture,
            "normal": self.normal_texture,
            "occlusion": self.occlusion_texture,
            "emissive": self.emissive_texture,
        }
        return {
            "name": self.name,
            "base_color": [round(v, 6) for v in self.base_color],
            "metallic": round(self.metallic, 6),
            "roughness": round(self.roughness, 6),
            "alpha_mode": self.alpha_mode,
            **(
                {"texture_scale": [round(v, 6) for v in self.texture_scale]}
                if self.texture_scale != (1.0, 1.0)
                else {}
            ),
            **(
                {"maps": sorted(k for k, v in maps.items() if v is not None)}
                if any(maps.values())
                else {}
            ),
        }


@dataclass(frozen=True)
class MeshGroup:
    """A run of a mesh's triangles drawn with one material: a glTF primitive, an OBJ group or
    material, a named part of a model. `name` is the part's name (parts can be labeled)."""

    name: str
    first: int  # index of the group's first triangle
    count: int  # number of triangles
    material: Material | None = None  # None: the entity's own color, texture, roughness
