"""Randomizer "wood_tone": gives each targeted object a brownish wood color."""

from __future__ import annotations

import colorsys

import numpy as np
from pydantic import Field
from simulator import Entity, FrameContext, Params, Randomizer, Scalar


class WoodToneParams(Params):
    """Hue, saturation and lightness of the wood, drawn per object."""

    hue: Scalar = Field({"uniform": [18.0, 35.0]}, description="Degrees: 0 red, 30 orange.")
    saturation: Scalar = Field({"uniform": [0.35, 0.65]}, description="0 grey to 1 vivid.")
    lightness: Scalar = Field(
        {"normal": [0.32, 0.08]}, description="0 black to 1 white; draws are clipped to 0.08-0.8."
    )


class WoodTone(Randomizer[WoodToneParams]):
    """Colors the targeted objects like briar, cherry or walnut."""

    name = "wood_tone"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        for entity in entities:
            hue = self.params.hue.sample(ctx.rng) / 360.0 % 1.0
            saturation = float(np.clip(self.params.saturation.sample(ctx.rng), 0.0, 1.0))
            lightness = float(np.clip(self.params.lightness.sample(ctx.rng), 0.08, 0.8))
            entity.color = np.array(colorsys.hls_to_rgb(hue, lightness, saturation))
