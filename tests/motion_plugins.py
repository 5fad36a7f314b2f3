"""A test plugin's source: a randomizer `glide` that moves every entity it targets at one
constant velocity over the clip (no spin), written as a motion (docs/time.md)."""

import numpy as np

_SOURCE = """
import numpy as np
from simulator import Motion, Params, Randomizer, hookimpl


class Glide(Randomizer[Params]):
    name = "glide"

    def randomize(self, ctx, entities):
        t = ctx.clip.times()[:, None]
        velocity = np.array({velocity})
        for entity in entities:
            zeros = np.zeros((len(t), 3))
            positions, hprs = entity.position + velocity * t, entity.hpr + zeros
            entity.motion = Motion(positions, hprs, np.repeat([velocity], len(t), 0), zeros)


@hookimpl
def sim_register_randomizers(register):
    register(Glide)
"""


def glide_plugin(velocity: np.ndarray) -> str:
    """The plugin file's text, gliding at `velocity` (m/s, world axes)."""
    return _SOURCE.format(velocity=np.asarray(velocity, float).tolist())
