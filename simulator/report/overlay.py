"""Label overlays: a frame's RGB with its instance masks tinted and its boxes drawn."""

from __future__ import annotations

import colorsys
import itertools
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from simulator.dataset import encode
from simulator.dataset.read import DatasetFolder, open_dataset


def instance_color(instance_id: int) -> tuple[int, int, int]:
    """A stable, well-spread color per instance id (golden-ratio hues)."""
    hue = (instance_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


# The 12 edges of a 3D box: corners whose indices differ in one bit
# (see simulator.labels.projection).
BOX_EDGES = [(i, i | bit) for i in range(8) for bit in (1, 2, 4) if not i & bit]


def draw(
    rgb: np.ndarray,
    objects: list[dict[str, Any]],
    instance: np.ndarray | None = None,
    mask_alpha: float = 0.4,
    skeletons: dict[str, list[list[str]]] | None = None,
) -> Image.Image:
    """RGB with each object's labels drawn: visible mask tinted, tight box solid, amodal box
    dashed, 3D box as a wireframe, keypoints as dots (filled: visible, hollow: occluded)
    joined by their category's skeleton."""
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
        color = instance_color(obj["instance_id"])
        if "box3d" in obj:
            _box3d(pen, obj["box3d"]["corners_pixels"], color)
        if "amodal_bbox" in obj:
            _dashed_rectangle(pen, obj["amodal_bbox"], color)
        x, y, w, h = obj["bbox"]
        pen.rectangle([x, y, x + w - 1, y + h - 1], outline=color, width=2)
        if obj.get("keypoints"):
            _keypoints(pen, obj["keypoints"], (skeletons or {}).get(obj["category"], []), color)
        _tag(pen, x, y, obj["category"], color)
    return canvas


def _tag(pen: ImageDraw.ImageDraw, x: float, y: float, text: str, color: tuple[int, ...]) -> None:
    left, top, right, bottom = pen.textbbox((x, y), text)
    lift = bottom - top + 3
    pen.rectangle([x, y - lift, x + right - left + 4, y], fill=color)
    pen.text((x + 2, y - lift + 1), text, fill=(0, 0, 0))


def _dashed_rectangle(
    pen: ImageDraw.ImageDraw, box: list[float], color: tuple[int, ...], dash: float = 5.0
) -> None:
    x, y, w, h = box
    corners = [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        length = max(abs(x1 - x0), abs(y1 - y0))
        steps = max(int(length // dash), 1)
        for k in range(0, steps, 2):
            t0, t1 = k / steps, min((k + 1) / steps, 1.0)
            pen.line(
                [
                    (x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0),
                    (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1),
                ],
                fill=color,
                width=1,
            )


def _box3d(
    pen: ImageDraw.ImageDraw, corners: list[list[float | None]], color: tuple[int, ...]
) -> None:
    points = [None if c[0] is None else (float(c[0]), float(c[1] or 0)) for c in corners]
    for a, b in BOX_EDGES:
        start, end = points[a], points[b]
        if start is not None and end is not None:
            pen.line([start, end], fill=color, width=1)


def _keypoints(
    pen: ImageDraw.ImageDraw,
    keypoints: list[dict[str, Any]],
    skeleton: list[list[str]],
    color: tuple[int, ...],
) -> None:
    at = {k["name"]: (k["x"], k["y"]) for k in keypoints if k["v"] > 0}
    for a, b in skeleton:
        if a in at and b in at:
            pen.line([at[a], at[b]], fill=color, width=2)
    for k in keypoints:
        if k["v"] > 0:
            r = 3
            box = [k["x"] - r, k["y"] - r, k["x"] + r, k["y"] + r]
            pen.ellipse(box, fill=color if k["v"] == 2 else None, outline=(255, 255, 255))


def overlay_frame(root: Path, index: int) -> Image.Image:
    folder = open_dataset(root)
    return overlay_record(folder, folder.record(index))


def overlay_record(folder: DatasetFolder, record: dict[str, Any]) -> Image.Image:
    """A frame of `folder` with the labels of its native record drawn."""
    with Image.open(folder.pass_file(record, "image")) as image:
        rgb = np.asarray(image.convert("RGB"))
    instance = None
    if folder.pass_path(record, "instance") is not None:
        instance = encode.read_png16(folder.pass_file(record, "instance")).astype(np.uint32)
    schemas = folder.manifest.get("keypoints", {})
    skeletons = {category: schema["skeleton"] for category, schema in schemas.items()}
    return draw(rgb, record["objects"], instance, skeletons=skeletons)
