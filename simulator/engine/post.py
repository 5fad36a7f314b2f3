"""Anti-aliasing after the frame: FXAA (Lottes 2009, "FXAA", NVIDIA white paper; the
edge test and search of FXAA 3.11's quality preset, with four steps along the edge) on the
frame pass's colour, into a buffer of its own that is read back instead.

Multisampling draws every object twice on the CPU renderer (the colour multisampled, then the
labels single-sampled, exact at pixel centres: engine.context). FXAA keeps the one frame
pass that draws colour and labels together and smooths the colour's edges afterwards: one
full-screen pass over the image, against 60 to 90 ms of CPU time at 640x480 for 4x
multisampling on llvmpipe (bench/antialias.py). The labels are the frame pass's own,
untouched. docs/lighting.md compares both with a supersampled reference.

The CPU renderer runs a fragment shader's branches for every pixel of a block (it masks,
it does not jump), so FXAA's early exit for pixels on no edge saved nothing: the edge
search cost every pixel 9 filtered reads. A pass may therefore name a `mask`: a cheap
shader drawn first that copies every pixel and writes depth 0 where the pass is needed, 1
elsewhere; the pass's own card then draws behind an early depth test, which llvmpipe
applies before shading, skipping the blocks with no marked pixel (about 8 of FXAA's 13 ms of
CPU time a bench frame). The image is the same bytes as without the mask.

The same kind of pass encodes multisampling's resolved display-linear colour (engine.context)
and maps motion blur's mean radiance through the tone curve (engine.radiance).
"""

from __future__ import annotations

from panda3d.core import (
    Camera,
    CardMaker,
    DepthTestAttrib,
    GraphicsOutput,
    NodePath,
    OrthographicLens,
    RenderAttrib,
    SamplerState,
    Texture,
)

from simulator.engine.programs import program
from simulator.errors import RenderError

POST_VERTEX = """
#version 330
uniform mat4 p3d_ModelViewProjectionMatrix;
in vec4 p3d_Vertex;
in vec2 p3d_MultiTexCoord0;
out vec2 v_uv;
void main() {
    gl_Position = p3d_ModelViewProjectionMatrix * p3d_Vertex;
    v_uv = p3d_MultiTexCoord0;
}
"""

# FXAA's edge test, on the 3 x 3 neighbourhood read texel by texel (no filtering: cheaper on
# the CPU renderer): a pixel is on an edge where its 4-neighbourhood's luma contrast passes
# the thresholds of FXAA 3.11's quality preset.
_NEIGHBOURHOOD = """
#version 330
uniform sampler2D source;
layout(location = 0) out vec4 o_color;
const vec3 LUMA = vec3(0.299, 0.587, 0.114);
const float EDGE_THRESHOLD = 0.125, EDGE_THRESHOLD_MIN = 0.0312;
float luma_of(ivec2 texel, ivec2 last, int dx, int dy) {
    return dot(texelFetch(source, clamp(texel + ivec2(dx, dy), ivec2(0), last), 0).rgb, LUMA);
}
bool on_edge(float high, float low) {
    return high - low >= max(EDGE_THRESHOLD_MIN, high * EDGE_THRESHOLD);
}
// The centre's luma m, its 4 neighbours' n, s, e, w, and the highest and lowest of the five.
void cross_lumas(ivec2 texel, ivec2 last, float m, out float n, out float s, out float e,
                 out float w, out float high, out float low) {
    n = luma_of(texel, last, 0, 1), s = luma_of(texel, last, 0, -1);
    e = luma_of(texel, last, 1, 0), w = luma_of(texel, last, -1, 0);
    high = max(max(max(n, s), max(e, w)), m), low = min(min(min(n, s), min(e, w)), m);
}
"""

