"""The scene of one frame, renderer-free: entities, meshes, transforms, textures and image effects,
all in numpy."""
