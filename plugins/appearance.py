"""Randomizers "color" (objects' base color) and "background" (the clear color)."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simulator import Color, Entity, FrameContext, Params, Randomizer, Scalar, hookimpl


class ColorParams(Params):
    color: Color = Field(
        {"uniform": [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]},
        description="Base color of each targeted object, sRGB in [0, 1].",
    )


class BaseColor(Randomizer[ColorParams]):
    """Gives each targeted object a base color."""

    name = "color"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        for entity in entities:
            entity.color = self.params.color.sample(ctx.rng)


class MaterialParams(Params):
    roughness: Scalar = Field(
        {"uniform": [0.2, 0.9]}, description="0: mirror-like highlights, 1: matte."
    )
    metallic: Scalar = Field(
        {"choice": [0.0, 1.0], "weights": [3, 1]},
        description="0: dielectric (plastic, wood), 1: metal.",
    )


class Material(Randomizer[MaterialParams]):
    """Gives each targeted object a roughness and a metallic value (physically based
    shading: metals tint their highlights with their color and have no diffuse part)."""

    name = "material"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        for entity in entities:
            entity.roughness = float(np.clip(self.params.roughness.sample(ctx.rng), 0.0, 1.0))
            entity.metallic = float(np.clip(self.params.metallic.sample(ctx.rng), 0.0, 1.0))


class BackgroundParams(Params):
    color: Color = Field(
        {"uniform": [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]},
        description="Background color, sRGB in [0, 1].",
    )


class Background(Randomizer[BackgroundParams]):
    """Sets the background (clear) color. Acts on the scene, not on objects."""

    name = "background"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        ctx.scene.background = self.params.color.sample(ctx.rng)


@hookimpl
def sim_register_randomizers(register):
    register(BaseColor)
    register(Material)
    register(Background)
