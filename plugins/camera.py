"""Randomizer "camera_orbit": the camera on a sphere around a target, looking at it."""

from __future__ import annotations

import numpy as np
from pydantic import Field

from simulator import Entity, FrameContext, Params, Randomizer, Scalar, Vec3, hookimpl


class OrbitParams(Params):
    target: Vec3 = Field([0.0, 0.0, 0.5], description="Point the camera looks at, metres.")
    distance: Scalar = Field({"uniform": [4.0, 7.0]}, description="Distance to the target, metres.")
    elevation: Scalar = Field(
        {"uniform": [15.0, 60.0]}, description="Angle above the target's horizon, degrees."
    )
    azimuth: Scalar = Field(
        {"uniform": [0.0, 360.0]},
        description="Angle around the target, degrees counter-clockwise from +X.",
    )
    roll: Scalar = Field(0.0, description="Rotation about the viewing direction, degrees.")


class CameraOrbit(Randomizer):
    """Places the camera at a random distance, elevation and azimuth around a target."""

    name = "camera_orbit"
    Params = OrbitParams

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p, camera = self.params, ctx.scene.camera
        target = p.target.sample(ctx.rng)
        distance = p.distance.sample(ctx.rng)
        if distance <= camera.near:
            raise ValueError(
                f"orbit distance {distance:.3f} is inside the near plane ({camera.near})"
            )
        elevation, azimuth = (
            np.radians(p.elevation.sample(ctx.rng)),
            np.radians(p.azimuth.sample(ctx.rng)),
        )
        offset = distance * np.array(
            [
                np.cos(elevation) * np.cos(azimuth),
                np.cos(elevation) * np.sin(azimuth),
                np.sin(elevation),
            ]
        )
        camera.target, camera.position = target, target + offset
        camera.roll = p.roll.sample(ctx.rng)


@hookimpl
def sim_register_randomizers(register):
    register(CameraOrbit)
