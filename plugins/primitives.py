"""Spawner "primitive": procedural box, sphere, cylinder, cone, torus and plane meshes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from simulator import (
    Color,
    Entity,
    FrameContext,
    OneOf,
    Params,
    Scalar,
    Spawner,
    Vec3,
    distributions,
    hookimpl,
    meshes,
)

SHAPES = tuple(meshes.PRIMITIVES)
Shape: Any = OneOf(*SHAPES)  # a name typed Any, like Scalar: no call as an annotation


class ObjectParams(Params):
    """Where a spawned object starts and how it looks; randomizers may change it afterwards."""

    size: Scalar = Field(0.5, description="Edge or diameter in metres (the mesh's longest side).")
    position: Vec3 = Field([0.0, 0.0, 0.0], description="Position of the object's centre, metres.")
    hpr: Vec3 = Field([0.0, 0.0, 0.0], description="Heading, pitch, roll in degrees.")
    color: Color = Field([0.8, 0.8, 0.8], description="Base color, sRGB in [0, 1].")


def place(entity: Entity, params: ObjectParams, ctx: FrameContext) -> Entity:
    """Apply the object parameters to a new entity, drawing from the spawner's stream."""
    entity.scale[:] = params.size.sample(ctx.rng)
    entity.position = params.position.sample(ctx.rng)
    entity.hpr = params.hpr.sample(ctx.rng)
    entity.color = params.color.sample(ctx.rng)
    return entity


class PrimitiveParams(ObjectParams):
    shape: Shape = Field("box", description="Which primitive, or a choice of them.")


class Primitive(Spawner[PrimitiveParams]):
    """A procedural primitive. Its category defaults to the shape's name."""

    name = "primitive"

    def categories(self) -> list[str]:
        shape = self.params.shape
        return list(shape.options) if isinstance(shape, distributions.Choice) else [shape.value]

    def spawn(self, ctx: FrameContext) -> Entity:
        shape = self.params.shape.sample(ctx.rng)
        return place(Entity(meshes.PRIMITIVES[shape](), category=shape), self.params, ctx)


@hookimpl
def sim_register_spawners(register):
    register(Primitive)
