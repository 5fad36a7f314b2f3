"""GLSL for the two passes. Hand-written: Panda3D's auto-shader does not run on the
headless pipe, and the label pass must be exact (flat, unlit, unfiltered)."""

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
    v_color = p3d_Color;
}
"""

# Lit color. Colors are given in sRGB, lit in linear space, written back as sRGB.
# Light i: light_vector[i].w == 0: xyz is the view-space direction towards the light;
# w == 1: xyz is the view-space position of a point light. light_color carries intensity.
COLOR_FRAGMENT = f"""
#version 330
uniform sampler2D p3d_Texture0;
uniform vec4 base_color;
uniform vec2 material;  // roughness in [0, 1], metallic in [0, 1]
uniform vec3 ambient;
uniform int light_count;
uniform vec4 light_vector[{MAX_LIGHTS}];
uniform vec4 light_color[{MAX_LIGHTS}];
uniform vec4 light_spot[{MAX_LIGHTS}];  // xyz: view-space axis of a spot light; w: cos(angle)
in vec3 v_position;
in vec3 v_normal;
in vec2 v_uv;
in vec4 v_color;
out vec4 o_color;
void main() {{
    vec3 n = normalize(v_normal);
    if (!gl_FrontFacing) n = -n;
    vec3 view = normalize(-v_position);
    vec4 albedo = base_color * texture(p3d_Texture0, v_uv) * v_color;
    vec3 linear = pow(albedo.rgb, vec3(2.2));
    // Metals have no diffuse part and tint their highlights; dielectrics reflect 4 %.
    vec3 diffuse = linear * (1.0 - material.y);
    vec3 f0 = mix(vec3(0.04), linear, material.y);
    float alpha = max(material.x * material.x, 0.02);
    float shininess = 2.0 / (alpha * alpha) - 2.0;  // Blinn-Phong from GGX roughness
    float normalization = (shininess + 8.0) / 25.1327;  // (n + 8) / (8 pi)
    vec3 light = ambient * (diffuse + f0);
    for (int i = 0; i < light_count; ++i) {{
        vec3 l = light_vector[i].xyz;
        float attenuation = 1.0;
        if (light_vector[i].w > 0.5) {{
            l -= v_position;
            attenuation = 1.0 / max(dot(l, l), 1e-4);
        }}
        l = normalize(l);
        if (light_spot[i].w > -1.5) {{  // a spot: full inside the cone, fading over its edge
            float along = dot(-l, normalize(light_spot[i].xyz));
            float edge = light_spot[i].w;
            attenuation *= smoothstep(edge, edge + 0.25 * (1.0 - edge), along);
        }}
        float ndl = max(dot(n, l), 0.0);
        vec3 h = normalize(l + view);
        vec3 specular = f0 * normalization * pow(max(dot(n, h), 0.0), shininess);
        light += attenuation * light_color[i].rgb * ndl * (diffuse + specular);
    }}
    o_color = vec4(pow(clamp(light, 0.0, 1.0), vec3(1.0 / 2.2)), 1.0);
}}
"""

# Panda3D hands GLSL view space in OpenGL's axes: x right, y up, z towards the viewer.
# Ground truth, written to a float32 RGBA target: (instance id, plane depth, ray distance, 1)
# and camera-space normals (OpenCV axes: x right, y down, z forward) to the first aux target.
LABEL_FRAGMENT = """
#version 330
uniform float instance_id;
in vec3 v_position;
in vec3 v_normal;
layout(location = 0) out vec4 o_label;
layout(location = 1) out vec4 o_normal;
void main() {
    vec3 n = normalize(v_normal);
    if (!gl_FrontFacing) n = -n;
    o_label = vec4(instance_id, -v_position.z, length(v_position), 1.0);
    o_normal = vec4(n.x, -n.y, -n.z, 1.0);
}
"""

# The backdrop: a background image drawn unlit behind everything, in the color pass only.
BACKDROP_FRAGMENT = """
#version 330
uniform sampler2D p3d_Texture0;
in vec2 v_uv;
out vec4 o_color;
void main() {
    o_color = vec4(texture(p3d_Texture0, v_uv).rgb, 1.0);
}
"""
