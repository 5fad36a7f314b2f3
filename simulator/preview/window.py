"""The preview's window: one Panda3D window showing an RGB image, and its keyboard and mouse.

Panda3D's window pipe (pandagl: GLX on X11) is driven directly, without ShowBase and its
builtins: a GraphicsEngine, a window whose only display region films a card that fills it,
the card's texture replaced whenever the picture changes, and the input data graph
(MouseAndKeyboard -> ButtonThrower) traversed once per tick.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from panda3d.core import (
    ButtonThrower,
    Camera,
    CardMaker,
    DataGraphTraverser,
    EventParameter,
    EventQueue,
    FrameBufferProperties,
    GraphicsEngine,
    GraphicsOutput,
    GraphicsPipe,
    GraphicsPipeSelection,
    MouseAndKeyboard,
    NodePath,
    OrthographicLens,
    SamplerState,
    Texture,
    WindowProperties,
    load_prc_file_data,
)

from simulator.errors import RenderError

WINDOW_PIPE = "pandagl"
# Keys that have no character, by Panda3D's button names (the rest arrive as typed text).
NAMED_KEYS = frozenset(
    {"enter", "escape", "backspace", "space", "page_up", "page_down", "wheel_up", "wheel_down"}
    | {"arrow_left", "arrow_right", "arrow_up", "arrow_down"}
)
MOUSE_BUTTONS = frozenset({"mouse1", "mouse2", "mouse3"})


@dataclass(frozen=True)
class Input:
    """One input event: kind "key" (a typed character or a named key), "press" or
    "release" (a mouse button)."""

    kind: str
    name: str


def _text(parameter: EventParameter) -> str:
    if parameter.is_wstring():
        return str(parameter.get_wstring_value())
    return str(parameter.get_string_value()) if parameter.is_string() else ""


def _input(event: str, value: str) -> list[Input]:
    """A ButtonThrower event as input: typed characters, named keys and mouse buttons."""
    typed = event == "keystroke" and value.isprintable() and not value.isspace()
    if typed or (event in ("button-down", "button-repeat") and value in NAMED_KEYS):
        return [Input("key", value)]
    if event in ("button-down", "button-up") and value in MOUSE_BUTTONS:
        return [Input("press" if event == "button-down" else "release", value)]
    return []


@contextlib.contextmanager
def _native_stderr() -> Iterator[list[str]]:
    """Collect what native code writes to file descriptor 2 meanwhile (Xlib and Panda3D's
    notify write there directly); the lines are in the yielded list once the block ends."""
    lines: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            lines += sink.read().decode(errors="replace").splitlines()


@functools.cache
def window_pipe() -> GraphicsPipe:
    """The process's window pipe; RenderError when there is no X server to talk to."""
    load_prc_file_data("sim-preview", "textures-power-2 none\nnotify-level-display error\n")
    with _native_stderr() as noise:
        pipe = GraphicsPipeSelection.get_global_ptr().make_module_pipe(WINDOW_PIPE)
    if pipe is None or not pipe.is_valid():  # Panda3D's own lines say no more than this
        raise RenderError(
            f"could not open a window on display {os.environ.get('DISPLAY', '')!r} "
            f"(Panda3D's {WINDOW_PIPE} pipe failed): is the X server running?"
        )
    for line in noise:  # Xlib's note that Xvfb lacks the XFree86-DGA extension is no news
        if "XFree86-DGA" not in line:
            print(line, file=sys.stderr)
    return pipe


