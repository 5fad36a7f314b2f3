"""Writes docs/labels.md's pictures of the conventions: pixel-edge coordinates and boxes, the
camera's axes, and tight vs amodal boxes with truncation on a frame sim renders.

    python3 docs/labels_pictures.py             # writes docs/images/labels/*.png
    python3 docs/labels_pictures.py --out DIR   # writes DIR/images/labels/*.png

tests/test_docs.py runs it into a temporary folder and compares the pictures with the ones
in docs/images/labels/, so they stay current with the code that draws them.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from simulator.run.runner import RunOptions, run
from simulator.world.load import parse_world

DOCS = Path(__file__).parent
NAMES = ("pixels", "camera", "boxes")

# A box behind a ball (occluded: its tight box is smaller than its amodal one) and a can cut
# by the image's right border (truncated), seen from a fixed camera.
SCENE = """
[world]
seed = 1
frames = 1
[camera]
resolution = [240, 160]
position = [0, -5, 1.6]
target = [0.3, 0, 0.4]
fov = 50
[[spawners]]
type = "primitive"
name = "box"
category = "box"
shape = "box"
size = 0.8
position = [-0.2, 0.9, 0.4]
hpr = [30, 0, 0]
color = [0.85, 0.35, 0.25]
[[spawners]]
type = "primitive"
name = "ball"
category = "ball"
shape = "sphere"
size = 1.1
position = [-0.55, -0.7, 0.55]
color = [0.9, 0.9, 0.85]
[[spawners]]
type = "primitive"
name = "can"
category = "can"
shape = "cylinder"
size = 0.9
position = [2.55, 0.2, 0.45]
color = [0.25, 0.4, 0.8]
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
size = 12
distractor = true
color = [0.55, 0.55, 0.5]
[output]
labels = ["boxes", "visibility", "instance"]
writers = ["native"]
image_format = "png"
"""


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: Path) -> None:
    figure.savefig(path, format="png", metadata={"Software": None})


def pixels(path: Path) -> None:
    """Pixel-edge coordinates: pixel (c, r) is [c, c + 1] x [r, r + 1], its centre
    (c + 0.5, r + 0.5); a box [x, y, w, h] runs along pixel edges around the mask."""
    mask = np.zeros((6, 11), bool)
    mask[1:5, 2:7] = True
    mask[1, 2] = mask[4, 6] = mask[1, 6] = False
    figure, axes = _figure(7.2, 4.4)
    axes.imshow(mask, cmap="Blues", vmin=0, vmax=1.6, extent=(0, 11, 6, 0))
    for c in range(12):
        axes.axvline(c, color="0.75", lw=0.6)
    for r in range(7):
        axes.axhline(r, color="0.75", lw=0.6)
    axes.add_patch(Rectangle((2, 1), 5, 4, fill=False, ec="#d62728", lw=2.5))
    axes.text(
        7.3,
        1.1,
        "bbox = [2, 1, 5, 4]\n(x, y, w, h) on pixel\nedges: w, h count pixels",
        color="#d62728",
        va="top",
    )
    axes.plot([3.5], [2.5], "o", color="black", ms=5)
    arrow = {"arrowstyle": "->"}
    axes.annotate(
        "pixel (3, 2) is\n[3, 4] x [2, 3];\nits centre (3.5, 2.5)",
        (3.5, 2.5),
        (7.3, 3.9),
        arrowprops=arrow,
    )
    axes.plot([0], [0], "s", color="#2ca02c", ms=8, clip_on=False)
    axes.text(0.15, 0.55, "(0, 0)", color="#2ca02c", fontsize=9)
    axes.set_xticks(range(12))
    axes.set_yticks(range(7))
    axes.set_xlabel("x (pixels, right)")
    axes.set_ylabel("y (pixels, down)")
    axes.set_title("pixel-edge coordinates: boxes, masks, keypoints, polygons")
    _save(figure, path)


def camera(path: Path) -> None:
    """The camera's axes (OpenCV: x right, y down, z forward, into the picture) over the
    image, with K's pixel-centre origin beside the labels' pixel-edge one."""
    width, height = 8, 5
    figure, axes = _figure(6.4, 4.4)
    axes.add_patch(Rectangle((0, 0), width, height, fc="#f2f2f2", ec="black", lw=1.5))
    cx, cy = width / 2, height / 2
    arrow = {"width": 0.04, "head_width": 0.22, "length_includes_head": True}
    axes.arrow(cx, cy, 2.2, 0, color="#d62728", **arrow)
    axes.arrow(cx, cy, 0, 1.8, color="#2ca02c", **arrow)
    axes.plot([cx], [cy], "o", ms=15, mfc="white", mec="#1f77b4", mew=2)
    axes.plot([cx], [cy], "x", ms=10, color="#1f77b4", mew=2)
    axes.text(cx + 2.3, cy, "x", color="#d62728", va="center", fontsize=13)
    axes.text(cx, cy + 2.05, "y", color="#2ca02c", ha="center", va="top", fontsize=13)
    axes.text(
        cx - 0.35,
        cy - 0.35,
        "z (forward,\ninto the image)",
        color="#1f77b4",
        ha="right",
        va="bottom",
    )
    axes.plot([0], [0], "s", color="#2ca02c", ms=8)
    axes.text(0.1, -0.15, "labels: (0, 0) is this corner", va="bottom", fontsize=9)
    axes.text(
        width - 0.1,
        height + 0.15,
        "K: (0, 0) is the top-left pixel's centre,\nprincipal point (W/2 - 0.5, H/2 - 0.5)",
        ha="right",
        va="top",
        fontsize=9,
    )
    axes.set_xlim(-0.5, width + 0.5)
    axes.set_ylim(height + 1.1, -0.9)
    axes.set_aspect("equal")
    axes.axis("off")
    axes.set_title("camera axes (OpenCV); the world is Z up")
    _save(figure, path)


def boxes(path: Path) -> None:
    """A rendered frame with each object's tight box (visible pixels, solid), amodal box
    (whole object, dashed) and clipped amodal box (dotted), and its truncation and
    visibility from frames.jsonl."""
    with tempfile.TemporaryDirectory() as work:
        root = run(parse_world(SCENE), RunOptions(Path(work) / "out")).root
        record = json.loads((root / "frames.jsonl").read_text().splitlines()[0])
        with Image.open(root / record["files"]["image"]) as image:
            rgb = np.asarray(image.convert("RGB"))
    height, width = rgb.shape[:2]
    figure, axes = _figure(7.2, 5.6)
    axes.imshow(rgb, extent=(0, width, height, 0))
    colors = {"box": "#ffbf00", "ball": "#e377c2", "can": "#17becf"}
    for obj in record["objects"]:
        color = colors[obj["category"]]
        for key, style, lw in (
            ("amodal_bbox", "--", 1.6),
            ("amodal_bbox_clipped", ":", 2.4),
            ("bbox", "-", 1.6),
        ):
            x, y, w, h = obj[key]
            axes.add_patch(
                Rectangle((x, y), w, h, fill=False, ec=color, ls=style, lw=lw, clip_on=False)
            )
        x, y, w, h = obj["amodal_bbox"]
        axes.text(
            x,
            y + h + 3,
            f"{obj['category']}: truncation {obj['truncation']:.2f}, "
            f"visibility {obj['visibility']:.2f}",
            color=color,
            fontsize=8,
            va="top",
            bbox={"fc": "black", "alpha": 0.6, "pad": 1.5, "ec": "none"},
            clip_on=False,
        )
    axes.plot([], [], "-", color="0.3", label="bbox: visible pixels (tight)")
    axes.plot([], [], "--", color="0.3", label="amodal_bbox: the whole object")
    axes.plot([], [], ":", color="0.3", lw=2.4, label="amodal_bbox_clipped: cut to the image")
    figure.legend(loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    axes.set_xlim(-5, width + 30)
    axes.set_ylim(height + 5, -5)
    axes.axis("off")
    axes.set_title("tight vs amodal boxes; truncation = share of the amodal box outside")
    _save(figure, path)


def draw_all(out: Path) -> list[Path]:
    folder = out / "images" / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    drawn = []
    for name, draw in zip(NAMES, (pixels, camera, boxes), strict=True):
        draw(folder / f"{name}.png")
        drawn.append(folder / f"{name}.png")
    return drawn


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOCS, help="folder holding images/labels/")
    for path in draw_all(parser.parse_args().out):
        print(path)


if __name__ == "__main__":
    main()
