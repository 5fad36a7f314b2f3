"""Spawner "lite_pipe": a procedural tobacco pipe with labeled keypoints."""

from __future__ import annotations

import numpy as np
from pydantic import Field
from simulator import Entity, FrameContext, KeypointSchema, Params, Scalar, Spawner

from sim_pipes_lite import mesh

SCHEMA = KeypointSchema(mesh.KEYPOINTS, skeleton=(("bowl", "heel"), ("heel", "mouthpiece")))


class LitePipeParams(Params):
    """A pipe's dimensions. Each is drawn anew for every pipe spawned."""

    stem_length: Scalar = Field(
        {"uniform": [0.10, 0.16]}, description="From the bowl to the mouthpiece, metres."
    )
    bowl_height: Scalar = Field({"uniform": [0.035, 0.05]}, description="Bowl height, metres.")
    bowl_radius: Scalar = Field(0.02, description="Outer radius of the bowl, metres.")
    bend: Scalar = Field(
        {"uniform": [0.0, 30.0]}, description="How far the stem bends up (down if < 0), degrees."
    )
    step: float = Field(
        0.005, ge=0, description="Round lengths to this many metres, so pipes share meshes."
    )
    angle_step: float = Field(5.0, ge=0, description="Round the bend to this many degrees.")


class LitePipe(Spawner[LitePipeParams]):
    """A bowl and a bent stem, standing on its heel at the origin, the stem along +X."""

    name = "lite_pipe"

    def keypoints(self) -> dict[str, KeypointSchema]:
        return {self.name: SCHEMA}

    def spawn(self, ctx: FrameContext) -> Entity:
        p, rng = self.params, ctx.rng  # draw only from ctx.rng: frames stay reproducible
        drawn = [p.stem_length.sample(rng), p.bowl_height.sample(rng), p.bowl_radius.sample(rng)]
        lengths = [snap(value, p.step) for value in drawn]
        if min(lengths) <= 0:
            raise ValueError(f"pipe dimensions must be > 0 m, drew {drawn} (rounded: {lengths})")
        shape = mesh.pipe(*lengths, snap(p.bend.sample(rng), p.angle_step))
        return Entity(shape, color=np.array([0.45, 0.27, 0.15]), keypoints=dict(shape.keypoints))


def snap(value: float, step: float) -> float:
    """`value` rounded to a multiple of `step` (0: not rounded), and to 6 decimals so that
    equal dimensions give equal mesh keys."""
    return round(round(value / step) * step if step else value, 6)
