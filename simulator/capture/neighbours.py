"""The frames next to the one being labeled, as each camera sees them, for the labels that
follow motion between frames (flow, scene flow).

Frame k's flow needs frames k - 1 and k + 1 drawn by the same camera. Labeling a clip in
order, frame k - 1 was labeled just before (its scene and passes are kept) and frame k + 1
is labeled next: it is drawn ahead, once, and handed back when its turn comes, so every
frame of a clip is drawn once per camera. A rig's other cameras (`camera` names; "" is the
first camera, the frame's own) see the first camera's scene at that frame through their
own pose in the rig, so each neighbour scene is built once for all of them.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.labels.derive import LabelSource
from simulator.labels.records import RenderedPasses
from simulator.scene.scene import Scene

Drawn = tuple[Scene, RenderedPasses, LabelSource]
FIRST = ""  # the first camera's name here: the frame's own


class Neighbours:
    """Frames drawn for their neighbours' flow: those ahead of the frame being labeled
    (kept until it is labeled) and those behind it (kept for its flow)."""

    def __init__(
        self,
        build: Callable[[int], Scene],
        render: Callable[[Scene], tuple[RenderedPasses, LabelSource]],
        view: Callable[[Scene, str], Scene],
    ) -> None:
        """`build` makes a frame's scene, `render` draws a scene, `view` turns the first
        camera's scene into a rig camera's (by its name)."""
        self._build, self._render, self._view = build, render, view
        self._ahead: dict[tuple[int, str], Drawn] = {}
        self._behind: dict[tuple[int, str], tuple[Scene, RenderedPasses]] = {}

    def take(self, index: int) -> dict[str, Drawn]:
        """Frame `index`'s renders drawn ahead, by camera, as its labeling starts; what was
        drawn for any other frame is dropped, but the frame just before (its backward flow)."""
        taken = {camera: drawn for (at, camera), drawn in self._ahead.items() if at == index}
        self._ahead.clear()
        self._behind = {key: kept for key, kept in self._behind.items() if key[0] == index - 1}
        return taken

    def keep(self, index: int, camera: str, scene: Scene, passes: RenderedPasses) -> None:
        """Frame `index` as `camera` labeled it: the next frame's backward flow reads it."""
        self._behind[(index, camera)] = (scene, passes)

    def at(self, index: int, other: int, camera: str) -> tuple[Scene, RenderedPasses]:
        """Frame `other` (next to `index`, the frame being labeled) seen by `camera`: as
        kept, as drawn ahead, or drawn now (and kept ahead, when it follows `index`)."""
        key = (other, camera)
        if key in self._behind:
            return self._behind[key]
        if key in self._ahead:
            return self._ahead[key][:2]
        first = self._behind.get((other, FIRST)) or self._ahead.get((other, FIRST))
        base = first[0] if first else self._build(other)
        scene = self._view(base, camera) if camera != FIRST else base
        passes, source = self._render(scene)
        if other > index:
            self._ahead[key] = (scene, passes, source)
        else:
            self._behind[key] = (scene, passes)
        return scene, passes
