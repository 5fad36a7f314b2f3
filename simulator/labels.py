"""Ground truth derived from the rendered passes: exact, never estimated.

Boxes follow COCO: [x, y, width, height] in pixel-edge coordinates, so a box around pixel
columns 10..19 starts at x = 10 and is 10 wide. Areas are visible pixel counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from simulator.engine import RenderedPasses
from simulator.scene import Scene


@dataclass
class ObjectLabel:
    """One labeled, visible object of a frame."""

    instance_id: int
    category: str
    category_id: int
    bbox: list[int]  # [x, y, width, height] of the visible pixels
    area: int  # visible pixels
    rle: dict[str, Any] | None = None  # COCO compressed RLE of the visible mask

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instance_id": self.instance_id,
            "category": self.category,
            "category_id": self.category_id,
            "bbox": self.bbox,
            "area": self.area,
        }
        if self.rle is not None:
            out["segmentation"] = self.rle
        return out


@dataclass
class FrameLabels:
    """Everything known about one rendered frame, handed to every writer."""

    index: int
    seed: int
    scene: Scene
    passes: RenderedPasses
    objects: list[ObjectLabel]
    files: dict[str, str] = field(default_factory=dict)  # pass name -> path in the dataset

    @property
    def width(self) -> int:
        return self.scene.camera.width

    @property
    def height(self) -> int:
        return self.scene.camera.height

    def record(self) -> dict[str, Any]:
        """The native, self-describing record of this frame."""
        return {
            "frame": self.index,
            "seed": self.seed,
            "width": self.width,
            "height": self.height,
            "files": self.files,
            "camera": self.scene.camera.record(),
            "objects": [o.record() for o in self.objects],
            "scene": {k: v for k, v in self.scene.record().items() if k != "camera"},
        }


def instance_boxes(instance: np.ndarray) -> dict[int, tuple[list[int], int]]:
    """{instance id: ([x, y, w, h], pixel count)} for every id present (background 0 left out)."""
    width = instance.shape[1]
    flat = instance.ravel()
    where = np.flatnonzero(flat)
    if where.size == 0:
        return {}
    ids = flat[where]
    order = np.argsort(ids, kind="stable")
    ids, where = ids[order], where[order]
    unique, starts, counts = np.unique(ids, return_index=True, return_counts=True)
    rows, cols = where // width, where % width
    x0, x1 = np.minimum.reduceat(cols, starts), np.maximum.reduceat(cols, starts)
    y0, y1 = np.minimum.reduceat(rows, starts), np.maximum.reduceat(rows, starts)
    return {
        int(i): ([int(a), int(b), int(c - a + 1), int(d - b + 1)], int(n))
        for i, a, b, c, d, n in zip(unique, x0, y0, x1, y1, counts, strict=True)
    }


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of a boolean mask, with `counts` as a string (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def derive(
    index: int,
    seed: int,
    scene: Scene,
    passes: RenderedPasses,
    categories: list[str],
    masks: bool = True,
) -> FrameLabels:
    """Labels of the labeled entities that are visible in the frame, by instance id."""
    boxes = instance_boxes(passes.instance)
    objects = []
    for entity in scene.entities:
        if entity.category is None or entity.instance_id not in boxes:
            continue
        bbox, area = boxes[entity.instance_id]
        rle = None
        if masks:
            x, y, w, h = bbox
            crop = passes.instance[y : y + h, x : x + w] == entity.instance_id
            full = np.zeros(passes.instance.shape, bool)
            full[y : y + h, x : x + w] = crop
            rle = encode_rle(full)
        objects.append(
            ObjectLabel(
                entity.instance_id,
                entity.category,
                categories.index(entity.category) + 1,
                bbox,
                area,
                rle,
            )
        )
    return FrameLabels(index, seed, scene, passes, objects)
