"""The preview's model of a rendered frame: its labels, and the free view's passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.labels.records import FrameLabels, RenderedPasses
from simulator.scene.scene import CameraState


@dataclass
class Picture:
    """A rendered frame as the app holds it: its labels, the free view's passes, and the
    frame path-traced by Cycles once `p` asked for it (shown as its color pass)."""

    labels: FrameLabels
    categories: list[str]
    skeletons: dict[str, list[list[str]]] = field(default_factory=dict)
    free: RenderedPasses | None = None
    free_camera: CameraState | None = None
    traced: np.ndarray | None = None

    def records(self) -> list[dict[str, Any]]:
        return [o.record() for o in self.labels.objects]
