"""Draw docs/images/rendering/export_tabletop.png: frame 0 of worlds/tabletop.toml as sim
renders it, beside `sim export` of that frame imported in Blender and rendered by Cycles,
set up only from what the .glb file says (docs/rendering.md, "The same view in Blender").

    python3 docs/export_picture.py [--samples 32]

Needs the cycles extra (pip install -e ".[cycles]"); takes a minute or two on a CPU.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import bpy
import numpy as np
from PIL import Image

DOCS = Path(__file__).resolve().parent
WORLD = DOCS.parent / "worlds" / "tabletop.toml"
OUT = DOCS / "images" / "rendering" / "export_tabletop.png"


def sim(*args: str) -> None:
    subprocess.run([str(Path(sys.executable).with_name("sim")), *args], check=True)


def blender_view(glb: Path, samples: int) -> np.ndarray:
    """The .glb in Blender, lit and framed from its own extras, rendered by Cycles."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_scene.gltf(filepath=str(glb))
    scene = bpy.context.scene
    extras = scene.get("sim") or {}
    camera = next(ob for ob in scene.objects if ob.type == "CAMERA")
    scene.camera = camera
    render = scene.render
    render.engine = "CYCLES"
    render.resolution_x, render.resolution_y = int(camera.data["width"]), int(camera.data["height"])
    render.resolution_percentage = 100
    scene.cycles.samples = samples
    scene.cycles.device = "CPU"
    scene.view_settings.view_transform = "Standard"
    world = bpy.data.worlds.new("sim")
    scene.world = world
    world.use_nodes = True
    nodes, links = world.node_tree.nodes, world.node_tree.links
    background = nodes["Background"]
    environment = extras.get("environment")
    if environment:
        texture = nodes.new("ShaderNodeTexEnvironment")
        texture.image = bpy.data.images.load(str(glb.parent / environment["image"]))
        mapping = nodes.new("ShaderNodeMapping")
        mapping.inputs["Rotation"].default_value[2] = -math.radians(environment["rotation_degrees"])
        coords = nodes.new("ShaderNodeTexCoord")
        links.new(coords.outputs["Generated"], mapping.inputs["Vector"])
        links.new(mapping.outputs["Vector"], texture.inputs["Vector"])
        links.new(texture.outputs["Color"], background.inputs["Color"])
        background.inputs["Strength"].default_value = environment["intensity"]
    else:
        ambient = extras.get("ambient", [0.0, 0.0, 0.0])
        background.inputs["Color"].default_value = (*ambient, 1.0)
    path = glb.parent / "blender.png"
    render.filepath = str(path)
    bpy.ops.render.render(write_still=True)
    return np.asarray(Image.open(path).convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        sim("run", str(WORLD), "--frames", "1", "--workers", "1", "--out", str(work / "data"))
        sim("export", str(work / "data"), "--frame", "0", "-o", str(work / "scene.glb"))
        ours = np.asarray(Image.open(next((work / "data" / "images").iterdir())).convert("RGB"))
        theirs = blender_view(work / "scene.glb", args.samples)
        Image.fromarray(np.hstack([ours, theirs])).save(OUT, optimize=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
