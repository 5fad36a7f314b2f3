"""Writes docs/lighting.md's pictures: strips of one still scene under each environment,
exposure, tone curve, material family and preset.

    python3 docs/lighting_strips.py          # writes images/lighting/*.png
    python3 docs/lighting_strips.py --check  # only checks every picture lighting.md shows exists
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from simulator.capture.pipeline import Pipeline, host_for
from simulator.engine import Engine
from simulator.scene import sky
from simulator.world.load import parse_world

DOCS = Path(__file__).parent
WIDTH, HEIGHT = 200, 150

# Three objects on a floor, seen from a fixed camera; each cell adds its own randomizers.
SCENE = """
[world]
seed = 3
[camera]
resolution = [200, 150]
position = [0, -4.2, 2.0]
target = [0, 0, 0.4]
[render]
{render}
[[spawners]]
type = "primitive"
name = "box"
shape = "box"
size = 0.7
position = [-1.0, 0.2, 0.35]
hpr = [25, 0, 0]
color = [0.8, 0.25, 0.2]
[[spawners]]
type = "primitive"
name = "ball"
shape = "sphere"
size = 0.75
position = [0.05, 0, 0.375]
color = [0.9, 0.9, 0.9]
[[spawners]]
type = "primitive"
name = "can"
shape = "cylinder"
size = 0.7
position = [1.05, 0.1, 0.35]
color = [0.2, 0.35, 0.75]
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 14
color = [0.6, 0.58, 0.55]
[[randomizers]]
type = "material"
targets = ["ball"]
roughness = 0.15
metallic = 1.0
[[randomizers]]
type = "material"
name = "dielectrics"
targets = ["box", "can", "floor"]
roughness = 0.45
metallic = 0.0
{randomizers}
"""

SKY = '[[randomizers]]\ntype = "sky"\nelevation = {elevation}\nazimuth = 130\n'
SKY += "turbidity = {turbidity}\n"
STUDIO = '[[randomizers]]\ntype = "studio"\nrotation = {rotation}\n'
MAPS = '[[randomizers]]\ntype = "environment"\nfolder = "{folder}"\nrotation = {rotation}\n'
LIBRARY = '[[randomizers]]\ntype = "surface_material"\ntargets = ["box", "ball", "can"]\n'
LIBRARY += 'materials = ["{family}"]\n[[randomizers]]\ntype = "surface_material"\nname = "f"\n'
LIBRARY += 'targets = ["floor"]\nmaterials = ["{floor}"]\n'

# strip name -> (caption, cells: [(label, [render] lines, randomizers)])
STRIPS: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "sky": (
        "The procedural sky (`sky`): sun at 60, 25 and 8 degrees (turbidity 3), then a hazy "
        "afternoon (turbidity 8). The sun casts soft shadows; the sky lights everything and "
        "shows behind.",
        [
            ("noon", "", SKY.format(elevation=60, turbidity=3)),
            ("afternoon", "", SKY.format(elevation=25, turbidity=3)),
            ("evening", "", SKY.format(elevation=8, turbidity=3)),
            ("haze", "", SKY.format(elevation=25, turbidity=8)),
        ],
    ),
    "studio": (
        "Procedural photo studios (`studio`): soft boxes in a dim room, the key box casting "
        "soft shadows; four studios, turned.",
        [(f"studio {i}", "", STUDIO.format(rotation=90 * i)) for i in range(4)],
    ),
    "maps": (
        "HDR environment maps from a folder (`environment`): here two maps written as Radiance "
        ".hdr files, each at two turns. Any equirectangular .hdr or .exr works, Poly Haven's "
        "as downloaded.",
        [
            ("dusk map", "", MAPS.format(folder="{maps}/dusk", rotation=0)),
            ("dusk, turned", "", MAPS.format(folder="{maps}/dusk", rotation=120)),
            ("studio map", "", MAPS.format(folder="{maps}/bright", rotation=0)),
            ("turned", "", MAPS.format(folder="{maps}/bright", rotation=200)),
        ],
    ),
    "exposure": (
        "Exposure on top of automatic metering (`[render] exposure`, or the `film` "
        "randomizer): -1.5, -0.5, +0.5 and +1.5 stops.",
        [
            (f"{ev:+} EV", f"exposure = {ev}", SKY.format(elevation=40, turbidity=3))
            for ev in (-1.5, -0.5, 0.5, 1.5)
        ],
    ),
    "tone": (
        "Tone curves on a bright frame (+1.5 stops): clamp (sim's old look), linear (clip with "
        "the sRGB curve), ACES (filmic: highlights roll off), and ACES at 0 EV.",
        [
            ("clamp", 'tone = "clamp"\nexposure = 1.5', SKY.format(elevation=40, turbidity=3)),
            ("linear", 'tone = "linear"\nexposure = 1.5', SKY.format(elevation=40, turbidity=3)),
            ("aces", 'tone = "aces"\nexposure = 1.5', SKY.format(elevation=40, turbidity=3)),
            ("aces 0 EV", 'tone = "aces"', SKY.format(elevation=40, turbidity=3)),
        ],
    ),
    "materials": (
        "The procedural material library (`surface_material`), one family a cell, under the "
        "same sky: metal, plastic, wood and stone objects on planks, tiles, fabric and concrete.",
        [
            (
                family,
                "",
                SKY.format(elevation=35, turbidity=3) + LIBRARY.format(family=family, floor=floor),
            )
            for family, floor in (
                ("metal", "wood_planks"),
                ("plastic", "tiles"),
                ("wood", "fabric"),
                ("stone", "concrete"),
            )
        ],
    ),
    "occlusion": (
        "Ambient occlusion (`[render] ambient_occlusion`): off and on, in a studio and under "
        "an overcast (hazy, low-sun) sky, where most light comes from every direction.",
        [
            ("studio, off", "ambient_occlusion = false", STUDIO.format(rotation=0)),
            ("studio, on", "ambient_occlusion = true", STUDIO.format(rotation=0)),
            ("haze, off", "ambient_occlusion = false", SKY.format(elevation=12, turbidity=9)),
            ("haze, on", "ambient_occlusion = true", SKY.format(elevation=12, turbidity=9)),
        ],
    ),
    "presets": (
        "The presets on the same frame: fast (sim's old look: no anti-aliasing, clipped), "
        "realistic (4x multisampling, ACES, metering), each without and with the sky.",
        [
            ("fast", 'preset = "fast"', ""),
            ("realistic", 'preset = "realistic"', ""),
            ("fast, sky", 'preset = "fast"', SKY.format(elevation=40, turbidity=3)),
            ("realistic, sky", 'preset = "realistic"', SKY.format(elevation=40, turbidity=3)),
        ],
    ),
}


def _maps(folder: Path) -> None:
    """Two HDR maps as Radiance files, as a user's folder would hold them."""
    dusk = sky.sky_environment(4.0, 200.0, 5.0, height=128)
    room = np.full((128, 256, 3), 0.15, np.float32)
    room[20:50, 40:90] = 30.0  # a bright window
    room[64:] = 0.08  # a darker floor
    for name, image in (("dusk", dusk.image), ("bright", room)):
        (folder / name).mkdir()
        cv2.imwrite(str(folder / name / f"{name}_1k.hdr"), np.ascontiguousarray(image[:, :, ::-1]))


