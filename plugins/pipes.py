"""Spawner "pipe": procedurally generated tobacco pipes, the object missing from ImageNet.

Each pipe gets its own proportions (bowl height and width, shank and stem length, how far
the stem bends up) and its own briar texture: wood grain on the bowl and shank, black
vulcanite on the stem and mouthpiece. Keypoints: "bowl" (centre of the rim), "heel" (bottom
of the bowl), "mouthpiece" (the tip).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim_plugins.pipe_mesh import STEM_U, PipeShape, pipe
from simulator import (
    Color,
    Entity,
    FrameContext,
    KeypointSchema,
    Params,
    Scalar,
    Spawner,
    Vec3,
    hookimpl,
    textures,
)

SCHEMA = KeypointSchema(("bowl", "heel", "mouthpiece"), (("bowl", "heel"), ("heel", "mouthpiece")))


class PipeParams(Params):
    size: Scalar = Field({"uniform": [0.6, 1.0]}, description="Overall length, metres.")
    position: Vec3 = Field([0.0, 0.0, 0.0], description="Position of the pipe's centre.")
    hpr: Vec3 = Field([0.0, 0.0, 0.0], description="Heading, pitch, roll in degrees.")
    bowl_height: Scalar = Field({"uniform": [0.34, 0.5]}, description="Relative to the pipe.")
    bowl_radius: Scalar = Field({"uniform": [0.13, 0.2]}, description="Relative to the pipe.")
    shank_length: Scalar = Field({"uniform": [0.15, 0.35]}, description="Relative to the pipe.")
    stem_length: Scalar = Field({"uniform": [0.35, 0.6]}, description="Relative to the pipe.")
    bend: Scalar = Field({"uniform": [0.0, 45.0]}, description="Stem rise, degrees.")
    wood_light: Color = Field(
        {"uniform": [[0.55, 0.3, 0.15], [0.8, 0.5, 0.28]]}, description="Light grain of the briar."
    )
    wood_dark: Color = Field(
        {"uniform": [[0.2, 0.08, 0.03], [0.4, 0.2, 0.08]]}, description="Dark grain of the briar."
    )


def briar(
    light: np.ndarray, dark: np.ndarray, rng: np.random.Generator, size: int = 128
) -> textures.TextureImage:
    """Wood grain (noise bent into growth rings), with the stem's black band on the right."""
    noise = textures.noise(np.zeros(3), np.ones(3), rng, scale=3, size=size)[..., 0] / 255.0
    y = np.linspace(0, 1, size)[:, None]
    rings = 0.5 + 0.5 * np.sin(2 * np.pi * (noise * 5 + y * 3))
    rgb = (1 - rings)[..., None] * dark + rings[..., None] * light
    image = np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)
    image[:, int(STEM_U[0] * size) - 4 :] = (12, 12, 14)  # vulcanite
    return textures.TextureImage(image, source="briar")


class Pipe(Spawner[PipeParams]):
    """A procedurally generated tobacco pipe, category "pipe", with keypoints."""

    name = "pipe"

    def keypoints(self) -> dict[str, KeypointSchema]:
        return {"pipe": SCHEMA}

    def spawn(self, ctx: FrameContext) -> Entity:
        p, rng = self.params, ctx.rng
        shape = PipeShape(
            bowl_height=p.bowl_height.sample(rng),
            bowl_radius=p.bowl_radius.sample(rng),
            shank_length=p.shank_length.sample(rng),
            stem_length=p.stem_length.sample(rng),
            bend=p.bend.sample(rng),
            stem_radius=0.04 + 0.01 * rng.random(),
        )
        mesh = pipe(shape)
        entity = Entity(
            mesh,
            category="pipe",
            keypoints=dict(mesh.keypoints),
            color=np.ones(3),
            texture=briar(p.wood_light.sample(rng), p.wood_dark.sample(rng), rng),
        )
        entity.scale[:] = p.size.sample(rng)
        entity.position = p.position.sample(rng)
        entity.hpr = p.hpr.sample(rng)
        entity.roughness = 0.45
        return entity


@hookimpl
def sim_register_spawners(register):
    register(Pipe)
