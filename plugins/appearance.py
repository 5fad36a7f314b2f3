"""Randomizers "color" (objects' base color) and "background" (the clear color)."""

from __future__ import annotations

from pydantic import Field

from simulator import Color, Entity, FrameContext, Params, Randomizer, hookimpl


class ColorParams(Params):
    color: Color = Field(
        {"uniform": [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]},
        description="Base color of each targeted object, sRGB in [0, 1].",
    )


class BaseColor(Randomizer):
    """Gives each targeted object a base color."""

    name = "color"
    Params = ColorParams

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        for entity in entities:
            entity.color = self.params.color.sample(ctx.rng)


class BackgroundParams(Params):
    color: Color = Field(
        {"uniform": [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]},
        description="Background color, sRGB in [0, 1].",
    )


class Background(Randomizer):
    """Sets the background (clear) color. Acts on the scene, not on objects."""

    name = "background"
    Params = BackgroundParams

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        ctx.scene.background = self.params.color.sample(ctx.rng)


@hookimpl
def sim_register_randomizers(register):
    register(BaseColor)
    register(Background)
