"""Randomizers "light" (one directional key light and an ambient fill) and "lights" (several
directional, point or spot lights by colour temperature), with or without shadows."""

from __future__ import annotations

from typing import Annotated, Any

import numpy as np
from pydantic import Field

from simulator import (
    Color,
    Count,
    Entity,
    Flag,
    FrameContext,
    Light,
    OneOf,
    Params,
    Randomizer,
    Scalar,
    hookimpl,
    transforms,
)

Shadows = bool | Annotated[float, Field(ge=0.0, le=1.0)]
SHADOWS_HELP = (
    "Whether directional and spot lights cast shadows: true, false, or the probability that "
    "each one does (drawn per light and frame). Point lights cast none."
)


def casts_shadows(shadows: Shadows, rng: np.random.Generator) -> bool:
    if isinstance(shadows, bool):
        return shadows
    return bool(rng.random() < shadows)


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
    shadows: Shadows = Field(False, description=SHADOWS_HELP)
    on: Flag = Field(
        True,
        description="Whether the key light is on (false: the ambient fill alone), a choice, "
        "or keyframes (step: switched on or off over a clip).",
    )


class KeyLight(Randomizer[LightParams]):
    """Replaces the scene's lights with a directional light and ambient fill."""

    name = "light"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p = self.params
        azimuth, elevation = (
            np.radians(p.azimuth.sample(ctx.rng)),
            np.radians(p.elevation.sample(ctx.rng)),
        )
        towards_light = transforms.direction(azimuth, elevation)
        color = p.color.sample(ctx.rng)
        ctx.scene.lights = [
            Light("ambient", color=color, intensity=p.ambient.sample(ctx.rng)),
            Light(
                "directional",
                color=color,
                intensity=p.intensity.sample(ctx.rng),
                direction=-towards_light,
                shadows=casts_shadows(p.shadows, ctx.rng),
            ),
        ]
        if not p.on.sample(ctx.rng):  # drawn last: switching it changes no other draw
            del ctx.scene.lights[1]


def kelvin_rgb(kelvin: float) -> np.ndarray:
    """Linear RGB of a black body at `kelvin` (1000-40000 K), scaled so the brightest channel
    is 1: Tanner Helland's fit of the CIE 1964 colour matching data."""
    t = min(max(kelvin, 1000.0), 40000.0) / 100.0
    red = 255.0 if t <= 66 else 329.698727446 * (t - 60) ** -0.1332047592
    green = (
        99.4708025861 * np.log(t) - 161.1195681661
        if t <= 66
        else 288.1221695283 * (t - 60) ** -0.0755148492
    )
    blue = (
        255.0 if t >= 66 else (0.0 if t <= 19 else 138.5177312231 * np.log(t - 10) - 305.0447927307)
    )
    rgb = np.clip(np.array([red, green, blue]) / 255.0, 0.0, 1.0) ** 2.2  # sRGB-ish -> linear
    return rgb / rgb.max()


LightKind: Any = OneOf("directional", "point", "spot")  # typed Any: no call as an annotation


class LightsParams(Params):
    count: Count = Field({"range": [1, 3]}, description="How many lights besides the ambient.")
    kind: LightKind = Field({"choice": ["directional", "point"]}, description="Kind of each light.")
    kelvin: Scalar = Field({"uniform": [2700.0, 7500.0]}, description="Colour temperature, K.")
    intensity: Scalar = Field({"uniform": [0.4, 1.0]}, description="Each light's intensity.")
    ambient: Scalar = Field({"uniform": [0.1, 0.35]}, description="Ambient light intensity.")
    elevation: Scalar = Field(
        {"uniform": [15.0, 80.0]}, description="Height above the horizon, degrees."
    )
    distance: Scalar = Field(
        {"uniform": [2.0, 5.0]},
        description="Point and spot lights: distance from the origin, metres.",
    )
    spot_angle: Scalar = Field(
        {"uniform": [15.0, 35.0]}, description="Spot lights: half-angle of the cone, degrees."
    )
    shadows: Shadows = Field(False, description=SHADOWS_HELP)


class Lights(Randomizer[LightsParams]):
    """Replaces the scene's lights with `count` directional, point or spot lights of random
    colour temperature, direction and intensity, plus ambient light. Point and spot lights
    fall off with the square of the distance (intensity is their brightness at the origin);
    spots aim at the origin. Directional and spot lights cast shadows as `shadows` says."""

    name = "lights"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p, rng = self.params, ctx.rng
        count = int(p.count.sample(rng))
        if count > 8:
            raise ValueError(f"at most 8 lights besides the ambient, drew {count}")
        lights = [Light("ambient", color=kelvin_rgb(6500.0), intensity=p.ambient.sample(rng))]
        for _ in range(count):
            kind, color = p.kind.sample(rng), kelvin_rgb(p.kelvin.sample(rng))
            intensity = p.intensity.sample(rng)
            azimuth, elevation = rng.uniform(0, 2 * np.pi), np.radians(p.elevation.sample(rng))
            towards = transforms.direction(azimuth, elevation)
            if kind == "directional":
                lights.append(
                    Light(
                        "directional",
                        color=color,
                        intensity=intensity,
                        direction=-towards,
                        shadows=casts_shadows(p.shadows, rng),
                    )
                )
            else:  # point and spot lights sit `distance` away; spots aim at the origin
                distance = p.distance.sample(rng)
                light = Light(
                    kind,
                    color=color,
                    intensity=intensity * distance**2,
                    position=towards * distance,
                    direction=-towards,
                )
                if kind == "spot":
                    light.angle = p.spot_angle.sample(rng)
                    light.shadows = casts_shadows(p.shadows, rng)
                lights.append(light)
        ctx.scene.lights = lights


@hookimpl
def sim_register_randomizers(register):
    register(KeyLight)
    register(Lights)
