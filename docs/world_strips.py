"""The README's pictures of a bundled world: six frames, and the same frames with their labels.

    python3 docs/world_strips.py parts     # docs/images/parts-frames.png, parts-overlays.png

Renders the world's first frames into a temporary dataset and draws them with `sim overlay`'s
code, three across, at half size.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from PIL import Image

from simulator.report.overlay import overlay_frame
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

ROOT = Path(__file__).parent.parent


def sheet(images: list[Image.Image], columns: int = 3, scale: float = 0.5) -> Image.Image:
    width, height = (round(v * scale) for v in images[0].size)
    rows = -(-len(images) // columns)
    out = Image.new("RGB", (columns * width, rows * height), "white")
    for index, image in enumerate(images):
        cell = image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS)
        out.paste(cell, ((index % columns) * width, (index // columns) * height))
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", help="a bundled world's name (worlds/<name>.toml)")
    parser.add_argument("--frames", type=int, default=6)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temporary:
        world = load_world(ROOT / "worlds" / f"{args.world}.toml")
        root = run(world, RunOptions(Path(temporary) / "out", frames=args.frames)).root
        frames = [Image.open(root / "images" / f"{i:06d}.jpg") for i in range(args.frames)]
        overlays = [overlay_frame(root, i) for i in range(args.frames)]
        images = ROOT / "docs" / "images"
        sheet(frames).save(images / f"{args.world}-frames.png", optimize=True)
        sheet(overlays).save(images / f"{args.world}-overlays.png", optimize=True)


if __name__ == "__main__":
    main()
