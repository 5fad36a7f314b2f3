"""Scene export: any frame of a dataset as a glTF 2.0 file, for Blender and other renderers.

`sim export DATASET --frame N -o scene.glb` rebuilds frame N's `Scene` from the dataset's
manifest (the same scene its labels were made from) and writes it as one binary glTF: every
entity as a node with its mesh and metallic-roughness materials (textures embedded as PNG),
the camera with the frame's intrinsics, the lights as KHR_lights_punctual, and the ambient
light and environment in `extras` (glTF has no environment; the equirect image is written
beside the file as `<name>_environment.hdr`).

Modules: `document` (buffers, accessors and images of a glTF being written), `materials`,
`nodes` (the camera and lights) and `gltf` (a `Scene` as a glTF) need no renderer; `frame`
(a dataset's frame to a file) takes model files' geometry from the engine.
"""