def _cell(
    engines: dict[tuple[int, bool], Engine], render: str, randomizers: str, maps: Path
) -> np.ndarray:
    text = SCENE.format(render=render, randomizers=randomizers.replace("{maps}", str(maps)))
    world = parse_world(text, DOCS / "lighting.toml")
    samples = world.render.setting("antialias")
    occluded = bool(world.render.setting("ambient_occlusion"))
    key = (samples, occluded)
    if key not in engines:
        engines[key] = Engine(WIDTH, HEIGHT, antialias=samples, contact_occlusion=occluded)  # type: ignore[arg-type]
    engine = engines[key]
    scene = Pipeline(world, host_for(world)).build_scene(0)
    return engine.render(scene).color.copy()


def render_all(out: Path) -> None:
    images = out / "images" / "lighting"
    images.mkdir(parents=True, exist_ok=True)
    engines: dict[tuple[int, bool], Engine] = {}
    with tempfile.TemporaryDirectory() as folder:
        _maps(Path(folder))
        for name, (_, cells) in STRIPS.items():
            row = [_cell(engines, render, extra, Path(folder)) for _, render, extra in cells]
            Image.fromarray(np.hstack(row)).save(images / f"{name}.png", optimize=True)
    for engine in engines.values():
        engine.close()


def missing(doc: Path) -> list[str]:
    """Pictures lighting.md shows that are not there, and strips it does not show."""
    text = doc.read_text()
    shown = set(re.findall(r"images/lighting/(\w+)\.png", text))
    absent = [n for n in shown if not (doc.parent / "images" / "lighting" / f"{n}.png").is_file()]
    return absent + [f"{n} (not in lighting.md)" for n in STRIPS if n not in shown]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the pictures exist")
    parser.add_argument("--out", type=Path, default=DOCS, help="where pictures go (for tests)")
    args = parser.parse_args()
    if args.check:
        gaps = missing(DOCS / "lighting.md")
        if gaps:
            gaps_list = ", ".join(gaps)
            print(f"docs/lighting.md: missing {gaps_list}: run python3 docs/lighting_strips.py")
            return 1
        return 0
    render_all(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
