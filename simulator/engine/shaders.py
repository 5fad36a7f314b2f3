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
ALBEDO
    // Metals have no diffuse part and tint their highlights; dielectrics reflect 4 %.
    vec3 diffuse = linear * (1.0 - surface_px.z);
    vec3 f0 = mix(vec3(0.04), linear, surface_px.z);
    vec3 light = ambient * (diffuse + f0)OCCLUSION;
    vec3 l;
    float attenuation;
LIGHTS
EMISSION
    o_color = vec4(pow(clamp(light, 0.0, 1.0), vec3(1.0 / 2.2)), ALPHA);
    // Ground truth, flat and unlit, in the same pass.
    o_label = vec4(instance_id, -v_position.z, length(v_position), COVERED);
    o_normal = vec4(n.x, -n.y, -n.z, COVERED);
}
"""

# The parts of the frame pass that differ between plain meshes (procedural shapes, model
# files: exactly the shader sim always had) and meshes with materials (see
# engine.materials): the material variant multiplies in the texture's alpha, cuts MASK
# surfaces below their cutoff (discard: the label targets lose those pixels too), writes a
# BLEND surface's alpha for blending and marks where it counts in the labels (alpha >=
# alpha_mode.x: the label targets blend with that 0 or 1, which is exact), reads roughness
# and metallic from the metallic-roughness map, darkens the ambient by the occlusion map and
# adds the emissive light. The normal map is bound but not used yet (it needs tangents).
_PLAIN = {
    "ALBEDO": """    vec3 linear = base_color.rgb * v_color.rgb;
    if (textured > 0.5) linear *= pow(texture(p3d_Texture0, v_uv).rgb, vec3(2.2));
    vec3 surface_px = surface;""",
    "OCCLUSION": "",
    "EMISSION": "",
    "ALPHA": "1.0",
    "COVERED": "1.0",
}
_MATERIAL = {
    "ALBEDO": """    vec4 albedo = base_color * v_color;
    if (textured > 0.5) {
        vec4 texel = texture(p3d_Texture0, v_uv);
        albedo *= vec4(pow(texel.rgb, vec3(2.2)), texel.a);
    }
    if (alpha_mode.y < 0.5 && albedo.a < alpha_mode.x) discard;
    vec3 linear = albedo.rgb;
    vec3 surface_px = surface;
    if (material.w > 0.5) {  // glTF's metallic-roughness map: roughness in G, metallic in B
        vec3 mr = texture(metallic_roughness_map, v_uv).rgb;
        float r = material.x * mr.g;
        float a = max(r * r, 0.02);
        float shininess = 2.0 / (a * a) - 2.0;
        surface_px = vec3(shininess, (shininess + 8.0) / (8.0 * 3.14159265), material.y * mr.b);
    }""",
    "OCCLUSION": " * mix(1.0, texture(occlusion_map, v_uv).r, material.z)",
    "EMISSION": "    light += emissive * pow(texture(emissive_map, v_uv).rgb, vec3(2.2));",
    "ALPHA": "alpha_mode.y > 0.5 ? albedo.a : 1.0",
    "COVERED": "albedo.a >= alpha_mode.x ? 1.0 : 0.0",
}
# alpha_mode: (cutoff, 1 for BLEND); material: (roughness, metallic, occlusion strength,
# 1 where the metallic-roughness map is used); emissive: linear.
MATERIAL_UNIFORMS = """uniform vec2 alpha_mode;
uniform vec4 material;
uniform vec3 emissive;
uniform sampler2D metallic_roughness_map;
uniform sampler2D occlusion_map;
uniform sampler2D emissive_map;
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
        vec3 specular = f0 * surface_px.y * pow(max(dot(n, h), 0.0), surface_px.x);
        light += attenuation * light_color[I].rgb * ndl * (diffuse + specular);
    }
"""


def frame_fragment(lights: tuple[str, ...], material: bool = False) -> str:
    """The frame pass's fragment shader for these lights, in order (no ambient): each one
    "directional", "point" or "spot", with ":shadow" when it casts shadows. `material`: the
    variant for meshes with materials."""
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
    for hook, code in (_MATERIAL if material else _PLAIN).items():
        main = main.replace(hook, code)
    if material:
        uniforms.append(MATERIAL_UNIFORMS)
    return _FRAME_HEAD + "".join(uniforms) + main.replace("\n\n", "\n")


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

# The solo and shadow passes of meshes with materials: a surface is there where the frame
# pass's label targets keep it (alpha >= alpha_mode.x; 0 for opaque surfaces).
_CUT = """
#version 330
uniform sampler2D p3d_Texture0;
uniform vec4 base_color;
uniform float textured;
uniform vec2 alpha_mode;
in vec2 v_uv;
in vec4 v_color;
OUTPUTS
void main() {
    float alpha = base_color.a * v_color.a;
    if (textured > 0.5) alpha *= texture(p3d_Texture0, v_uv).a;
    if (alpha < alpha_mode.x) discard;
WRITE
}
"""
SOLO_MATERIAL_FRAGMENT = _CUT.replace("OUTPUTS", "uniform float instance_id;\nout vec4 o_label;")
SOLO_MATERIAL_FRAGMENT = SOLO_MATERIAL_FRAGMENT.replace(
    "WRITE", "    o_label = vec4(instance_id, 0.0, 0.0, 1.0);"
)
SHADOW_MATERIAL_FRAGMENT = _CUT.replace("OUTPUTS\n", "").replace("WRITE\n", "")

# The parts pass (labels.parts), in the solo buffer: each pixel's part code (0: no part).
SOLO_PART_FRAGMENT = SOLO_FRAGMENT.replace("instance_id", "part")
SOLO_PART_MATERIAL_FRAGMENT = SOLO_MATERIAL_FRAGMENT.replace("instance_id", "part")

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
