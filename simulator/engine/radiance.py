"""The frame as radiance, and radiance through the tone curve: motion blur's two passes.

A sensor gathers light while its shutter is open and the camera's curve comes after, so a
motion-blurred frame (capture.blur) is the mean of its sub-frames' radiance, mapped once.
The radiance pass draws the colour alone, the frame pass's shaders generated with the light
itself in place of the tone curve (shaders.RADIANCE), into a float32 target of its own
(multisampled as the engine's colour is), read back as float32. The tone pass maps a
radiance image through the frame pass's own tone curve code (shaders.tone_fragment) into an
8-bit target, and FXAA, where the engine has it, smooths that afterwards, as it does a frame:
tone curve, then FXAA. So a still scene's mean gives the frame's bytes back (tested).

Both are drawn only when asked, by buffers made at the first blurred frame: an engine that
never blurs holds none of them.
"""

from __future__ import annotations

import numpy as np
from panda3d.core import (
    FrameBufferProperties,
    GraphicsEngine,
    GraphicsOutput,
    GraphicsPipe,
    Texture,
    WindowProperties,
)

from simulator.engine import shaders
from simulator.engine.post import FXAA_EDGES, FXAA_FRAGMENT, PostPass
from simulator.errors import RenderError

# The buffers' places in a frame: after every other (they are drawn alone).
_RADIANCE_SORT, _TONE_SORT, _FXAA_SORT = 3, 4, 5


def _output(
    engine: GraphicsEngine,
    pipe: GraphicsPipe,
    host: GraphicsOutput,
    name: str,
    sort: int,
    props: FrameBufferProperties,
) -> GraphicsOutput:
    size = WindowProperties.size(host.get_x_size(), host.get_y_size())
    flags = GraphicsPipe.BF_refuse_window
    buffer = engine.make_output(pipe, name, sort, props, size, flags, host.get_gsg(), host)
    if buffer is None:
        raise RenderError(f"the OpenGL driver cannot draw motion blur's {name} pass")
    buffer.set_active(False)
    return buffer


def _texture(buffer: GraphicsOutput) -> Texture:
    texture = Texture(f"{buffer.get_name()}-color")
    buffer.add_render_texture(texture, GraphicsOutput.RTM_bind_or_copy, GraphicsOutput.RTP_color)
    return texture


class RadianceTargets:
    """The radiance buffer, and the tone pass from an uploaded radiance image (then FXAA)."""

    def __init__(
        self,
        engine: GraphicsEngine,
        pipe: GraphicsPipe,
        host: GraphicsOutput,
        multisamples: int = 0,
        fxaa: bool = False,
    ) -> None:
        """`host`: the frame buffer (its size and GL context); `multisamples`: the colour's
        samples per pixel (0: none); `fxaa`: FXAA after the tone pass."""
        props = FrameBufferProperties()
        props.set_depth_bits(24)
        props.set_rgba_bits(32, 32, 32, 32)
        props.set_float_color(True)
        props.set_multisamples(multisamples)
        self.buffer = _output(engine, pipe, host, "radiance", _RADIANCE_SORT, props)
        if multisamples > 1 and self.buffer.get_fb_properties().get_multisamples() < 2:
            raise RenderError(
                f"the OpenGL driver cannot draw motion blur's sub-frames {multisamples}x "
                "multisampled; set [render] antialias = 0"
            )
        self.multisampled = multisamples > 1
        self.radiance = _texture(self.buffer)
        width, height = host.get_x_size(), host.get_y_size()
        # The averaged radiance, uploaded for the tone pass.
        self.mean = Texture("radiance-mean")
        self.mean.setup_2d_texture(width, height, Texture.T_float, Texture.F_rgb32)
        color = FrameBufferProperties()
        color.set_rgba_bits(8, 8, 8, 8)
        tone = _output(engine, pipe, host, "tone", _TONE_SORT, color)
        self.tone = PostPass(tone, self.mean, shaders.tone_fragment("clamp"))
        self.color = _texture(tone)
        self.fxaa: PostPass | None = None
        if fxaa:
            masked = FrameBufferProperties(color)
            masked.set_depth_bits(24)  # (FXAA's mask)
            smoothed = _output(engine, pipe, host, "radiance-fxaa", _FXAA_SORT, masked)
            self.fxaa = PostPass(smoothed, self.color, FXAA_FRAGMENT, FXAA_EDGES)
            self.color = _texture(smoothed)

    def upload(self, radiance: np.ndarray, tone: str) -> None:
        """Set the tone pass's source to `radiance` ((H, W, 3), top row first) and its curve
        to `tone`."""
        rows = np.ascontiguousarray(radiance[::-1], dtype=np.float32)  # Panda3D: bottom first
        self.mean.set_ram_image_as(rows.tobytes(), "RGB")
        self.tone.use(shaders.tone_fragment(tone))

    def set_tone_active(self, active: bool) -> None:
        self.tone.buffer.set_active(active)
        if self.fxaa is not None:
            self.fxaa.buffer.set_active(active)

    def close(self, engine: GraphicsEngine) -> None:
        for output in (self.buffer, self.tone.buffer, self.fxaa and self.fxaa.buffer):
            if output is not None:
                engine.remove_window(output)
