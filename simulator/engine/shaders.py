"""GLSL for the passes. Hand-written: Panda3D's auto-shader does not run on the headless
pipe, and the labels must be exact (flat, unlit, unfiltered)."""

MAX_LIGHTS = 8

VERTEX = """
#version 330
uniform mat4 p3d_ModelViewProjectionMatrix;
uniform mat4 p3d_ModelViewMatrix;
uniform mat3 p3d_NormalMatrix;
in vec4 p3d_Vertex;
in vec3 p3d_Normal;
in vec2 p3d_MultiTexCoord0;
in vec4 p3d_Color;
out vec3 v_position;
out vec3 v_normal;
out vec2 v_uv;
out vec4 v_color;
void main() {
    gl_Position = p3d_ModelViewProjectionMatrix * p3d_Vertex;
    v_position = (p3d_ModelViewMatrix * p3d_Vertex).xyz;
    v_normal = p3d_NormalMatrix * p3d_Normal;
    v_uv = p3d_MultiTexCoord0;
    v_color = vec4(pow(p3d_Color.rgb, vec3(2.2)), p3d_Color.a);  // linear
}
"""

# The frame pass. Lit color to the color target: colors are given in sRGB, lit in linear
# space, written back as sRGB. Everything that is the same for a whole object is worked out
# once on the CPU (see Engine.render): base_color is already linear, and `surface` holds the
# Blinn-Phong shininess and normalization matching the roughness, and the metallic. Texture
# lookups (and their linearization) run only where `textured` is set.
#
# The shader is generated for the scene's lights (`frame_fragment`): one block of code per
# light, specialised to its kind and shadowing, with no loop or branch over lights. On the
# CPU renderer that is about a third cheaper than a loop over a uniform light count. Light i:
# light_vector[i] is the view-space direction towards a directional light (w = 0) or the
# view-space position of a point or spot light (w = 1); light_color[i] carries intensity;
# light_spot[i] is a spot light's view-space axis and the cosine of its half-angle.
#
# Besides the color, the frame pass writes the ground truth to two float32 auxiliary targets:
# (instance id, plane depth, ray distance, 1) and camera-space normals (OpenCV axes: x right,
# y down, z forward). Panda3D hands GLSL view space in OpenGL's axes: x right, y up, z towards
# the viewer, hence the sign flips.
_FRAME_HEAD = f"""
#version 330
uniform sampler2D p3d_Texture0;
uniform vec4 base_color;
uniform float textured;  // 1: multiply by p3d_Texture0
uniform vec3 surface;  // shininess, normalization, metallic
uniform vec3 ambient;
uniform vec4 light_vector[{MAX_LIGHTS}];
uniform vec4 light_color[{MAX_LIGHTS}];
uniform vec4 light_spot[{MAX_LIGHTS}];
uniform float instance_id;
in vec3 v_position;
in vec3 v_normal;
in vec2 v_uv;
in vec4 v_color;
layout(location = 0) out vec4 o_color;
layout(location = 1) out vec4 o_label;
layout(location = 2) out vec4 o_normal;
"""

_FRAME_MAIN = """
void main() {
    vec3 n = normalize(v_normal);
    if (!gl_FrontFacing) n = -n;
    vec3 view = normalize(-v_position);
    vec3 linear = base_color.rgb * v_color.rgb;
    if (textured > 0.5) linear *= pow(texture(p3d_Texture0, v_uv).rgb, vec3(2.2));
    // Metals have no diffuse part and tint their highlights; dielectrics reflect 4 %.
    vec3 diffuse = linear * (1.0 - surface.z);
    vec3 f0 = mix(vec3(0.04), linear, surface.z);
    vec3 light = ambient * (diffuse + f0);
    vec3 l;
    float attenuation;
LIGHTS
    o_color = vec4(pow(clamp(light, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
    // Ground truth, flat and unlit, in the same pass.
    o_label = vec4(instance_id, -v_position.z, length(v_position), 1.0);
    o_normal = vec4(n.x, -n.y, -n.z, 1.0);
}
"""

_TOWARDS = {
    "directional": "    l = light_vector[I].xyz;\n    attenuation = 1.0;\n",
    "point": (
        "    l = light_vector[I].xyz - v_position;\n"
        "    attenuation = 1.0 / max(dot(l, l), 1e-4);\n"
        "    l = normalize(l);\n"
    ),
}
_TOWARDS["spot"] = _TOWARDS["point"] + (
    "    // a spot: full inside the cone, fading over its edge\n"
    "    attenuation *= smoothstep(light_spot[I].w, light_spot[I].w + 0.25 * (1.0 - "
    "light_spot[I].w), dot(-l, light_spot[I].xyz));\n"
)
# A shadow-casting light: the fragment, pushed off its surface by about a texel of the map
# (`shadow_offset`, against acne), is looked up in the light's depth map with one bilinear
# depth comparison (2 x 2 texel percentage-closer filtering: a soft edge one texel wide).
# Four offset lookups would soften edges further but cost a third more on the CPU renderer.
_SHADOW = """    {
        vec4 s = shadow_matrix_I * vec4(v_position + n * shadow_offset_I, 1.0);
        s.xyz /= s.w;
        s.z = min(s.z, 1.0);
        attenuation *= texture(shadow_map_I, s.xyz);
    }
"""
_SHADOW_UNIFORMS = """uniform sampler2DShadow shadow_map_I;
uniform mat4 shadow_matrix_I;
uniform float shadow_offset_I;
"""

_SHADE = """    {
        float ndl = max(dot(n, l), 0.0);
        vec3 h = normalize(l + view);
        vec3 specular = f0 * surface.y * pow(max(dot(n, h), 0.0), surface.x);
        light += attenuation * light_color[I].rgb * ndl * (diffuse + specular);
    }
"""


def frame_fragment(lights: tuple[str, ...]) -> str:
    """The frame pass's fragment shader for these lights, in order (no ambient): each one
    "directional", "point" or "spot", with ":shadow" when it casts shadows."""
    if len(lights) > MAX_LIGHTS:
        raise ValueError(f"at most {MAX_LIGHTS} lights besides the ambient")
    uniforms, blocks = [], []
    for i, light in enumerate(lights):
        kind, _, shadow = light.partition(":")
        code = _TOWARDS[kind]
        if shadow:
            uniforms.append(_SHADOW_UNIFORMS.replace("_I", f"_{i}"))
            code += _SHADOW.replace("_I", f"_{i}")
        blocks.append((code + _SHADE).replace("[I]", f"[{i}]"))
    main = _FRAME_MAIN.replace("LIGHTS\n", "".join(blocks))
    return _FRAME_HEAD + "".join(uniforms) + main


# The shadow passes: depth only.
SHADOW_FRAGMENT = """
#version 330
void main() {
}
"""

# The solo passes (visibility): instance ids only, into a float32 red target.
SOLO_FRAGMENT = """
#version 330
uniform float instance_id;
out vec4 o_label;
void main() {
    o_label = vec4(instance_id, 0.0, 0.0, 1.0);
}
"""

# The backdrop: a background image drawn unlit behind everything, in the frame pass only;
# to the labels it is background.
BACKDROP_FRAGMENT = """
#version 330
uniform sampler2D p3d_Texture0;
in vec2 v_uv;
layout(location = 0) out vec4 o_color;
layout(location = 1) out vec4 o_label;
layout(location = 2) out vec4 o_normal;
void main() {
    o_color = vec4(texture(p3d_Texture0, v_uv).rgb, 1.0);
    o_label = vec4(0.0);
    o_normal = vec4(0.0);
}
"""
