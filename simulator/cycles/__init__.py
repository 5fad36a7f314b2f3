"""Blender Cycles: the path-traced RGB of a frame, behind the same world file, with sim's
exact labels.

The capture's `Renderer` draws every frame with the Panda3D engine (which makes the labels);
when the world says `[render] renderer = "cycles"` (or `sim run --renderer cycles`), the
frame's RGB comes from Cycles instead, rendered from the same `Scene`: the same meshes,
materials, lights, environment and camera intrinsics, so each Cycles pixel sees what sim's
instance mask says it does (tests/test_cycles.py measures it against Cycles' own
object-index pass). Cycles needs Blender's Python module, an optional extra (`bpy`): this
package loads it only when a Cycles renderer is made, so sim runs without it.

Modules: `film` (sim's tone curves in numpy) and `camera` (the intrinsics) need no Blender;
`materials`, `meshes`, `lights`, `scene` (the Blender scene kept between frames), `motion`
(motion blur: the shutter's keys), `devices` and `render` (`CyclesRenderer`) do.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from simulator.errors import RenderError
from simulator.scene.meshes import DrawnMesh
from simulator.scene.scene import Mesh, Scene
from simulator.world.render import RenderSection

INSTALL = (
    'Cycles needs Blender\'s Python module: pip install "sim[cycles]" '
    '(or pip install -e ".[cycles]" from a checkout)'
)
_BLENDER_MODULES = ("bpy", "mathutils")


@dataclass(frozen=True)
class Shutter:
    """The open shutter as Cycles draws it (cycles.motion): the frame's scene where the
    shutter opens and where it closes, `length` frame intervals apart, centred on the frame's
    own scene. Cycles reads every moving object's and the camera's pose at the three and
    gives each path a time of its own in between."""

    opens: Scene
    closes: Scene
    length: float


class PathTracer(Protocol):
    """What the capture asks of a Cycles renderer (cycles.render.CyclesRenderer)."""

    def render(
        self, scene: Scene, gain: np.ndarray, seed: int, shutter: Shutter | None = None
    ) -> np.ndarray: ...

    def render_index(self, scene: Scene) -> np.ndarray: ...

    def close(self) -> None: ...


class Drawn(Protocol):
    def __call__(self, mesh: Mesh) -> DrawnMesh: ...


def open_cycles(
    width: int,
    height: int,
    drawn: Drawn,
    samples: int = 64,
    denoise: bool = False,
    device: str = "auto",
) -> PathTracer:
    """A Cycles renderer for width x height frames (one per process); `drawn` gives a
    mesh as the engine draws it (engine.geometry.GeometryCache.drawn). Without bpy: a
    RenderError saying how to install it."""
    try:
        module = importlib.import_module("simulator.cycles.render")
    except ImportError as error:
        if (error.name or "").split(".")[0] in _BLENDER_MODULES:
            raise RenderError(INSTALL) from None
        raise
    renderer: PathTracer = module.CyclesRenderer(
        width, height, drawn, samples=samples, denoise=denoise, device=device
    )
    return renderer


def cycles_for(render: RenderSection, width: int, height: int, drawn: Drawn) -> PathTracer | None:
    """The Cycles renderer a world's `[render]` section asks for, or None for Panda3D's."""
    if render.renderer != "cycles":
        return None
    return open_cycles(width, height, drawn, render.samples, render.denoise, render.device)


def frame_seed(seed: int, index: int) -> int:
    """Cycles' sampling seed for frame `index` of a world seeded `seed`: the same frame
    renders the same pixels in any process, neighbouring frames decorrelated."""
    return int((seed * 1_000_003 + index * 7_919) % (2**31 - 1))