class PreviewWindow:
    """A window showing one RGB image at its own size (1 image pixel = 1 window pixel)."""

    def __init__(self, pipe: GraphicsPipe, size: tuple[int, int], title: str) -> None:
        self._engine = GraphicsEngine(pipe)
        self._window = self._open(pipe, size, title)
        self._texture = Texture("picture")
        self._texture.set_minfilter(SamplerState.FT_nearest)
        self._texture.set_magfilter(SamplerState.FT_nearest)
        self._scene = self._card()
        self._inputs = NodePath("inputs")
        keyboard = self._inputs.attach_new_node(MouseAndKeyboard(self._window, 0, "keyboard"))
        thrower = ButtonThrower("buttons")
        thrower.set_button_down_event("button-down")
        thrower.set_button_repeat_event("button-repeat")
        thrower.set_button_up_event("button-up")
        thrower.set_keystroke_event("keystroke")
        keyboard.attach_new_node(thrower)
        self._traverser = DataGraphTraverser()
        self._queue = EventQueue.get_global_event_queue()

    def _open(self, pipe: GraphicsPipe, size: tuple[int, int], title: str) -> GraphicsOutput:
        props = WindowProperties()
        props.set_size(*size)
        props.set_title(title)
        buffers = FrameBufferProperties()
        buffers.set_rgb_color(True)
        buffers.set_back_buffers(1)  # single-buffered GLX windows stay black under Xvfb
        flags = GraphicsPipe.BF_require_window
        window = self._engine.make_output(pipe, "preview", 0, buffers, props, flags)
        if window is not None:
            self._engine.open_windows()
        if window is None or not window.is_valid():
            raise RenderError(
                f"could not open a {size[0]}x{size[1]} window on display "
                f"{os.environ.get('DISPLAY', '')!r}"
            )
        return window

    def _card(self) -> NodePath:
        """A 2x2 card filmed by an orthographic camera: it fills the window exactly."""
        scene = NodePath("picture")
        lens = OrthographicLens()
        lens.set_film_size(2, 2)
        lens.set_near_far(-1, 1)
        camera = scene.attach_new_node(Camera("picture", lens))
        self._window.make_display_region().set_camera(camera)
        maker = CardMaker("picture")
        maker.set_frame(-1, 1, -1, 1)
        card = scene.attach_new_node(maker.generate())
        card.set_texture(self._texture)
        card.set_depth_test(False)
        card.set_depth_write(False)
        return scene

    @property
    def size(self) -> tuple[int, int]:
        return self._window.get_x_size(), self._window.get_y_size()

    @property
    def closed(self) -> bool:
        return self._window.is_closed() or not self._window.get_properties().get_open()

    def show(self, image: np.ndarray) -> None:
        """Replace the picture: (H, W, 3) uint8 RGB, top row first, window-sized."""
        height, width = image.shape[:2]
        if (self._texture.get_x_size(), self._texture.get_y_size()) != (width, height):
            self._texture.setup_2d_texture(width, height, Texture.T_unsigned_byte, Texture.F_rgb8)
        self._texture.set_ram_image_as(np.ascontiguousarray(image[::-1]).tobytes(), "RGB")

    def render(self) -> None:
        """Draw the window and gather its input (read with `inputs`)."""
        self._engine.render_frame()
        self._traverser.traverse(self._inputs.node())

    def inputs(self) -> list[Input]:
        """The input since the last call, in order."""
        found = []
        while not self._queue.is_queue_empty():
            event = self._queue.dequeue_event()
            if event.get_num_parameters() == 1:
                found += _input(event.name, _text(event.get_parameter(0)))
        return found

    def pointer(self) -> tuple[float, float] | None:
        """The mouse pointer in window pixels, or None when outside the window."""
        data = self._window.get_pointer(0)
        return (data.get_x(), data.get_y()) if data.get_in_window() else None

    def screenshot(self) -> np.ndarray:
        """What the window's framebuffer holds: (H, W, 3) uint8 RGB, top row first."""
        texture = self._window.get_screenshot()
        if texture is None:
            raise RenderError("could not read the window back")
        data = np.frombuffer(texture.get_ram_image_as("RGB"), np.uint8)
        return data.reshape(texture.get_y_size(), texture.get_x_size(), 3)[::-1].copy()

    def close(self) -> None:
        self._engine.remove_all_windows()
