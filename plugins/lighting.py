"""Randomizer "light": one directional key light and an ambient fill."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simulator import Color, Entity, FrameContext, Light, Params, Randomizer, Scalar, hookimpl


class LightParams(Params):
    azimuth: Scalar = Field(
        {"uniform": [0.0, 360.0]},
        description="Direction the light comes from, degrees counter-clockwise from +X.",
    )
    elevation: Scalar = Field(
        {"uniform": [20.0, 80.0]}, description="Height of the light above the horizon, degrees."
    )
    color: Color = Field([1.0, 1.0, 1.0], description="Light color, linear RGB.")
    intensity: Scalar = Field({"uniform": [0.6, 1.4]}, description="Key light intensity.")
    ambient: Scalar = Field({"uniform": [0.15, 0.45]}, description="Ambient light intensity.")


class KeyLight(Randomizer):
    """Replaces the scene's lights with a directional light and ambient fill."""

    name = "light"
    Params = LightParams

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p = self.params
        azimuth, elevation = (
            np.radians(p.azimuth.sample(ctx.rng)),
            np.radians(p.elevation.sample(ctx.rng)),
        )
        towards_light = np.array(
            [
                np.cos(elevation) * np.cos(azimuth),
                np.cos(elevation) * np.sin(azimuth),
                np.sin(elevation),
            ]
        )
        color = p.color.sample(ctx.rng)
        ctx.scene.lights = [
            Light("ambient", color=color, intensity=p.ambient.sample(ctx.rng)),
            Light(
                "directional",
                color=color,
                intensity=p.intensity.sample(ctx.rng),
                direction=-towards_light,
            ),
        ]


@hookimpl
def sim_register_randomizers(register):
    register(KeyLight)