# On the sRGB-encoded colour (FXAA's luma is perceptual). A pixel whose neighbourhood's
# contrast is below the thresholds keeps its colour exactly; on an edge, the colour is
# resampled half a pixel across the edge, at the point along it where the edge's ends
# (searched four steps each way) put the coverage (FXAA 3.11's subpixel-free variant).
FXAA_FRAGMENT = (
    _NEIGHBOURHOOD
    + """
in vec2 v_uv;
float luma_at(vec2 uv) { return dot(texture(source, uv).rgb, LUMA); }
void main() {
    vec2 size = vec2(textureSize(source, 0));
    vec2 px = 1.0 / size;
    ivec2 texel = ivec2(gl_FragCoord.xy), last = ivec2(size) - 1;
    vec4 centre = texelFetch(source, texel, 0);
    float m = dot(centre.rgb, LUMA), n, s, e, w, high, low;
    cross_lumas(texel, last, m, n, s, e, w, high, low);
    if (!on_edge(high, low)) { o_color = centre; return; }  // (unmarked pixels: not drawn)
    float ne = luma_of(texel, last, 1, 1), sw = luma_of(texel, last, -1, -1);
    float nw = luma_of(texel, last, -1, 1), se = luma_of(texel, last, 1, -1);
    // A horizontal edge (the luma changes along y) or a vertical one: second differences.
    float rows = abs(nw + sw - 2.0 * w) + 2.0 * abs(n + s - 2.0 * m) + abs(ne + se - 2.0 * e);
    float columns = abs(nw + ne - 2.0 * n) + 2.0 * abs(w + e - 2.0 * m) + abs(sw + se - 2.0 * s);
    bool horizontal = rows >= columns;
    float one = horizontal ? n : e, other = horizontal ? s : w;  // the two sides
    float step_across = horizontal ? px.y : px.x;
    bool towards_one = abs(one - m) >= abs(other - m);
    float side = towards_one ? one : other;
    if (!towards_one) step_across = -step_across;
    float gradient = 0.25 * abs(side - m);
    float edge_luma = 0.5 * (side + m);
    vec2 along = horizontal ? vec2(px.x, 0.0) : vec2(0.0, px.y);
    vec2 start = v_uv + (horizontal ? vec2(0.0, 0.5 * step_across) : vec2(0.5 * step_across, 0.0));
    // The edge's ends: where the luma on the edge line departs from the edge's own.
    vec2 forward = start + along, backward = start - along;
    float end_f = luma_at(forward) - edge_luma, end_b = luma_at(backward) - edge_luma;
    bool done_f = abs(end_f) >= gradient, done_b = abs(end_b) >= gradient;
    const float STEPS[3] = float[3](1.5, 2.0, 4.0);
    for (int i = 0; i < 3; i++) {
        if (!done_f) { forward += along * STEPS[i]; end_f = luma_at(forward) - edge_luma; }
        if (!done_b) { backward -= along * STEPS[i]; end_b = luma_at(backward) - edge_luma; }
        done_f = done_f || abs(end_f) >= gradient;
        done_b = done_b || abs(end_b) >= gradient;
    }
    float to_f = horizontal ? forward.x - v_uv.x : forward.y - v_uv.y;
    float to_b = horizontal ? v_uv.x - backward.x : v_uv.y - backward.y;
    bool nearer_f = to_f < to_b;
    float nearest = min(to_f, to_b), length_ = to_f + to_b;
    // Blend only where the nearer end's luma falls on the far side of the edge from this pixel.
    bool m_below = m - edge_luma < 0.0;
    bool good = ((nearer_f ? end_f : end_b) < 0.0) != m_below;
    float offset = good ? 0.5 - nearest / length_ : 0.0;
    vec2 shift = offset * step_across * (horizontal ? vec2(0.0, 1.0) : vec2(1.0, 0.0));
    vec2 uv = v_uv + shift;
    o_color = vec4(texture(source, uv).rgb, centre.a);
}
"""
)

# FXAA's mask: every pixel's colour copied, depth 0 where FXAA's edge test finds an edge.
FXAA_EDGES = (
    _NEIGHBOURHOOD
    + """
void main() {
    ivec2 texel = ivec2(gl_FragCoord.xy), last = textureSize(source, 0) - 1;
    vec4 centre = texelFetch(source, texel, 0);
    float m = dot(centre.rgb, LUMA), n, s, e, w, high, low;
    cross_lumas(texel, last, m, n, s, e, w, high, low);
    o_color = centre;
    gl_FragDepth = on_edge(high, low) ? 0.0 : 1.0;
}
"""
)


class PostPass:
    """A full-screen pass reading `source` (the frame pass's colour) into a buffer of its
    own, drawn after the frame in the same `render_frame`."""

    def __init__(
        self, buffer: GraphicsOutput, source: Texture, fragment: str, mask: str | None = None
    ) -> None:
        """`mask`: a shader that copies `source` and writes depth 0 where `fragment` must run
        (the buffer needs a depth buffer); None: `fragment` runs on every pixel."""
        shader = program(fragment, f"{buffer.get_name()} pass's", POST_VERTEX)
        # The source is sampled between texels: filtered, clamped, no mipmaps.
        source.set_minfilter(SamplerState.FT_linear)
        source.set_magfilter(SamplerState.FT_linear)
        source.set_wrap_u(SamplerState.WM_clamp)
        source.set_wrap_v(SamplerState.WM_clamp)
        self.buffer = buffer
        self.root = NodePath("post")
        maker = CardMaker("screen")
        maker.set_frame_fullscreen_quad()
        self.marker: NodePath | None = None
        self.card = card = self.root.attach_new_node(maker.generate())
        card.set_shader(shader)
        card.set_shader_input("source", source)
        card.set_depth_write(False)
        if mask is None:
            card.set_depth_test(False)
        else:
            if buffer.get_fb_properties().get_depth_bits() == 0:
                raise RenderError("a masked post pass needs a buffer with a depth buffer")
            marks = program(mask, f"{buffer.get_name()} mask", POST_VERTEX)
            self.marker = marker = self.root.attach_new_node(maker.generate())
            marker.set_shader(marks)
            marker.set_shader_input("source", source)
            marker.set_attrib(DepthTestAttrib.make(RenderAttrib.M_always))  # writes every depth
            marker.set_depth_write(True)
            marker.set_bin("fixed", 0)
            # The card is at depth 0.5: it is drawn where the mask wrote 0.
            card.set_attrib(DepthTestAttrib.make(RenderAttrib.M_greater))
            card.set_bin("fixed", 1)
        lens = OrthographicLens()
        lens.set_film_size(2, 2)
        lens.set_near_far(-1, 1)
        camera = self.root.attach_new_node(Camera("post", lens))
        buffer.make_display_region().set_camera(camera)
        buffer.set_clear_color_active(False)
        buffer.set_clear_depth_active(False)

    def use(self, fragment: str) -> None:
        """Draw with `fragment` from now on (each one compiled once: engine.programs; the mask
        stays)."""
        self.card.set_shader(program(fragment, f"{self.buffer.get_name()} pass's", POST_VERTEX))
