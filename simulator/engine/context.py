"""An offscreen OpenGL context through EGL (p3headlessgl): no display needed."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from panda3d.core import (
    FrameBufferProperties,
    GraphicsEngine,
    GraphicsOutput,
    GraphicsPipe,
    GraphicsPipeSelection,
    Texture,
    WindowProperties,
    load_prc_file_data,
)

from simulator.errors import RenderError

_CONFIG = """
audio-library-name null
window-type offscreen
framebuffer-multisample 0
sync-video false
notify-level-display error
notify-level-glgsg error
textures-power-2 none
"""

MISSING_GL = (
    "could not create an offscreen OpenGL context through EGL (Panda3D's p3headlessgl): "
    "install Mesa's EGL and OpenGL drivers, e.g. `apt-get install libegl1 libgl1-mesa-dri`, "
    "or the GPU vendor's driver"
)


@dataclass
class Targets:
    """Textures the passes are copied into after each frame."""

    color: Texture
    label: Texture
    normal: Texture | None


def configure() -> None:
    load_prc_file_data("sim", _CONFIG)


@functools.cache
def make_pipe(name: str = "p3headlessgl") -> GraphicsPipe:
    """The process's graphics pipe (one EGL display, shared by every engine in the process)."""
    configure()
    pipe = GraphicsPipeSelection.get_global_ptr().make_module_pipe(name)
    if pipe is None or not pipe.is_valid():
        raise RenderError(MISSING_GL)
    return pipe


def _properties(float_color: bool, normals: bool = False) -> FrameBufferProperties:
    props = FrameBufferProperties()
    props.set_depth_bits(24)
    props.set_multisamples(0)
    if float_color:
        props.set_rgba_bits(32, 32, 32, 32)
        props.set_float_color(True)
        props.set_aux_float(1 if normals else 0)
    else:
        props.set_rgba_bits(8, 8, 8, 8)
    return props


def _texture(buffer: GraphicsOutput, plane: int) -> Texture:
    texture = Texture()
    buffer.add_render_texture(texture, GraphicsOutput.RTM_copy_ram, plane)
    return texture


def make_buffers(
    engine: GraphicsEngine, pipe: GraphicsPipe, width: int, height: int, normals: bool = True
) -> tuple[GraphicsOutput, GraphicsOutput, Targets]:
    """The lit color buffer and the float label buffer, sharing one GL context. The normals
    target exists only when asked for: it is the costliest part of the label pass."""
    size = WindowProperties.size(width, height)
    flags = GraphicsPipe.BF_refuse_window
    color = engine.make_output(pipe, "color", 0, _properties(False), size, flags, None, None)
    if color is None:
        raise RenderError(MISSING_GL)
    label = engine.make_output(
        pipe, "label", 1, _properties(True, normals), size, flags, color.get_gsg(), color
    )
    if label is None:
        raise RenderError(
            "the OpenGL driver cannot render to float32 color targets, which the label pass needs"
        )
    targets = Targets(
        _texture(color, GraphicsOutput.RTP_color),
        _texture(label, GraphicsOutput.RTP_color),
        _texture(label, GraphicsOutput.RTP_aux_float_0) if normals else None,
    )
    label.set_clear_color((0, 0, 0, 0))
    if normals:
        label.set_clear_active(GraphicsOutput.RTP_aux_float_0, True)
        label.set_clear_value(GraphicsOutput.RTP_aux_float_0, (0, 0, 0, 0))
    return color, label, targets
