"""Randomizers "position", "rotation" and "scale": where the targeted objects go."""

from __future__ import annotations

from pydantic import Field

from simulator import Entity, FrameContext, Params, Randomizer, Scalar, Vec3, hookimpl, transforms


class PositionParams(Params):
    position: Vec3 = Field(
        {"uniform": [[-1.5, -1.5, 0.0], [1.5, 1.5, 1.0]]},
        description="Where each object's centre goes: a distribution over a region, metres.",
    )


class Position(Randomizer[PositionParams]):
    """Moves each targeted object to a position drawn from a region."""

    name = "position"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        for entity in entities:
            entity.position = self.params.position.sample(ctx.rng)


class RotationParams(Params):
    hpr: Vec3 = Field(
        {"uniform": [[0.0, 0.0, 0.0], [360.0, 0.0, 0.0]]},
        description="Heading, pitch, roll in degrees.",
    )
    uniform_3d: bool = Field(
        False, description="Ignore hpr; draw orientations uniformly from SO(3)."
    )


class Rotation(Randomizer[RotationParams]):
    """Turns each targeted object: by heading/pitch/roll, or uniformly over all orientations."""

    name = "rotation"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        for entity in entities:
            if self.params.uniform_3d:
                entity.hpr = transforms.matrix_hpr(transforms.random_rotation(ctx.rng))
            else:
                entity.hpr = self.params.hpr.sample(ctx.rng)


class ScaleParams(Params):
    factor: Scalar = Field({"uniform": [0.75, 1.25]}, description="Multiplies each object's size.")


class Scale(Randomizer[ScaleParams]):
    """Scales each targeted object uniformly by a random factor."""

    name = "scale"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        for entity in entities:
            factor = self.params.factor.sample(ctx.rng)
            if factor <= 0:
                raise ValueError(f"scale factor must be > 0, drew {factor}")
            entity.scale = entity.scale * factor


@hookimpl
def sim_register_randomizers(register):
    for randomizer in (Position, Rotation, Scale):
        register(randomizer)
