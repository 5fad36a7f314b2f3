"""`sim run --preview`: a window showing each frame as `sim run` captures it.

`sim run` renders on its own thread through EGL; libglvnd allows a thread one kind of
context, EGL or GLX, so this window (GLX) lives on a thread of its own. `show` never waits
for the window: a frame not yet shown is replaced by a newer one. Closing the window (or
`q`, Esc) only stops the showing; the run goes on.
"""

from __future__ import annotations

import threading
import time

from simulator.errors import RenderError
from simulator.labels.records import FrameLabels
from simulator.preview.keys import ViewState
from simulator.preview.main import display_problem
from simulator.preview.picture import Picture
from simulator.preview.view import auto_scale, compose, layout, window_size
from simulator.preview.window import PreviewWindow, window_pipe

TICK = 1 / 30


class LiveWindow:
    """A window showing the newest frame handed to `show`, with boxes, masks, keypoints."""

    def __init__(self, title: str, resolution: tuple[int, int]) -> None:
        """Open the window; raises RenderError (or SimError) when no window can open."""
        problem = display_problem()
        if problem:
            raise RenderError(problem.removeprefix("error: "))
        self._title, self._resolution = title, resolution
        self._lock = threading.Lock()
        self._newest: FrameLabels | None = None
        self._stop = threading.Event()
        self._opened = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="sim-run-preview", daemon=True)
        self._thread.start()
        self._opened.wait()
        if self._error is not None:
            raise self._error

    def show(self, frame: FrameLabels) -> None:
        """Show `frame` next (call with every captured frame; never blocks)."""
        with self._lock:
            self._newest = frame

    def _run(self) -> None:
        try:
            window = self._open()
        except BaseException as error:  # handed to the constructor's thread
            self._error = error
            self._opened.set()
            return
        self._opened.set()
        try:
            self._loop(window)
        finally:
            window.close()

    def _open(self) -> PreviewWindow:
        pipe = window_pipe()
        width, height = self._resolution
        screen = (pipe.get_display_width(), pipe.get_display_height())
        size = window_size(width, height, auto_scale(width, height, screen))
        return PreviewWindow(pipe, size, self._title)

    def _loop(self, window: PreviewWindow) -> None:
        state = ViewState(0, 0.0, 1)
        while not self._stop.is_set() and not window.closed:
            if any(e.kind == "key" and e.name in ("q", "escape") for e in window.inputs()):
                return
            with self._lock:
                frame, self._newest = self._newest, None
            if frame is not None:
                state.index = frame.index
                hud = [f"sim run: frame {frame.index}   objects {len(frame.objects)}", "q: close"]
                where = layout(window.size, (frame.width, frame.height))
                window.show(compose(Picture(frame, []), state, where, hud))
            window.render()
            time.sleep(TICK)

    def close(self) -> None:
        """Close the window now (frames handed to `show` and not yet shown are dropped)."""
        self._stop.set()
        self._thread.join(timeout=10)
