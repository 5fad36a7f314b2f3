"""The engine as the label source of one scene it drew.

The solo and parts passes (visibility, amodal masks, parts: labels.derive) are drawn from
the scene the engine has staged, the last one it drew. In a clip a frame is not always the
last one drawn when it is labeled: its next frame is drawn ahead for its flow, by every camera
of a rig in turn, and a blurred frame's sub-frames are drawn before the next camera's labels.
So a frame's source stages its own scene again, where the engine has drawn another since.
"""

from __future__ import annotations

import numpy as np

from simulator.engine.renderer import Engine
from simulator.scene.scene import Mesh, Scene


class SceneSource:
    """`engine`'s label passes of `scene`, a scene it drew (labels.derive.LabelSource)."""

    def __init__(self, engine: Engine, scene: Scene) -> None:
        self._engine, self._scene = engine, scene

    def arrays(self, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
        return self._engine.arrays(mesh)

    def render_alone(self, groups: list[list[int]]) -> list[np.ndarray]:
        self._engine.restage(self._scene)
        return self._engine.render_alone(groups)

    def solo_runs(
        self, groups: list[list[int]], boxes: dict[int, list[float]]
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        self._engine.restage(self._scene)
        return self._engine.solo_runs(groups, boxes)

    def render_parts(self) -> np.ndarray:
        self._engine.restage(self._scene)
        return self._engine.render_parts()
