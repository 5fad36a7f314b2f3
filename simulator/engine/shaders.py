"""GLSL for the passes. Hand-written: Panda3D's auto-shader does not run on the headless
pipe, and the labels must be exact (flat, unlit, unfiltered)."""

MAX_LIGHTS = 8
MAX_OCCLUDERS = 16  # contact occlusion: the proxies a fragment is darkened by

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
    // sRGB-encoded vertex colours to linear light (IEC 61966-2-1)
    vec3 c = p3d_Color.rgb;
    v_color = vec4(mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(0.04045, c)),
                   p3d_Color.a);
}
"""

# The frame pass. Lit color to the color target: colors are given in sRGB and lit in linear
# space with the glTF 2.0 metallic-roughness BRDF: Lambert diffuse, and Cook-Torrance specular
# with the GGX distribution, the height-correlated Smith visibility and Schlick's Fresnel
# (the glTF specification's appendix B; Karis 2013). Everything that is the same for a whole
# object is worked out on the CPU (see Engine.render): base_color is already linear, `surface`
# is (roughness, metallic, 0). Texture lookups run only where `textured` is set. Colour
# textures (base colour, emissive) are sRGB textures, decoded by the sampler before it
# filters (engine.surfaces.make_texture); vertex colours are decoded in the vertex shader,
# both by the exact sRGB curve.
#
# Light units: a light's `light_color` is its irradiance over pi, so a white Lambertian
# surface facing a light of intensity 1 has radiance 1. Light from every direction comes from
# the `ambient` (a uniform environment) and, in the environment variant, from the scene's
# environment map: its irradiance as 9 spherical-harmonic coefficients (`env_sh`, Ramamoorthi
# and Hanrahan 2001) and its GGX-prefiltered radiance as a mip chain by roughness
# (`env_specular`), both combined with the BRDF lookup table (`brdf_lut`: the split sum).
#
# The shader is generated for the scene's lights (`frame_fragment`): one block of code per
# light, specialised to its kind and shadowing, with no loop or branch over lights. On the
# CPU renderer that is about a third cheaper than a loop over a uniform light count. Light i:
# light_vector[i] is the view-space direction towards a directional light (w = 0) or the
# view-space position of a point or spot light (w = 1); light_color[i] carries intensity;
# light_spot[i] is a spot light's view-space axis and the cosine of its half-angle.
#
# The camera: the radiance is scaled by `film.x` (exposure times white balance are in
# `film_gain`), then mapped by the tone curve (TONE: "clamp", the old look with its 2.2 gamma;
# "linear", clamped with the exact sRGB curve; "aces", the fitted ACES filmic curve), or,
# multisampled, by the curve alone, its encoding left to the encoding pass (`display_linear`).
#
# Besides the color, the frame pass writes the ground truth to two float32 auxiliary targets:
# (instance id, plane depth, ray distance, 1) and camera-space normals (OpenCV axes: x right,
# y down, z forward). Panda3D hands GLSL view space in OpenGL's axes: x right, y up, z towards
# the viewer, hence the sign flips. The labels use the interpolated geometric normal, never a
# normal map's.
_FRAME_HEAD = f"""
#version 330
uniform sampler2D p3d_Texture0;
uniform sampler2D brdf_lut;
uniform vec4 base_color;
uniform float textured;  // 1: multiply by p3d_Texture0
uniform vec3 surface;  // roughness, metallic, 0
uniform vec3 ambient;
uniform vec3 film_gain;  // exposure x white balance
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
const float PI = 3.14159265;
"""

_FRAME_MAIN = """
void main() {
    vec3 n = normalize(v_normal);
    if (!gl_FrontFacing) n = -n;
    vec3 view = normalize(-v_position);
ALBEDO
NORMAL_MAP
    float roughness = clamp(surface_px.x, 0.0, 1.0);
    float a = max(roughness * roughness, 0.002);
    float a2 = a * a;
    // Metals have no diffuse part and tint their reflection; dielectrics reflect 4 %.
    vec3 diffuse = linear * (1.0 - surface_px.y);
    vec3 f0 = mix(vec3(0.04), linear, surface_px.y);
    float nv = max(dot(ns, view), 1e-4);
    float lambda_v = sqrt(nv * nv * (1.0 - a2) + a2);
    // the table's texel centres run from 0 to 1 (engine.ibl.lut_axes)
    vec2 lut_size = vec2(textureSize(brdf_lut, 0));
    vec2 split = texture(brdf_lut, (0.5 + vec2(nv, roughness) * (lut_size - 1.0)) / lut_size).rg;
    // The split sum's specular weight; the diffuse takes what the specular leaves (so a
    // white dielectric in a uniform environment renders exactly at its radiance).
    vec3 reflected = f0 * split.x + split.y;
    vec3 scattered = diffuse * (1.0 - reflected);
    vec3 light = ambient * (scattered + reflected);
ENVIRONMENT
    light *= OCCLUSION;
CONTACT
    vec3 l;
    float attenuation;
LIGHTS
EMISSION
    light *= film_gain;
TONE
    o_color = vec4(rgb, ALPHA);
    // Ground truth, flat and unlit, in the same pass.
    o_label = vec4(instance_id, -v_position.z, length(v_position), COVERED);
    o_normal = vec4(n.x, -n.y, -n.z, COVERED);
}
"""

# The parts of the frame pass that differ between plain meshes (procedural shapes, model
# files without materials) and meshes with materials (see engine.materials): the material
# variant multiplies in the texture's alpha, cuts MASK surfaces below their cutoff (discard:
# the label targets lose those pixels too), writes a BLEND surface's alpha for blending and
# marks where it counts in the labels (alpha >= alpha_mode.x: the label targets blend with
# that 0 or 1, which is exact), reads roughness and metallic from the metallic-roughness map,
# bends the shading normal by the normal map (tangent space, with the tangent frame from
# screen-space derivatives: Schueler 2013, no tangents needed in the mesh), darkens the
# ambient and environment light by the occlusion map and adds the emissive light.
_PLAIN = {
    "ALBEDO": """    vec3 linear = base_color.rgb * v_color.rgb;
    if (textured > 0.5) linear *= texture(p3d_Texture0, v_uv).rgb;  // an sRGB texture
    vec3 surface_px = surface;""",
    "NORMAL_MAP": "    vec3 ns = n;",
    "OCCLUSION": "1.0",
    "EMISSION": "",
    "ALPHA": "1.0",
    "COVERED": "1.0",
}
# The material variant is generated for the features the materials drawn with it use
# (`material_parts`, engine.materials.features): the CPU renderer runs a branch's code for
# every pixel even where a uniform turns it off, so a block that no material of the variant
# needs is left out (a third of a frame's shading for parts without maps). Each block keeps its
# uniform test, so a material that lacks a feature its variant has renders as it would alone.
MATERIAL_FEATURES = ("base", "cutout", "mr", "orm", "occlusion", "normal", "emissive")
_NORMAL_MAP = """    vec3 ns = n;
    if (normal_scale != 0.0) {
        vec3 dp1 = dFdx(v_position), dp2 = dFdy(v_position);
        vec2 duv1 = dFdx(uv), duv2 = dFdy(uv);
        vec3 dp2perp = cross(dp2, n), dp1perp = cross(n, dp1);
        vec3 t = dp2perp * duv1.x + dp1perp * duv2.x;
        vec3 b = dp2perp * duv1.y + dp1perp * duv2.y;
        float inv = inversesqrt(max(dot(t, t), dot(b, b)) + 1e-20);
        vec3 m = texture(normal_map, uv).xyz * 2.0 - 1.0;
        m.xy *= normal_scale;
        vec3 bent = mat3(t * inv, b * inv, n) * m;
        if (dot(bent, bent) > 1e-12) ns = normalize(bent);
    }"""


def material_parts(features: frozenset[str] | None = None) -> dict[str, str]:
    """The material variant's code for the hooks of _FRAME_MAIN, with the blocks of these
    features (MATERIAL_FEATURES; None: all of them): "base" a base colour texture, "cutout"
    alpha MASK, "mr" a metallic-roughness map, "orm" an occlusion map that is the
    metallic-roughness map itself (glTF's packing: read once), "occlusion" an occlusion map of
    its own, "normal" a normal map, "emissive" emitted light."""
    has = set(MATERIAL_FEATURES if features is None else features)
    unknown = has - set(MATERIAL_FEATURES)
    if unknown:
        raise ValueError(f"unknown material features {sorted(unknown)}")
    albedo = ["    vec2 uv = v_uv * texture_scale;", "    vec4 albedo = base_color * v_color;"]
    if "base" in has:
        albedo.append("    if (textured > 0.5) albedo *= texture(p3d_Texture0, uv);  // sRGB")
    if "cutout" in has:
        albedo.append("    if (alpha_mode.y < 0.5 && albedo.a < alpha_mode.x) discard;")
    albedo += ["    vec3 linear = albedo.rgb;", "    vec3 surface_px = surface;"]
    # glTF's metallic-roughness map: roughness in G, metallic in B (and occlusion in R)
    from_map = "surface_px = vec3(material.x * mr.g, material.y * mr.b, 0.0);"
    if "orm" in has:
        albedo.append("    vec3 mr = texture(metallic_roughness_map, uv).rgb;")
        albedo.append(f"    if (material.w > 0.5) {from_map}")
    elif "mr" in has:
        albedo.append("    if (material.w > 0.5) {")
        albedo.append("        vec3 mr = texture(metallic_roughness_map, uv).rgb;")
        albedo.append(f"        {from_map}\n    }}")
    occlusion = "1.0"
    if "occlusion" in has:
        occlusion = "(material.z > 0.0 ? mix(1.0, texture(occlusion_map, uv).r, material.z) : 1.0)"
    elif "orm" in has:
        occlusion = "(material.z > 0.0 ? mix(1.0, mr.r, material.z) : 1.0)"
    emission = ""
    if "emissive" in has:
        emission = """    if (emissive != vec3(0.0))
        light += emissive * texture(emissive_map, uv).rgb;"""
    return {
        "ALBEDO": "\n".join(albedo),
        "NORMAL_MAP": _NORMAL_MAP if "normal" in has else "    vec3 ns = n;",
        "OCCLUSION": occlusion,
        "EMISSION": emission,
        "ALPHA": "alpha_mode.y > 0.5 ? albedo.a : 1.0",
        "COVERED": "albedo.a >= alpha_mode.x ? 1.0 : 0.0",
    }


# The labels-only variant's material part (with anti-aliasing): alpha, where it matters.
_LABEL_ALBEDO = """    vec4 albedo = vec4(1.0);
    if (alpha_mode.x > 0.0) {
        albedo.a = base_color.a * v_color.a;
        if (textured > 0.5) albedo.a *= texture(p3d_Texture0, v_uv * texture_scale).a;
        if (alpha_mode.y < 0.5 && albedo.a < alpha_mode.x) discard;
    }"""
# alpha_mode: (cutoff, 1 for BLEND); material: (roughness, metallic, occlusion strength,
# 1 where the metallic-roughness map is used); emissive: linear; normal_scale: 0 where there
# is no normal map; texture_scale multiplies the texture coordinates.
MATERIAL_UNIFORMS = """uniform vec2 alpha_mode;
uniform vec2 texture_scale;
uniform vec4 material;
uniform vec3 emissive;
uniform float normal_scale;
uniform sampler2D metallic_roughness_map;
uniform sampler2D occlusion_map;
uniform sampler2D emissive_map;
uniform sampler2D normal_map;
"""

# Where a direction falls in an environment image: Blender's layout (scene.environment), with
# texture rows bottom first. Shared by the lit surfaces and the backdrop.
_EQUIRECT = """vec2 equirect(vec3 d) {
    return vec2(0.5 - atan(d.y, d.x) / (2.0 * PI), 0.5 + asin(clamp(d.z, -1.0, 1.0)) / PI);
}
"""

# The environment map's light (engine.environment uploads it): diffuse from the irradiance's
# spherical harmonics, specular from the prefiltered mip level of the roughness along the
# reflected ray. `view_to_env` turns view-space directions into the environment image's own
# axes (camera pose and the environment's rotation in one matrix); env_info: (intensity,
# highest mip level).
ENVIRONMENT_UNIFORMS = (
    """uniform sampler2D env_specular;
uniform vec3 env_sh[9];
uniform mat4 view_to_env;
uniform vec2 env_info;
"""
    + _EQUIRECT
    + """vec3 irradiance(vec3 d) {
    return max(env_sh[0] * 0.282095
        + env_sh[1] * (0.488603 * d.y) + env_sh[2] * (0.488603 * d.z)
        + env_sh[3] * (0.488603 * d.x) + env_sh[4] * (1.092548 * d.x * d.y)
        + env_sh[5] * (1.092548 * d.y * d.z) + env_sh[6] * (0.315392 * (3.0 * d.z * d.z - 1.0))
        + env_sh[7] * (1.092548 * d.x * d.z) + env_sh[8] * (0.546274 * (d.x * d.x - d.y * d.y)),
        vec3(0.0));
}
"""
)
_ENVIRONMENT = """    {
        vec3 r = mat3(view_to_env) * reflect(-view, ns);
        vec3 prefiltered = textureLod(env_specular, equirect(r), roughness * env_info.y).rgb;
        light += env_info.x * (scattered * irradiance(mat3(view_to_env) * ns) / PI
            + prefiltered * reflected);
    }"""

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
# A directional light with a size: percentage-closer soft shadows (Fernando 2005). Eight
# lookups of the depths around the fragment find the blockers; their mean distance from the
# receiver sets the penumbra's width (wider further from what casts it: sharp at contact),
# over which twelve comparisons are averaged. The taps turn by a per-pixel angle
# (interleaved gradient noise, Jimenez 2014: fixed per pixel, so frames stay deterministic),
# which trades banding for fine grain. Where no blocker is found the filter is skipped by a
# loop of no taps, not an `if`: the CPU renderer runs both sides of an `if` for a whole block
# of pixels (masked), but leaves a loop once no pixel of the block is still in it, so the
# blocks in full light pay for one tap, not twelve (about a quarter of a frame's CPU time
# under a sky; the same bytes).
_SOFT_SHADOW = """    {
        vec4 s = shadow_matrix_I * vec4(v_position + n * shadow_offset_I, 1.0);
        s.xyz /= s.w;
        s.z = min(s.z, 1.0);
        float turn = 6.2831853 * fract(52.9829189 * fract(dot(gl_FragCoord.xy,
            vec2(0.06711056, 0.00583715))));
        mat2 spin = mat2(cos(turn), sin(turn), -sin(turn), cos(turn));
        // The receiver's own slope in the map (receiver plane depth bias, Isidoro 2006): a
        // tap beside the fragment compares with the receiver's depth there, so a surface
        // never shadows itself however wide the search.
        vec3 sx = dFdx(s.xyz), sy = dFdy(s.xyz);
        float det = sx.x * sy.y - sx.y * sy.x;
        vec2 slope = abs(det) > 1e-12
            ? vec2(sy.y * sx.z - sx.y * sy.z, sx.x * sy.z - sy.x * sx.z) / det : vec2(0.0);
        slope = clamp(slope, -4.0, 4.0);
        float blockers = 0.0, found = 0.0;
        for (int k = 0; k < 8; k++) {
            vec2 o = spin * DISK[k] * shadow_soft_I.y;
            float depth = texture(shadow_depth_I, s.xy + o).r;
            float here = s.z + dot(slope, o) - 0.002;
            if (depth < here) { blockers += here - depth; found += 1.0; }
        }
        float width = blockers / max(found, 1.0) * shadow_soft_I.x;
        float radius = clamp(0.5 * width, 1.0 / 1024.0, shadow_soft_I.y);
        float lit = 0.0;
        int taps = found > 0.0 ? 12 : 0;
        for (int k = 0; k < taps; k++) {
            vec2 o = spin * DISK[k + 8] * radius;
            lit += texture(shadow_map_I, vec3(s.xy + o, s.z + dot(slope, o)));
        }
        if (found > 0.0) attenuation *= lit / 12.0;
    }
"""
_SOFT_UNIFORMS = """uniform sampler2D shadow_depth_I;
uniform vec2 shadow_soft_I;
"""
# Points spread over the unit disc: 8 for the blocker search, then 12 for the filter.
_DISK = """const vec2 DISK[20] = vec2[20](
    vec2(0.35, 0.0), vec2(-0.25, 0.61), vec2(-0.53, -0.4), vec2(0.44, -0.63),
    vec2(0.95, 0.22), vec2(0.06, 0.98), vec2(-0.96, 0.19), vec2(-0.2, -0.95),
    vec2(0.2, 0.08), vec2(-0.21, 0.41), vec2(-0.34, -0.31), vec2(0.27, -0.45),
    vec2(0.62, 0.36), vec2(-0.02, 0.77), vec2(-0.73, 0.02), vec2(-0.12, -0.72),
    vec2(0.74, -0.5), vec2(0.38, 0.86), vec2(-0.83, 0.52), vec2(-0.6, -0.77));
"""

# Contact occlusion (engine.occlusion): the light from every direction (the ambient and the
# environment) that other objects hide from a surface, each object an ellipsoid proxy (its
# box's inscribed ellipsoid). In the proxy's own frame it is the unit sphere, and a unit
# sphere at distance l whose centre lies at angle theta from the normal hides cos(theta) / l^2
# of the cosine-weighted hemisphere (exact while the sphere is wholly above the horizon; Quilez
# 2006). Proxies combine as independent occluders, fade out from 2 to 4 radii, and never
# darken their own object. occluder_bounds is each proxy's view-space centre and the square
# of 4 times its longest axis (beyond it the proxy is past 4 radii in every direction): the
# first, cheap test, which most fragments fail for most proxies. occluder_to_unit maps view
# space into the proxy's frame, occluder_normal maps normals there (the inverse transpose).
_CONTACT_UNIFORMS = f"""uniform int occluder_count;
uniform mat4 occluder_to_unit[{MAX_OCCLUDERS}];
uniform mat4 occluder_normal[{MAX_OCCLUDERS}];
uniform float occluder_id[{MAX_OCCLUDERS}];
uniform vec4 occluder_bounds[{MAX_OCCLUDERS}];
float contact_occlusion(vec3 p, vec3 n) {{
    float visible = 1.0;
    for (int i = 0; i < occluder_count; i++) {{
        vec3 r = p - occluder_bounds[i].xyz;
        if (dot(r, r) >= occluder_bounds[i].w || occluder_id[i] == instance_id) continue;
        vec3 q = (occluder_to_unit[i] * vec4(p, 1.0)).xyz;
        float l2 = dot(q, q);
        vec3 m = normalize(mat3(occluder_normal[i]) * n);
        float facing = clamp(dot(m, -q) * inversesqrt(l2), 0.0, 1.0);
        visible *= 1.0 - facing / max(l2, 1.0) * (1.0 - smoothstep(4.0, 16.0, l2));
    }}
    return visible;
}}
"""
_CONTACT = "    light *= contact_occlusion(v_position, ns);"

# One light through the BRDF: radiance = E / pi * n.l * (diffuse (1 - F) + pi D V F).
_SHADE = """    {
        float nl = max(dot(ns, l), 0.0);
        vec3 h = normalize(l + view);
        float nh = max(dot(ns, h), 0.0);
        float q = nh * nh * (a2 - 1.0) + 1.0;
        float d = a2 / (PI * q * q);
        float visibility = 0.5 / (nl * lambda_v + nv * sqrt(nl * nl * (1.0 - a2) + a2) + 1e-7);
        vec3 fresnel = f0 + (1.0 - f0) * pow(1.0 - max(dot(view, h), 0.0), 5.0);
        light += attenuation * light_color[I].rgb * nl
            * (diffuse * (1.0 - fresnel) + PI * d * visibility * fresnel);
    }
"""

# The tone curves: radiance (after the film gain) to the sRGB-encoded color target, in two
# steps: the curve itself, to the light the display shows (display-linear, in [0, 1]), then
# the encoding of that light into the target's values ("clamp": the 2.2 gamma; "linear" and
# "aces": the sRGB curve). These are their one definition: the frame pass maps each
# fragment's light, and the tone pass (engine.radiance) maps a motion-blurred frame's averaged
# light, with the same code. With multisampling the frame pass stops before the encoding
# (`display_linear`), so that the samples are averaged in linear light, and the encoding pass
# (`encoding_fragment`) encodes the resolved image.
TONES = ("clamp", "linear", "aces")
# Not a tone curve: the frame pass writes the radiance itself, into a float target (motion
# blur's sub-frames, engine.radiance).
RADIANCE = "radiance"
_CURVE = {
    "clamp": "clamp(light, 0.0, 1.0)",
    "linear": "clamp(light, 0.0, 1.0)",
    "aces": "aces(light)",
}
_ENCODING = {
    "clamp": "pow(SHOWN, vec3(1.0 / 2.2))",
    "linear": "encode_srgb(SHOWN)",
    "aces": "encode_srgb(SHOWN)",
}
_DECODING = {
    "clamp": "pow(SHOWN, vec3(2.2))",
    "linear": "decode_srgb(SHOWN)",
    "aces": "decode_srgb(SHOWN)",
}


def display_linear(tone: str) -> str:
    """The frame pass's `tone` argument for the tone curve `tone` without its encoding: the
    display-linear light, into a float target (multisampling's colour: engine.context)."""
    return f"{tone}:display-linear"


_TONE = {
    RADIANCE: "    vec3 rgb = light;",
    **{tone: f"    vec3 rgb = {_ENCODING[tone].replace('SHOWN', _CURVE[tone])};" for tone in TONES},
    **{display_linear(tone): f"    vec3 rgb = {_CURVE[tone]};" for tone in TONES},
}
# sRGB's transfer function (IEC 61966-2-1) and Stephen Hill's fit of the ACES reference
# rendering and output transforms (sRGB primaries in and out, matrices by column).
_TONE_FUNCTIONS = """vec3 encode_srgb(vec3 c) {
    return mix(12.92 * c, 1.055 * pow(c, vec3(1.0 / 2.4)) - 0.055, step(0.0031308, c));
}
vec3 aces(vec3 c) {
    const mat3 into = mat3(0.59719, 0.07600, 0.02840, 0.35458, 0.90834, 0.13383,
                           0.04823, 0.01566, 0.83777);
    const mat3 out_of = mat3(1.60475, -0.10208, -0.00327, -0.53108, 1.10813, -0.07276,
                             -0.07367, -0.00605, 1.07602);
    vec3 v = into * c;
    v = (v * (v + 0.0245786) - 0.000090537) / (v * (0.983729 * v + 0.4329510) + 0.238081);
    return clamp(out_of * v, 0.0, 1.0);
}
"""


def frame_fragment(
    lights: tuple[str, ...],
    material: bool | frozenset[str] = False,
    environment: bool = False,
    tone: str = "clamp",
    labels_only: bool = False,
    contact: bool = False,
) -> str:
    """The frame pass's fragment shader for these lights, in order (no ambient): each one
    "directional", "point" or "spot", with ":shadow" when it casts shadows (":soft" for a
    directional light with a size). `material`: the variant for meshes with materials, True
    for every feature or the features its materials use (material_parts); `environment`:
    with an environment map's light;
    `tone`: one of TONES, a tone's `display_linear` (its curve without the encoding, for a
    float target), or RADIANCE (the light itself, for a float target);
    `labels_only`: the labels alone, the color left black (with anti-aliasing another pass
    draws the color); `contact`: with contact occlusion."""
    if len(lights) > MAX_LIGHTS:
        raise ValueError(f"at most {MAX_LIGHTS} lights besides the ambient")
    if tone not in _TONE:
        raise ValueError(f"unknown tone curve {tone!r}; one of {', '.join(TONES)}")
    uniforms, blocks = [], []
    for i, light in enumerate(lights):
        kind, _, shadow = light.partition(":")
        code = _TOWARDS[kind]
        if shadow:
            uniforms.append(_SHADOW_UNIFORMS.replace("_I", f"_{i}"))
        if shadow == "soft":
            uniforms.append(_SOFT_UNIFORMS.replace("_I", f"_{i}"))
            code += _SOFT_SHADOW.replace("_I", f"_{i}")
        elif shadow:
            code += _SHADOW.replace("_I", f"_{i}")
        blocks.append((code + _SHADE).replace("[I]", f"[{i}]"))
    main = _FRAME_MAIN
    if labels_only:
        lit = main[main.index("NORMAL_MAP") : main.index("    o_color")]
        main, blocks = main.replace(lit, "    vec3 rgb = vec3(0.0);\n"), []
        if material:  # only the alpha counts, and only where there is a cutoff
            main = main.replace("ALBEDO", _LABEL_ALBEDO)
    main = main.replace("LIGHTS\n", "".join(blocks))
    main = main.replace("ENVIRONMENT", _ENVIRONMENT if environment else "")
    main = main.replace("CONTACT", _CONTACT if contact else "")
    main = main.replace("TONE", _TONE[tone])
    parts = _PLAIN
    if material:
        parts = material_parts(None if material is True else material)
    for hook, code in parts.items():
        main = main.replace(hook, code)
    if material:
        uniforms.append(MATERIAL_UNIFORMS)
    if environment:
        uniforms.append(ENVIRONMENT_UNIFORMS)
    if contact and not labels_only:
        uniforms.append(_CONTACT_UNIFORMS)
    disk = _DISK if any(light.endswith(":soft") for light in lights) else ""
    head = _FRAME_HEAD + "".join(uniforms) + disk + _TONE_FUNCTIONS
    return head + "\n".join(line for line in main.split("\n") if line.strip()) + "\n"


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
uniform vec2 texture_scale;
in vec2 v_uv;
in vec4 v_color;
OUTPUTS
void main() {
    if (alpha_mode.x > 0.0) {  // opaque surfaces (cutoff 0) skip the lookup
        float alpha = base_color.a * v_color.a;
        if (textured > 0.5) alpha *= texture(p3d_Texture0, v_uv * texture_scale).a;
        if (alpha < alpha_mode.x) discard;
    }
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


# The environment behind the scene: each pixel shows the environment image along its view
# ray (the backdrop card's view-space position), through the film and the tone curve.
_ENVIRONMENT_BACKDROP = """
#version 330
uniform sampler2D env_image;
uniform mat4 view_to_env;
uniform vec2 env_info;
uniform vec3 film_gain;
in vec3 v_position;
layout(location = 0) out vec4 o_color;
layout(location = 1) out vec4 o_label;
layout(location = 2) out vec4 o_normal;
const float PI = 3.14159265;
"""


def environment_fragment(tone: str) -> str:
    """The backdrop's shader when it shows the scene's environment."""
    body = f"""
void main() {{
    vec3 d = normalize(mat3(view_to_env) * v_position);
    vec3 light = env_info.x * textureLod(env_image, equirect(d), 0.0).rgb * film_gain;
{_TONE[tone]}
    o_color = vec4(rgb, 1.0);
    o_label = vec4(0.0);
    o_normal = vec4(0.0);
}}
"""
    return _ENVIRONMENT_BACKDROP + _EQUIRECT + _TONE_FUNCTIONS + body


# A picture behind the scene (a background image or colour) is already through the tone
# curve: where the frame is drawn as radiance (engine.radiance), it is drawn as the light the
# curve maps to it, so that the tone pass gives its colour back; where it is drawn as
# display-linear light (multisampling), as the light that the encoding maps to it, so that
# the encoding pass gives its colour back. Exact inverses: the 2.2 gamma, the sRGB curve, and
# the ACES fit taken apart: out_of is an M-matrix (positive diagonal, negative elsewhere,
# columns diagonally dominant), so its inverse is nonnegative and maps [0, 1]^3 into [0, 1]^3
# (out_of keeps grey: its rows sum to 1), where the rational curve, rising from -0.00038 at 0
# to 1.0165 at infinity, is solved per channel (a quadratic, in the form without cancellation
# for either sign of its middle coefficient). Display black goes back to the curve's zero
# crossing (0.0033), white to 25.7.
_UNTONE_FUNCTIONS = """vec3 decode_srgb(vec3 c) {
    return mix(c / 12.92, pow((c + 0.055) / 1.055, vec3(2.4)), step(0.04045, c));
}
vec3 aces_inverse(vec3 y) {
    const mat3 into = mat3(0.59719, 0.07600, 0.02840, 0.35458, 0.90834, 0.13383,
                           0.04823, 0.01566, 0.83777);
    const mat3 out_of = mat3(1.60475, -0.10208, -0.00327, -0.53108, 1.10813, -0.07276,
                             -0.07367, -0.00605, 1.07602);
    vec3 w = clamp(inverse(out_of) * y, 0.0, 1.0);
    // (1 - 0.983729 w) v^2 + (0.0245786 - 0.4329510 w) v - (0.000090537 + 0.238081 w) = 0
    vec3 a = 1.0 - 0.983729 * w;
    vec3 b = 0.0245786 - 0.4329510 * w;
    vec3 c = 0.000090537 + 0.238081 * w;
    vec3 root = sqrt(b * b + 4.0 * a * c);
    vec3 v = mix(2.0 * c / (b + root), (root - b) / (2.0 * a), step(b, vec3(0.0)));
    return inverse(into) * v;
}
"""
_CURVE_INVERSE = {"clamp": "SHOWN", "linear": "SHOWN", "aces": "aces_inverse(SHOWN)"}
# As display-linear light, a picture is first rounded to the byte it shows as without
# multisampling (the colour target's own rounding, to nearest even), so that the encoding
# pass, within a few ulps of that byte, rounds to it: flat backdrops are the same bytes.
_BYTE = "(roundEven(clamp(SHOWN, 0.0, 1.0) * 255.0) / 255.0)"
_UNTONE = {
    **{tone: _CURVE_INVERSE[tone].replace("SHOWN", _DECODING[tone]) for tone in TONES},
    **{display_linear(tone): _DECODING[tone].replace("SHOWN", _BYTE) for tone in TONES},
}

# The tone pass (engine.radiance): a motion-blurred frame's averaged radiance, read texel by
# texel, through the tone curve into an 8-bit target; the encoding pass (multisampling,
# engine.context): a resolved display-linear image, through the encoding alone.
_TONE_PASS = """
#version 330
uniform sampler2D source;
in vec2 v_uv;
layout(location = 0) out vec4 o_color;
"""


def tone_fragment(tone: str) -> str:
    """The tone pass's shader: the frame pass's tone curve `tone` over a radiance image."""
    body = f"""
void main() {{
    vec3 light = texelFetch(source, ivec2(gl_FragCoord.xy), 0).rgb;
{_TONE[tone]}
    o_color = vec4(rgb, 1.0);
}}
"""
    return _TONE_PASS + _TONE_FUNCTIONS + body


def encoding_fragment(tone: str) -> str:
    """The encoding pass's shader: the encoding of the tone curve `tone` (the 2.2 gamma or
    the sRGB curve) over a display-linear image, as the frame pass encodes."""
    body = f"""
void main() {{
    vec3 shown = texelFetch(source, ivec2(gl_FragCoord.xy), 0).rgb;
    vec3 rgb = {_ENCODING[tone].replace("SHOWN", "shown")};
    o_color = vec4(rgb, 1.0);
}}
"""
    return _TONE_PASS + _TONE_FUNCTIONS + body


# The backdrop drawn as light: a background image, or the background colour (a uniform:
# a float target's clear value is not through the inverse), as the light that shows so.
_LIGHT_BACKDROP = """
#version 330
uniform sampler2D p3d_Texture0;
uniform vec3 background;
in vec2 v_uv;
layout(location = 0) out vec4 o_color;
layout(location = 1) out vec4 o_label;
layout(location = 2) out vec4 o_normal;
"""


def light_backdrop_fragment(undo: str, image: bool) -> str:
    """The backdrop's shader where the colour target holds light: the image (`image`) or the
    background colour as the light that shows as it. `undo`: a tone curve (the radiance pass:
    the radiance that the whole curve maps to the picture), or a tone's `display_linear`
    (multisampling: the display-linear light that its encoding maps to the picture's bytes)."""
    shown = "texture(p3d_Texture0, v_uv).rgb" if image else "background"
    body = f"""
void main() {{
    o_color = vec4({_UNTONE[undo].replace("SHOWN", shown)}, 1.0);
    o_label = vec4(0.0);
    o_normal = vec4(0.0);
}}
"""
    return _LIGHT_BACKDROP + _UNTONE_FUNCTIONS + body
