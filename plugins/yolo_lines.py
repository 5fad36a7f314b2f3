"""The label line of one object in each Ultralytics YOLO task, from sim's exact labels.

Every coordinate is in pixel-edge coordinates (sim's boxes, polygons and keypoints all are)
divided by the image width and height, with 6 decimals; the class is `category_id - 1`.

- detect: `cls cx cy w h`, the tight box of the visible pixels.
- segment: `cls x1 y1 x2 y2 ...`, the outer outline of the visible pixels, components joined
  the way Ultralytics' own converter joins them (`merge_polygons`).
- pose: the detect box, then `x y v` for each keypoint of the dataset's one schema (COCO
  visibility: 0 not labeled, 1 occluded, 2 visible; x = y = 0 when v = 0).
- obb: `cls x1 y1 x2 y2 x3 y3 x4 y4`, the corners of the minimum-area rectangle around the
  visible pixels (each pixel the unit square it covers), in the order OpenCV's `boxPoints`
  gives them. At the image border the rectangle may reach past it: its corners are written
  as they are (Ultralytics checks only the upright box around them, and clips when it trains).
"""

from __future__ import annotations

import re

import cv2
import numpy as np

from simulator import FrameLabels, KeypointSchema, ObjectLabel, mask_polygons, merge_polygons


def _numbers(values: np.ndarray | list[float]) -> str:
    return " ".join(f"{v:.6f}" for v in np.asarray(values, float).ravel())


def detect(obj: ObjectLabel, width: int, height: int) -> str:
    x, y, w, h = obj.bbox
    box = ((x + w / 2) / width, (y + h / 2) / height, w / width, h / height)
    return f"{obj.category_id - 1} " + _numbers(list(box))


def visible_mask(frame: FrameLabels, obj: ObjectLabel) -> np.ndarray:
    """The object's visible pixels inside its box (the crop at bbox x, y)."""
    x, y, w, h = obj.bbox
    return np.asarray(frame.passes.instance[y : y + h, x : x + w] == obj.instance_id)


def segment(frame: FrameLabels, obj: ObjectLabel, tolerance: float) -> str:
    outline = merge_polygons(mask_polygons(visible_mask(frame, obj), tolerance))
    polygon = outline + np.array(obj.bbox[:2])
    return f"{obj.category_id - 1} " + _numbers(polygon / (frame.width, frame.height))


def pose(obj: ObjectLabel, width: int, height: int, count: int) -> str:
    """The detect line and `count` keypoints; an object without keypoints (its category has
    no schema) gets `count` unlabeled ones."""
    points = obj.keypoints or []
    values = [f"{k.x / width:.6f} {k.y / height:.6f} {k.visibility}" for k in points]
    values += ["0.000000 0.000000 0"] * (count - len(points))
    return " ".join([detect(obj, width, height), *values])


def oriented_box(mask: np.ndarray) -> np.ndarray:
    """(4, 2) corners of the minimum-area rectangle enclosing the mask's pixel squares, in the
    mask's pixel-edge coordinates. The exact outline's vertices are pixel corners, and the
    rectangle around them is the rectangle around the squares."""
    corners = np.concatenate(mask_polygons(mask, 0.0)).astype(np.float32)
    return np.asarray(cv2.boxPoints(cv2.minAreaRect(corners)), float)


def obb(frame: FrameLabels, obj: ObjectLabel) -> str:
    corners = oriented_box(visible_mask(frame, obj)) + np.array(obj.bbox[:2])
    return f"{obj.category_id - 1} " + _numbers(corners / (frame.width, frame.height))


_SIDE = re.compile(r"left|right|Left|Right|LEFT|RIGHT")
_MIRROR = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
_MIRROR |= {"LEFT": "RIGHT", "RIGHT": "LEFT"}


def flip_index(schema: KeypointSchema, pairs: list[tuple[str, str]]) -> list[int]:
    """Ultralytics' `flip_idx`: for each keypoint, the one it becomes in a mirrored image.
    A name with "left" or "right" in it swaps with the same name on the other side when the
    schema has it; `pairs` adds swaps by name; every other point stays itself."""
    index = {name: i for i, name in enumerate(schema.names)}
    flip = list(range(len(schema.names)))
    for i, name in enumerate(schema.names):
        mirrored = _SIDE.sub(lambda m: _MIRROR[m.group(0)], name)
        if mirrored != name and mirrored in index:
            flip[i] = index[mirrored]
    for a, b in pairs:
        flip[index[a]], flip[index[b]] = index[b], index[a]
    return flip
