"""Draws docs/images/lens.png: a checkerboard floor through an ideal pinhole, a barrel
radial-tangential lens and a fisheye lens, each with its objects' boxes (derived from the
distorted passes, so they hug the distorted objects).

    python3 docs/lens_figure.py              # writes docs/images/lens.png
    python3 docs/lens_figure.py --out X.png  # elsewhere (the tests do this)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from simulator.capture.frame import Renderer
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 4
[camera]
resolution = [320, 240]
fov = 90
position = [0, -2.2, 2.4]
target = [0, 0.4, 0]
{lens}
[output]
labels = ["boxes"]
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
size = 6
distractor = true
[[spawners]]
type = "primitive"
name = "cube"
shape = "box"
size = 0.5
position = [0.6, 0.5, 0.25]
[[randomizers]]
type = "texture"
targets = ["floor"]
pattern = "checker"
color_a = [0.05, 0.05, 0.05]
color_b = [0.95, 0.95, 0.95]
frequency = 12
"""
LENSES = {
    "pinhole": "",
    "radtan k1 = -0.25, k2 = 0.05": "[camera.lens]\nk1 = -0.25\nk2 = 0.05",
    "fisheye k1 = 0.05": '[camera.lens]\nmodel = "fisheye"\nk1 = 0.05',
}


def panel(title: str, lens: str) -> np.ndarray:
    renderer = Renderer(parse_world(WORLD.format(lens=lens)))
    try:
        frame = renderer.frame(0)
    finally:
        renderer.close()
    image = np.ascontiguousarray(frame.passes.color[:, :, ::-1])
    for obj in frame.objects:
        x, y, w, h = obj.bbox
        cv2.rectangle(image, (x, y), (x + w - 1, y + h - 1), (40, 200, 255), 1)
    cv2.putText(image, title, (6, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 255), 1)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "images" / "lens.png")
    args = parser.parse_args()
    strip = np.hstack([panel(title, lens) for title, lens in LENSES.items()])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), strip)


if __name__ == "__main__":
    main()
