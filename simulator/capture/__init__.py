"""From a world and its plugins to one labeled frame: bind the world's entries to their components,
build frame i's scene, render it, derive its labels."""
