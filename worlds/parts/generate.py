"""Writes the industrial parts of worlds/parts.toml: one part per model format sim reads.

    python3 worlds/parts/generate.py      # rewrites worlds/parts/models/ (committed)

Every part is built in millimetres from trimesh primitives and manifold3d's exact booleans
(`pip install manifold3d`; only this script needs it), so the files are small, watertight
and the same on every run. Each format carries what it can: the glTF its PBR material, the
PLY its vertex colours, the OBJ an MTL colour, STL and OFF only geometry. The tote bin they
lie in is a PLY too.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import trimesh
from trimesh.visual.material import PBRMaterial

MODELS = Path(__file__).parent / "models"  # the labeled parts, a model_folder library
SCENERY = Path(__file__).parent  # the bin they lie in


def _hex_prism(across_flats: float, height: float) -> trimesh.Trimesh:
    """A hexagonal prism (a bolt head, a nut) standing on z = 0: a six-sided cylinder."""
    prism = trimesh.creation.cylinder(across_flats / np.sqrt(3.0), height, sections=6)
    prism.apply_translation([0, 0, height / 2])
    return prism


def _rod(radius: float, z0: float, z1: float, sections: int = 48) -> trimesh.Trimesh:
    rod = trimesh.creation.cylinder(radius, z1 - z0, sections=sections)
    rod.apply_translation([0, 0, (z0 + z1) / 2])
    return rod


def bolt() -> trimesh.Trimesh:
    """An M8 x 40 hex bolt: a 13 mm head 5.3 mm high and a plain 8 mm shank."""
    return trimesh.boolean.union([_hex_prism(13.0, 5.3), _rod(4.0, 5.0, 45.3)])


def nut() -> trimesh.Trimesh:
    """An M8 hex nut: 13 mm across flats, 6.5 mm high, an 8 mm bore."""
    return trimesh.boolean.difference([_hex_prism(13.0, 6.5), _rod(4.0, -1.0, 7.5)])


def washer() -> trimesh.Trimesh:
    """An M8 flat washer: 16 mm across, 1.6 mm thick."""
    return trimesh.creation.annulus(4.3, 8.0, 1.6, sections=64)


def bracket() -> trimesh.Trimesh:
    """An L bracket of 3 mm plate, 60 x 40 x 40 mm, with two 6.5 mm holes in each leg."""
    base = trimesh.creation.box((60.0, 40.0, 3.0))
    base.apply_translation([30.0, 0.0, 1.5])
    wall = trimesh.creation.box((3.0, 40.0, 40.0))
    wall.apply_translation([1.5, 0.0, 20.0])
    holes = []
    for y in (-10.0, 10.0):
        down = _rod(3.25, -1.0, 4.0)
        down.apply_translation([40.0, y, 0.0])
        across = _rod(3.25, -1.0, 4.0)
        across.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [0, 1, 0]))
        across.apply_translation([0.0, y, 26.0])
        holes += [down, across]
    return trimesh.boolean.difference([trimesh.boolean.union([base, wall]), *holes])


def elbow() -> trimesh.Trimesh:
    """A 90-degree pipe elbow, 22 mm outside and 18 mm inside, two 30 mm legs."""
    legs = []
    for axis in ([0, 1, 0], [1, 0, 0]):
        outer = _rod(11.0, 0.0, 30.0)
        inner = _rod(9.0, -1.0, 31.0)
        turn = trimesh.transformations.rotation_matrix(-np.pi / 2, axis)
        legs.append((outer.apply_transform(turn), inner.apply_transform(turn)))
    ball_out = trimesh.creation.icosphere(subdivisions=2, radius=11.0)
    ball_in = trimesh.creation.icosphere(subdivisions=2, radius=9.0)
    solid = trimesh.boolean.union([ball_out, legs[0][0], legs[1][0]])
    return trimesh.boolean.difference([solid, ball_in, legs[0][1], legs[1][1]])


def spacer() -> trimesh.Trimesh:
    """A round spacer, 12 mm across and 10 mm long, with a 6.5 mm bore."""
    return trimesh.creation.annulus(3.25, 6.0, 10.0, sections=32)


def tote() -> trimesh.Trimesh:
    """An open tote bin, 400 x 300 x 120 mm outside, 4 mm walls, standing on z = 0."""
    outer = trimesh.creation.box((400.0, 300.0, 120.0))
    inner = trimesh.creation.box((392.0, 292.0, 120.0))
    inner.apply_translation([0, 0, 4.0])
    solid = trimesh.boolean.difference([outer, inner])
    solid.apply_translation([0, 0, 60.0])
    return solid


def _colored(mesh: trimesh.Trimesh, rgb: tuple[int, int, int]) -> trimesh.Trimesh:
    mesh.visual = trimesh.visual.ColorVisuals(
        mesh, vertex_colors=np.tile([*rgb, 255], (len(mesh.vertices), 1))
    )
    return mesh


def main() -> None:
    MODELS.mkdir(exist_ok=True)
    painted = bracket()
    painted.visual = trimesh.visual.TextureVisuals(
        material=PBRMaterial(
            name="powder_coat_blue",
            baseColorFactor=[0.08, 0.2, 0.55, 1.0],  # linear, as glTF stores it
            metallicFactor=0.0,
            roughnessFactor=0.55,
        )
    )
    painted.apply_scale(0.001)  # glTF is metres by definition
    painted.export(MODELS / "bracket.glb")
    bolt().export(MODELS / "bolt.stl")  # binary STL
    spacer().export(MODELS / "spacer.stl", file_type="stl_ascii")
    _colored(nut(), (170, 172, 176)).export(MODELS / "nut.ply")  # zinc-plated: vertex colours
    brass = elbow()
    brass.visual = trimesh.visual.TextureVisuals(
        material=trimesh.visual.material.SimpleMaterial(name="brass", diffuse=[181, 140, 60, 255])
    )
    text, files = trimesh.exchange.obj.export_obj(
        brass,
        include_normals=True,
        return_texture=True,
        mtl_name="elbow.mtl",
        header=None,
        digits=5,
    )
    (MODELS / "elbow.obj").write_text(text)
    for name, data in files.items():  # elbow.mtl
        (MODELS / name).write_bytes(data)
    washer().export(MODELS / "washer.off")
    _colored(tote(), (52, 110, 70)).export(SCENERY / "tote.ply")  # green plastic
    manifest = {
        "unit": "mm",
        "license": "CC0-1.0",
        "source": "generated by worlds/parts/generate.py",
        "attribution": "sim",
        "models": {
            "bracket.glb": {"category": "bracket", "unit": "m"},  # glTF is metres by definition
            "bolt.stl": {"category": "bolt"},
            "spacer.stl": {"category": "spacer"},
            "nut.ply": {"category": "nut"},
            "elbow.obj": {"category": "elbow"},
            "washer.off": {"category": "washer"},
        },
    }
    (MODELS / "models.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
