"""Randomizer "surface_material": whole-object materials drawn from the procedural library
(metals, plastics, rubber, paint, woods, planks, tiles, concrete, marble, fabric, rust).

A randomizer of its own rather than a `library` switch on "material": that one draws two
numbers (roughness, metallic) for the entity's own colour, this one replaces the whole look
(`Entity.material`: colour, roughness, metallic, normal and occlusion maps), so a world file
names what it means, `type = "surface_material"`, and neither grows parameters that are
ignored half the time. Targets, supports, backgrounds and distractors can all draw from the
same library, so no material is unique to a labeled class.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from pydantic import Field, field_validator, model_validator

from simulator import Entity, FrameContext, Name, Params, Randomizer, hookimpl, material_library


class SurfaceMaterialParams(Params):
    materials: list[str] = Field(
        default_factory=lambda: sorted(material_library.FAMILIES),
        description="Library materials and/or families (metal, plastic, wood, stone, "
        "fabric) to draw from, each entry equally likely; a family then draws one of its "
        "members. Default: every family, so the whole library.",
    )
    material: Name | None = Field(
        None,
        description="Instead of `materials`: a library material or family by name, a choice "
        "of names (drawn per object), or keyframes of names (step: every object's material "
        "changes over a clip). A family then draws one of its members per object.",
    )
    variants: int = Field(
        8,
        ge=1,
        le=64,
        description="Variants made per material (once per run, the same in every worker); "
        "each object draws one of them.",
    )
    size: int = Field(256, ge=16, le=2048, description="Texture size in texels (square).")
    tile: float = Field(
        1.0,
        ge=0.0,
        description="Metres one texture tile covers: the texture repeats to keep planks, "
        "tiles and weave at that size on objects of any size (a 12 m table shows 12 tiles). "
        "0: one tile stretched over the whole object.",
    )

    @field_validator("materials")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("name at least one material or family")
        for entry in value:
            material_library.resolve(entry)  # an unknown name says which names there are
        return value

    @field_validator("material")
    @classmethod
    def _known_name(cls, value: Any) -> Any:
        for name in (value.outcomes() or ()) if value is not None else ():
            material_library.resolve(name)
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SurfaceMaterialParams:
        if self.material is not None and "materials" in self.model_fields_set:
            raise ValueError(
                "give materials (the entries each object draws from) or material (a name, "
                "a choice or keyframes of names), not both"
            )
        return self


class SurfaceMaterial(Randomizer[SurfaceMaterialParams]):
    """Gives each targeted object a procedural library material (replacing its color,
    texture, roughness and metallic), one of a few variants made once per run."""

    name = "surface_material"

    def __init__(self, params: SurfaceMaterialParams) -> None:
        super().__init__(params)
        self.pool: material_library.MaterialPool | None = None

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        if self.pool is None or self.pool.seed != ctx.seed:
            p = self.params
            self.pool = material_library.MaterialPool(p.materials, ctx.seed, p.variants, p.size)
        for entity in entities:
            if self.params.material is None:
                material = self.pool.draw(ctx.rng)
            else:
                name = str(self.params.material.sample(ctx.rng))
                material = self.pool.draw_from(name, ctx.rng)
            repeats = self._repeats(entity)
            if repeats != 1.0:
                material = replace(material, texture_scale=(repeats, repeats))
            entity.material = material

    def _repeats(self, entity: Entity) -> float:
        """How often the texture repeats across the object's texture coordinates: its larger
        extent over the tile size, in tenths (few distinct materials to upload)."""
        if self.params.tile == 0:
            return 1.0
        low, high = entity.bounds()
        extent = float(np.max((high - low) * np.abs(entity.scale)))
        return max(round(extent / self.params.tile, 1), 0.1)


@hookimpl
def sim_register_randomizers(register):
    register(SurfaceMaterial)
