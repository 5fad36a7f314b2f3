"""Draws docs/images/time/movi.png: frames of one clip of worlds/movi.toml (small), and
below each its forward optical flow as colour (hue: direction, saturation: speed; black
where the flow is not valid: background, occluded, leaving the image).

    python3 docs/time_strip.py               # writes docs/images/time/movi.png
    python3 docs/time_strip.py --out DIR     # writes DIR/images/time/movi.png (tests do this)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from simulator.capture.frame import Renderer
from simulator.labels.records import FLOW_VALID, Flow
from simulator.world.load import load_world

DOCS = Path(__file__).parent
WORLD = DOCS.parent / "worlds" / "movi.toml"
SHOWN = (0, 3, 6, 9)  # frames of the clip
WIDTH, HEIGHT = 240, 180


def flow_colour(flow: Flow, fastest: float) -> np.ndarray:
    """The flow as an RGB image: hue the direction, saturation the speed (full at
    `fastest` pixels per frame), black where it is not valid."""
    u, v = flow.vectors[..., 0], flow.vectors[..., 1]
    speed, angle = cv2.cartToPolar(u, v, angleInDegrees=True)
    hsv = np.zeros((*u.shape, 3), np.uint8)
    hsv[..., 0] = (angle / 2).astype(np.uint8)  # OpenCV's hue runs 0 to 180
    hsv[..., 1] = np.clip(speed / fastest * 255, 0, 255).astype(np.uint8)
    hsv[..., 2] = np.where(flow.flags == FLOW_VALID, 255, 0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def strip() -> Image.Image:
    world = load_world(WORLD)
    world.camera.resolution = (WIDTH, HEIGHT)
    renderer = Renderer(world)
    try:
        frames = [renderer.frame(k) for k in range(max(SHOWN) + 1)]
    finally:
        renderer.close()
    shown = [frames[k] for k in SHOWN]
    fastest = max(
        float(np.abs(f.flow["forward"].vectors).max())
        for f in shown
        if f.flow["forward"].vectors.size
    )
    top = np.hstack([f.passes.color for f in shown])
    bottom = np.hstack([flow_colour(f.flow["forward"], max(fastest, 1.0)) for f in shown])
    return Image.fromarray(np.vstack([top, bottom]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="where docs go (for tests)")
    args = parser.parse_args()
    path = args.out / "images" / "time" / "movi.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    strip().save(path)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
