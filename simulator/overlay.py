"""Label overlays: a frame's RGB with its instance masks tinted and its boxes drawn."""

from __future__ import annotations

import colorsys
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from simulator import encode
from simulator.errors import OutputError


def instance_color(instance_id: int) -> tuple[int, int, int]:
    """A stable, well-spread color per instance id (golden-ratio hues)."""
    hue = (instance_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def draw(
    rgb: np.ndarray,
    objects: list[dict[str, Any]],
    instance: np.ndarray | None = None,
    mask_alpha: float = 0.4,
) -> Image.Image:
    """RGB with each object's visible mask tinted and its tight box and category drawn."""
    image = rgb.astype(np.float32)
    if instance is not None:
        for obj in objects:
            mask = instance == obj["instance_id"]
            image[mask] = (1 - mask_alpha) * image[mask] + mask_alpha * np.array(
                instance_color(obj["instance_id"])
            )
    canvas = Image.fromarray(image.clip(0, 255).astype(np.uint8))
    pen = ImageDraw.Draw(canvas)
    for obj in objects:
        x, y, w, h = obj["bbox"]
        color = instance_color(obj["instance_id"])
        pen.rectangle([x, y, x + w - 1, y + h - 1], outline=color, width=2)
        label = obj["category"]
        left, top, right, bottom = pen.textbbox((x, y), label)
        lift = bottom - top + 3
        pen.rectangle([x, y - lift, x + right - left + 4, y], fill=color)
        pen.text((x + 2, y - lift + 1), label, fill=(0, 0, 0))
    return canvas


def dataset_frame(root: Path, index: int) -> dict[str, Any]:
    """The native record of frame `index` in a dataset written with the native writer."""
    records = root / "frames.jsonl"
    if not records.is_file():
        raise OutputError(f"{root} has no frames.jsonl (was the native writer enabled?)")
    with records.open() as lines:
        for line in lines:
            record = json.loads(line)
            if record["frame"] == index:
                return record
    raise OutputError(f"frame {index} is not in {records}")


def overlay_frame(root: Path, index: int) -> Image.Image:
    record = dataset_frame(root, index)
    with Image.open(root / record["files"]["image"]) as image:
        rgb = np.asarray(image.convert("RGB"))
    instance = None
    if "instance" in record["files"]:
        instance = encode.read_png16(root / record["files"]["instance"]).astype(np.uint32)
    return draw(rgb, record["objects"], instance)
