"""The preview's main loop: input, hot reload, stepping, and showing finished frames.

See `simulator.preview` for the design; this module is its main-thread half.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from simulator.dataset.atomic import atomic_write
from simulator.dataset.encode import color_bytes
from simulator.dataset.layout import frame_name
from simulator.errors import SimError
from simulator.preview.keys import SHORT_KEYS, ViewState, handle
from simulator.preview.picture import Picture
from simulator.preview.traced import Tracing
from simulator.preview.view import Layout, auto_scale, compose, layout, window_size
from simulator.preview.watch import Watcher, watched
from simulator.preview.window import Input, PreviewWindow, window_pipe
from simulator.preview.worker import Done, Job, RenderThread
from simulator.world.load import load_world
from simulator.world.schema import World

TICK = 1 / 60  # seconds per window refresh, at most
MESSAGE_SECONDS = 4.0
RELOAD_FAILED = "reload failed, showing the last good world: "


def _check_options(rate: float, start: int, seed: int | None, scale: float | None) -> None:
    for name, value, least in (("rate", rate, 0), ("start", start, 0), ("seed", seed, 0)):
        if value is not None and value < least:
            raise SimError(f"--{name} must be >= {least}, got {value}")
    if scale is not None and scale <= 0:
        raise SimError(f"--scale must be > 0, got {scale}")


class Preview:
    """The window, the render thread and the view state between them."""

    def __init__(
        self,
        world_file: Path,
        rate: float,
        start: int,
        seed: int | None,
        plugins_dirs: Sequence[Path],
        scale: float | None,
        save_dir: Path | None,
    ) -> None:
        _check_options(rate, start, seed, scale)
        self.world_file, self.seed, self.plugins_dirs = world_file, seed, list(plugins_dirs)
        self.save_dir = save_dir or Path("out") / "preview"
        self.world = self._load()
        self.tracing = Tracing(self.plugins_dirs)  # Cycles worlds: shown rasterized, `p`
        self.tracing.note_once(self.world)
        pipe = window_pipe()  # fails fast, before any rendering, when X cannot be reached
        self.worker = RenderThread(self.plugins_dirs)
        self.version = 1
        try:
            self.picture, seconds = self._first(start)
            width, height = self.world.camera.resolution
            screen = (pipe.get_display_width(), pipe.get_display_height())
            size = window_size(width, height, scale or auto_scale(width, height, screen))
            title = f"sim preview: {self.world.world.name} ({world_file})"
            self.window = PreviewWindow(pipe, size, title)
        except BaseException:
            self.worker.close()
            raise
        self.state = ViewState(start, rate, self.world.world.frames)
        self.watcher = Watcher(watched(world_file, self.world, self.plugins_dirs))
        self.requested = self._want()
        self.pending: World | None = None  # a reloaded world waiting for the render thread
        self.reload_error: str | None = None
        self.frame_error: str | None = None
        self.message, self.message_until = "", 0.0
        self.fps = 1 / seconds if seconds else 0.0
        self.next_step = time.perf_counter() + (1 / rate if rate else 0)
        self.drag: tuple[str, tuple[float, float]] | None = None
        self.canvas: np.ndarray | None = None
        self.dirty = True

    def _first(self, index: int) -> tuple[Picture, float]:
        """The first frame, before the window opens: a world that cannot render fails here."""
        self.worker.submit(Job(self.version, index, self.world))
        first = self.worker.wait()
        if first.picture is None:
            raise SimError(first.error or "the first frame failed")
        return first.picture, first.seconds

    def _load(self) -> World:
        world = load_world(self.world_file)
        if self.seed is not None:
            world.world.seed = self.seed
        return world

    def run(self, screenshot: Path | None = None) -> int:
        """Refresh the window until it is closed or quit; with `screenshot`, save the first
        complete picture there and return."""
        refreshed, size = 0, self.window.size  # window refreshes since the picture changed
        while not self.window.closed:
            began = time.perf_counter()
            if any(self._input(event) == "quit" for event in self.window.inputs()):
                return 0
            self._mouse()
            self._tick(began)
            if self.dirty or self.window.size != size:
                size, self.canvas = self.window.size, self._compose()
                self.window.show(self.canvas)
                self.dirty, refreshed = False, 0
            self.window.render()
            refreshed += 1
            if screenshot is not None and refreshed == 3 and not self.worker.busy:
                Image.fromarray(self.window.screenshot()).save(screenshot)
                return 0
            time.sleep(max(0.0, TICK - (time.perf_counter() - began)))
        return 0

    def _tick(self, now: float) -> None:
        if self.watcher.changed(now):
            self._reload()
        self._step(now)
        done = self.worker.poll()
        if done is not None:
            self._finished(done)
        self._traced()
        self._request()
        if self.message and now > self.message_until:
            self.message, self.dirty = "", True

    def _input(self, event: Input) -> str | None:
        if event.kind == "press":
            self.drag = (event.name, self.window.pointer() or (0.0, 0.0))
            return None
        if event.kind == "release":
            self.drag = None
            return None
        self.dirty = True
        action = handle(self.state, event.name, self.picture.labels.scene.camera)
        if action == "save":
            self._save()
        elif action == "trace":
            self._trace()
        return action

    def _mouse(self) -> None:
        """Drags in the free view: left orbits, middle pans, right zooms."""
        pointer = self.window.pointer()
        if self.drag is None or pointer is None or self.state.orbit is None:
            return
        button, (x0, y0) = self.drag
        dx, dy = pointer[0] - x0, pointer[1] - y0
        if not dx and not dy:
            return
        self.drag = (button, pointer)
        orbit, width, height = self.state.orbit, *self.window.size
        if button == "mouse1":
            orbit.rotate(-dx * 0.4, dy * 0.4)
        elif button == "mouse2":
            orbit.pan(-dx / width, dy / height)
        else:
            orbit.zoom(1.0 + dy * 0.01)

    def _step(self, now: float) -> None:
        """Step at the rate, never ahead of what is shown."""
        state = self.state
        if state.paused or not state.rate or state.typed is not None or self.worker.busy:
            self.next_step = max(self.next_step, now)
            return
        if now >= self.next_step:
            state.step(1)
            self.next_step = now + 1 / state.rate

    def _want(self) -> tuple[object, ...]:
        orbit = self.state.orbit
        return (self.version, self.state.index, orbit.key() if orbit else None)

    def _request(self) -> None:
        """Hand the render thread the next job: a reload first, else the wanted frame."""
        if self.worker.busy:
            return
        orbit = self.state.orbit
        copy = dataclasses.replace(orbit, target=orbit.target.copy()) if orbit else None
        if self.pending is not None:
            self.worker.submit(Job(self.version + 1, self.state.index, self.pending, copy))
            self.pending, self.requested = None, (self.version + 1, *self._want()[1:])
        elif self._want() != self.requested:
            self.worker.submit(Job(self.version, self.state.index, orbit=copy))
            self.requested = self._want()

    def _finished(self, done: Done) -> None:
        self.dirty = True
        if done.picture is None:
            if done.job.world is not None:
                self.reload_error = RELOAD_FAILED + str(done.error)
            else:
                self.frame_error = f"frame {done.job.index}: {done.error}"
            return
        if done.job.world is not None:
            self.world, self.version, self.reload_error = done.job.world, done.job.version, None
            self._say(f"reloaded {self.world_file}")
            self.tracing.note_once(self.world)
        self.picture, self.frame_error = done.picture, None
        if done.seconds:
            self.fps = 0.7 * self.fps + 0.3 / done.seconds if self.fps else 1 / done.seconds

    def _reload(self) -> None:
        """Parse the changed world here (errors show at once); the render thread builds it."""
        try:
            world = self._load()
        except SimError as error:
            self.reload_error, self.dirty = RELOAD_FAILED + str(error), True
            return
        self.watcher.paths = watched(self.world_file, world, self.plugins_dirs)
        self.pending = world

    def _trace(self) -> None:
        """`p`: path-trace the shown frame with Cycles, as `sim run` renders it; pauses."""
        refused = self.tracing.trace(self.world, self.version, self.picture.labels.index)
        if refused:
            self._say(refused)
        else:
            self.state.paused = True

    def _traced(self) -> None:
        finished, error = self.tracing.poll(self.version)
        self.frame_error = error or self.frame_error
        self.dirty = self.dirty or finished

    def _shown(self) -> Picture:
        """The picture as shown: with its path-traced RGB, when `p` made one for it."""
        traced = self.tracing.image_for(self.version, self.picture.labels.index)
        return self.picture if traced is None else dataclasses.replace(self.picture, traced=traced)

    def _say(self, message: str) -> None:
        """A message in the HUD for a few seconds."""
        self.message, self.dirty = message, True
        self.message_until = time.perf_counter() + MESSAGE_SECONDS

    def _save(self) -> None:
        """The captured frame as PNG, its native record as JSON, and the window's picture,
        each written whole or not at all (a script watching the folder never reads half)."""
        labels = self.picture.labels
        self.save_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{self.world.world.name}-{frame_name(labels.index)}"
        color = self._shown().traced
        shown = labels.passes.color if color is None else color
        atomic_write(self.save_dir / f"{stem}.png", color_bytes(shown, "png"))
        if self.canvas is not None:
            atomic_write(self.save_dir / f"{stem}-view.png", color_bytes(self.canvas, "png"))
        record = {**labels.record(), "files": {"image": f"{stem}.png"}}
        text = json.dumps(record, separators=(",", ":"))  # as the native writer writes it
        atomic_write(self.save_dir / f"{stem}.json", text + "\n")  # last: the rest is there
        self._say(f"saved {self.save_dir / stem}.png, .json and -view.png")
        print(f"saved {self.save_dir / stem}.png", flush=True)

    def layout(self) -> Layout:
        return layout(self.window.size, (self.picture.labels.width, self.picture.labels.height))

    def _compose(self) -> np.ndarray:
        errors = [e for e in (self.reload_error, self.frame_error) if e]
        return compose(self._shown(), self.state, self.layout(), self.hud(), errors)

    def hud(self) -> list[str]:
        """The HUD's lines: the frame, the view, a message or the typed frame, the keys."""
        labels, state = self.picture.labels, self.state
        frame = f"frame {labels.index}"
        frame += f" -> {state.index}" if state.index != labels.index else ""
        stepping = f"stepping {state.rate:g}/s" if state.rate else "step on keys"
        stepping = "paused" if state.paused else stepping
        view = "FREE VIEW, not captured (f: back)" if state.orbit else "capture camera"
        overlays = ", ".join(sorted(state.overlays)) or "none"
        typed = f"go to frame: {state.typed}_" if state.typed is not None else self.message
        typed = typed or self.tracing.line(self.world, self.version, labels.index)
        return [
            f"{self.world.world.name}   {frame}   seed {labels.seed}   "
            f"objects {len(labels.objects)}   {self.fps:.1f} frames/s   {stepping}",
            f"pass: {state.shown_pass}   overlays: {overlays}   view: {view}",
            typed,
            *SHORT_KEYS,
        ]

    def close(self) -> None:
        self.tracing.close()
        self.worker.close()
        self.window.close()
