"""The scene of one frame, renderer-free: entities, meshes, transforms, textures, materials (and
the procedural material library), environments and image effects, all in numpy."""
