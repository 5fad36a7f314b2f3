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

from simulator.engine import shaders
from simulator.engine.post import FXAA_EDGES, FXAA_FRAGMENT, PostPass
from simulator.errors import RenderError

# transform-cache 0: Panda3D caches composed transforms process-wide, and a model-view matrix
# found in that cache (composed earlier, in another order) can differ in its last bit from one
# composed afresh: a frame's float depth, and so its flow, depended on what the process had
# drawn before (a run in the test process and in a fresh worker differed by 1 ulp). Composing
# every frame's few dozen transforms afresh costs nothing measurable.
_CONFIG = """
audio-library-name null
window-type offscreen
framebuffer-multisample 0
sync-video false
notify-level-display error
notify-level-glgsg error
textures-power-2 none
transform-cache 0
"""

MISSING_GL = (
    "could not create an offscreen OpenGL context through EGL (Panda3D's p3headlessgl): "
    "install Mesa's EGL and OpenGL drivers, e.g. `apt-get install libegl1 libgl1-mesa-dri`, "
    "or the GPU vendor's driver"
)


@dataclass
class Targets:
    """Textures the passes land in; `readback.Readback` reads them after each frame."""

    color: Texture  # RGBA8 lit color (from `post` when there is one)
    label: Texture  # float32 RGBA (instance id, plane depth, ray distance, 1), in the frame pass
    normal: Texture | None  # float32 RGBA camera-space normals, only when asked for
    solo: Texture  # float32 instance id of the solo passes
    color_buffer: GraphicsOutput | None = None  # multisampled display-linear color (float32)
    # into `color`: FXAA of the frame's color, or the encoding of color_buffer's resolve
    post: PostPass | None = None


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


def _properties(
    rgba: tuple[int, int, int, int],
    float_color: bool = False,
    aux_float: int = 0,
    multisamples: int = 0,
) -> FrameBufferProperties:
    props = FrameBufferProperties()
    props.set_depth_bits(24)
    props.set_multisamples(multisamples)
    props.set_rgba_bits(*rgba)
    props.set_float_color(float_color)
    props.set_aux_float(aux_float)
    return props


def _texture(
    buffer: GraphicsOutput, plane: int, mode: int = GraphicsOutput.RTM_bind_or_copy
) -> Texture:
    """A texture the buffer renders into, read back on request (not copied every frame)."""
    texture = Texture(f"{buffer.get_name()}-{plane}")
    buffer.add_render_texture(texture, mode, plane)
    return texture


def make_buffers(
    engine: GraphicsEngine,
    pipe: GraphicsPipe,
    width: int,
    height: int,
    normals: bool = True,
    antialias: int | str = 0,
) -> tuple[GraphicsOutput, GraphicsOutput, Targets]:
    """The frame buffer and the solo buffer, sharing one GL context.

    The frame buffer draws everything in one pass: lit RGBA8 color, and in float32 auxiliary
    targets the label (instance id, plane depth, ray distance) and, only when asked for, the
    normals. The solo buffer draws instance ids alone, for the visibility passes. Every target
    is a texture, read back only when asked (Panda3D's copy-to-RAM mode would read auxiliary
    float targets as 8-bit).

    With `antialias` samples, a third, multisampled buffer draws the color (resolved into its
    texture after it is drawn): OpenGL resolves every target of a multisampled buffer by
    averaging its samples, which would blend instance ids at edges, so the labels stay in the
    frame buffer, single-sampled, where every pixel is its centre's sample. The samples are
    display-linear light (the tone curve without its encoding, float32: shaders.display_linear),
    so that edges are averaged in linear light, and a pass after them encodes the resolved
    image into 8 bits (shaders.encoding_fragment); float32 keeps every flat pixel the same
    bytes as without anti-aliasing. With `antialias = "fxaa"`, a buffer after the frame
    smooths the frame pass's color (engine.post)."""
    flags = GraphicsPipe.BF_refuse_window
    # Render targets with auxiliary planes must be framebuffer objects, which need a host.
    host = engine.make_output(
        pipe, "host", -10, _properties((8, 8, 8, 8)), WindowProperties.size(1, 1), flags, None, None
    )
    if host is None:
        raise RenderError(MISSING_GL)
    host.set_active(False)
    size = WindowProperties.size(width, height)
    frame = engine.make_output(
        pipe,
        "frame",
        0,
        _properties((8, 8, 8, 8), aux_float=2 if normals else 1),
        size,
        flags,
        host.get_gsg(),
        host,
    )
    solo = engine.make_output(
        pipe, "solo", 1, _properties((32, 0, 0, 0), True), size, flags, host.get_gsg(), host
    )
    if frame is None or solo is None:
        raise RenderError(
            "the OpenGL driver cannot render to float32 color targets, which the labels need"
        )
    targets = Targets(
        _texture(frame, GraphicsOutput.RTP_color),
        _texture(frame, GraphicsOutput.RTP_aux_float_0),
        _texture(frame, GraphicsOutput.RTP_aux_float_1) if normals else None,
        _texture(solo, GraphicsOutput.RTP_color),
    )
    if antialias == "fxaa":
        post = engine.make_output(
            pipe, "fxaa", 2, _properties((8, 8, 8, 8)), size, flags, host.get_gsg(), host
        )
        if post is None:
            raise RenderError("the OpenGL driver cannot draw the anti-aliasing (fxaa) pass")
        targets.post = PostPass(post, targets.color, FXAA_FRAGMENT, FXAA_EDGES)
        targets.color = _texture(post, GraphicsOutput.RTP_color)
    elif isinstance(antialias, int) and antialias > 1:
        samples = _properties((32, 32, 32, 32), float_color=True, multisamples=antialias)
        color = engine.make_output(
            pipe, "color", -1, samples, size, flags, host.get_gsg(), host
        )  # (the color camera asks for multisampling: Engine._use_states)
        encoding = engine.make_output(
            pipe, "encoding", 2, _properties((8, 8, 8, 8)), size, flags, host.get_gsg(), host
        )
        if color is None or encoding is None or color.get_fb_properties().get_multisamples() < 2:
            raise RenderError(
                f"the OpenGL driver cannot draw {antialias}x multisampled anti-aliasing; "
                "set [render] antialias = 0"
            )
        color.set_clear_color((0, 0, 0, 1))  # (the backdrop covers it: Engine._stage)
        # The encoding of the engine's tone curve: set by Engine._use_lights every frame.
        resolved = _texture(color, GraphicsOutput.RTP_color)
        targets.post = PostPass(encoding, resolved, shaders.encoding_fragment("clamp"))
        targets.color = _texture(encoding, GraphicsOutput.RTP_color)
        targets.color_buffer = color
    cleared = [GraphicsOutput.RTP_aux_float_0] + (
        [GraphicsOutput.RTP_aux_float_1] if normals else []
    )
    for plane in cleared:
        frame.set_clear_active(plane, True)
        frame.set_clear_value(plane, (0, 0, 0, 0))
    solo.set_clear_color((0, 0, 0, 0))
    solo.set_active(False)
    return frame, solo, targets
