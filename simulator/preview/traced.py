"""Cycles worlds in the preview: drawn by the rasterizer, path-traced on demand (`p`).

The preview is for tuning at interactive speed, and Cycles takes seconds a frame: a world
with `[render] renderer = "cycles"` is shown with the rasterizer (the labels are the same
either way, docs/rendering.md), and `p` path-traces the shown frame, exactly as `sim run`
renders it, in a process of its own.

Why a process: Blender's module must render on the main thread of its process. Rendered
from another thread (the preview's main thread runs the window, its render thread the EGL
engine), it works, but the interpreter then dies in Blender's exit handler (a segmentation
fault in `WM_exit_ex`, after the window has closed). The child renders on its own main
thread, keeps its `Renderer` between requests (Blender starts once) and is ended with the
window, even in the middle of a frame.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import sys
import traceback
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

import numpy as np

from simulator.capture.frame import Renderer
from simulator.errors import SimError
from simulator.world.schema import World

CYCLES = "cycles"


def is_traced(world: World) -> bool:
    """Whether the dataset's RGB of `world` comes from Cycles."""
    return world.render.renderer == CYCLES


def rasterized(world: World) -> World:
    """`world` with its RGB drawn by sim's rasterizer: what the preview shows by default."""
    if not is_traced(world):
        return world
    render = world.render.model_copy(update={"renderer": "panda3d"})
    return world.model_copy(update={"render": render})


def note(world: World) -> str:
    """The one line on stderr when the preview opens (or reloads into) a Cycles world."""
    return (
        f"note: {world.world.name} is path-traced by Cycles in the dataset ([render] "
        f'renderer = "cycles", {world.render.samples} samples); the preview draws it with '
        "the rasterizer, at interactive speed, with the same labels: press p to path-trace "
        "the shown frame"
    )


def status(world: World, traced: bool) -> str:
    """The HUD's line about who drew the RGB shown."""
    if traced:
        return f"RGB: path-traced by Cycles ({world.render.samples} samples), as in the dataset"
    return (
        f"RGB: rasterized; the dataset's is path-traced (Cycles, {world.render.samples} "
        "samples): p traces this frame"
    )


def _serve(connection: Connection, plugins_dirs: list[Path]) -> None:
    """The child: (world, index) in, ("image", RGB) or ("error", text) out; None ends it."""
    renderer: Renderer | None = None
    try:
        while (request := connection.recv()) is not None:
            world, index = request
            try:
                if renderer is None or renderer.world != world:
                    if renderer is not None:
                        renderer.close()
                    renderer = None
                    renderer = Renderer(world, plugins_dirs)
                connection.send(("image", renderer.frame(index).passes.color))
            except SimError as error:
                connection.send(("error", str(error)))
            except Exception as error:  # a bug, not the user's: say where, keep serving
                traceback.print_exc(file=sys.stderr)
                connection.send(("error", f"{type(error).__name__}: {error}"))
    except (EOFError, KeyboardInterrupt):  # the window went away
        pass
    finally:
        if renderer is not None:
            renderer.close()


class PathTracer:
    """A child process that path-traces frames of a world, one request at a time."""

    def __init__(self, plugins_dirs: Sequence[Path] = ()) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of this process's GL state
        self._connection, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(child, list(plugins_dirs)), name="sim-preview-cycles"
        )
        self._process.start()
        child.close()
        self.request: tuple[int, int] | None = None  # (version, index) being traced

    def submit(self, world: World, version: int, index: int) -> None:
        """Path-trace frame `index` of `world` (version `version` of the preview's)."""
        if self.request is not None:
            raise RuntimeError("a frame is still being path-traced")
        self._connection.send((world, index))
        self.request = (version, index)

    def poll(self) -> tuple[tuple[int, int], np.ndarray | None, str | None] | None:
        """The finished request, once: ((version, index), image, None) or ((version, index),
        None, error); None while it runs or when there is none."""
        if self.request is None or not self._connection.poll():
            return None
        request, self.request = self.request, None
        try:
            kind, value = self._connection.recv()
        except EOFError:
            return request, None, f"the Cycles process ended (exit code {self._process.exitcode})"
        return (request, value, None) if kind == "image" else (request, None, value)

    def close(self) -> None:
        """End the child; one still path-tracing is stopped, not waited for."""
        if self.request is None and self._process.is_alive():
            with contextlib.suppress(OSError):  # the child is gone already
                self._connection.send(None)
            self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=10)
        self._connection.close()


class Tracing:
    """What the preview window does with Cycles worlds: the note, `p`, the traced frame."""

    def __init__(self, plugins_dirs: Sequence[Path] = ()) -> None:
        self.plugins_dirs = list(plugins_dirs)
        self.noted = False  # said on stderr that the dataset is path-traced
        self.tracer: PathTracer | None = None  # started by the first `p`
        self.image: tuple[int, int, np.ndarray] | None = None  # (version, index, RGB)

    def note_once(self, world: World) -> None:
        """Say once, on stderr, that this world's dataset is path-traced and shown rasterized."""
        if is_traced(world) and not self.noted:
            print(note(world), file=sys.stderr, flush=True)
            self.noted = True

    @property
    def busy(self) -> int | None:
        """The frame being path-traced, or None."""
        request = self.tracer.request if self.tracer is not None else None
        return request[1] if request else None

    def trace(self, world: World, version: int, index: int) -> str | None:
        """Start path-tracing frame `index`; a message for the HUD when it cannot."""
        if not is_traced(world):
            return "p: this world is rasterized in the dataset too ([render] renderer)"
        if self.busy is not None:
            return f"still path-tracing frame {self.busy}"
        self.tracer = self.tracer or PathTracer(self.plugins_dirs)
        self.tracer.submit(world, version, index)
        return None

    def poll(self, version: int) -> tuple[bool, str | None]:
        """(whether a path-traced frame finished, its error); kept while of `version`."""
        finished = self.tracer.poll() if self.tracer is not None else None
        if finished is None:
            return False, None
        (traced_version, index), image, error = finished
        if error is not None:
            return True, f"path-tracing frame {index}: {error}"
        if traced_version == version and image is not None:
            self.image = (version, index, image)
        return True, None

    def image_for(self, version: int, index: int) -> np.ndarray | None:
        """The path-traced RGB of frame `index` of world `version`, if `p` made it."""
        if self.image is not None and self.image[:2] == (version, index):
            return self.image[2]
        return None

    def line(self, world: World, version: int, index: int) -> str:
        """The HUD's line for a Cycles world (empty for others)."""
        if not is_traced(world):
            return ""
        if self.busy is not None:
            samples = world.render.samples
            return f"path-tracing frame {self.busy} with Cycles ({samples} samples)..."
        return status(world, self.image_for(version, index) is not None)

    def close(self) -> None:
        if self.tracer is not None:
            self.tracer.close()
