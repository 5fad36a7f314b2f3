"""Ground truth derived from the rendered passes: exact, never estimated.

Boxes follow COCO: [x, y, width, height] in pixel-edge coordinates, so a box around pixel
columns 10..19 starts at x = 10 and is 10 wide. Areas are visible pixel counts.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from pycocotools import mask as mask_utils

from simulator import projection
from simulator.components import KeypointSchema
from simulator.engine import RenderedPasses
from simulator.scene import Mesh, Scene


@dataclass
class Keypoint:
    """A named point of an object projected into the frame.

    `visibility` follows COCO: 0 not labeled (outside the image, or not beyond the near
    plane; x and y are then 0), 1 labeled but occluded, 2 visible (by the depth test).
    """

    name: str
    x: float
    y: float
    visibility: int
    depth: float  # camera-space z, metres (negative: behind the camera)

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "x": _r(self.x),
            "y": _r(self.y),
            "v": self.visibility,
            "depth": _r(self.depth),
        }


@dataclass
class ObjectLabel:
    """One labeled object with at least one visible pixel.

    Boxes are [x, y, width, height] in pixel-edge coordinates. `bbox` bounds the visible
    pixels (integers); `amodal_bbox` bounds the whole object as if nothing occluded it and
    the image went on forever (floats, may reach outside the image); `amodal_bbox_clipped` is
    that box cut to the image. Labels the world did not ask for stay None (`amodal_masks`
    brings `unoccluded_pixels` and `visibility` with it: they come from the same passes).
    """

    instance_id: int
    category: str
    category_id: int
    bbox: list[int]
    area: int  # visible pixels
    rle: dict[str, Any] | None = None  # COCO compressed RLE of the visible mask
    amodal_bbox: list[float] | None = None
    amodal_bbox_clipped: list[float] | None = None
    truncation: float | None = None  # share of the amodal box's area outside the image
    unoccluded_pixels: int | None = None  # pixels of the object drawn alone
    visibility: float | None = None  # area / unoccluded_pixels
    amodal_rle: dict[str, Any] | None = None  # mask of the object drawn alone
    box3d: dict[str, Any] | None = None
    keypoints: list[Keypoint] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)  # set by labelers and hooks

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instance_id": self.instance_id,
            "category": self.category,
            "category_id": self.category_id,
            "bbox": self.bbox,
            "area": self.area,
        }
        optional = {
            "amodal_bbox": _r(self.amodal_bbox),
            "amodal_bbox_clipped": _r(self.amodal_bbox_clipped),
            "truncation": _r(self.truncation),
            "unoccluded_pixels": self.unoccluded_pixels,
            "visibility": _r(self.visibility),
            "segmentation": self.rle,
            "amodal_segmentation": self.amodal_rle,
            "box3d": self.box3d,
            "keypoints": None if self.keypoints is None else [k.record() for k in self.keypoints],
            "attributes": self.attributes or None,
        }
        out.update({key: value for key, value in optional.items() if value is not None})
        return out


def _r(value: Any, digits: int = 6) -> Any:
    """Round floats (in lists and dicts too) so records are compact and stable."""
    if isinstance(value, dict):
        return {k: _r(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_r(v, digits) for v in value]
    if isinstance(value, float):
        return round(value, digits)
    return value


@dataclass
class FrameLabels:
    """Everything known about one rendered frame, handed to every writer."""

    index: int
    seed: int
    scene: Scene
    passes: RenderedPasses
    objects: list[ObjectLabel]
    files: dict[str, str] = field(default_factory=dict)  # pass name -> path in the dataset
    extra: dict[str, Any] = field(default_factory=dict)  # per-frame values from labelers

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
            **({"extra": self.extra} if self.extra else {}),
            "scene": self.scene.record(camera=False),
        }


def instance_boxes(instance: np.ndarray) -> dict[int, tuple[list[int], int]]:
    """{instance id: ([x, y, w, h], pixel count)} for every id present (background 0 left out).

    Works on the horizontal runs of equal ids (a few per object and row) rather than on every
    pixel: one comparison pass over the image finds them, and only they get sorted by id."""
    height, width = instance.shape
    if instance.size == 0:
        return {}
    start = np.empty((height, width), dtype=bool)  # where a run begins, row by row
    start[:, 0] = True
    np.not_equal(instance[:, 1:], instance[:, :-1], out=start[:, 1:])
    begin = np.flatnonzero(start)
    end = np.append(begin[1:], instance.size)  # runs never cross rows: each row starts one
    ids = instance.ravel()[begin]
    labeled = ids != 0
    if not labeled.any():
        return {}
    order = np.argsort(ids[labeled], kind="stable")  # by id, then by position
    ids, begin, end = ids[labeled][order], begin[labeled][order], end[labeled][order]
    first = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    last = np.append(first[1:], ids.size) - 1
    rows = begin // width
    x0 = np.minimum.reduceat(begin - rows * width, first)
    x1 = np.maximum.reduceat(end - rows * width, first)  # exclusive
    y0, y1 = rows[first], rows[last]
    counts = np.add.reduceat(end - begin, first)
    return {
        i: ([a, b, c - a, d - b + 1], n)
        for i, a, b, c, d, n in zip(
            ids[first].tolist(),
            x0.tolist(),
            y0.tolist(),
            x1.tolist(),
            y1.tolist(),
            counts.tolist(),
            strict=True,
        )
    }


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of a boolean mask, with `counts` as a string (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def encode_rles(instance: np.ndarray, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{id: encode_rle(instance == id)} for every id asked for, in one pass over the image.

    An id that is not in the image gets the RLE of an empty mask."""
    height, width = instance.shape
    runs = _runs_by_id(instance, ids)
    return {i: _rle(begin, end, height, width) for i, (begin, end) in runs.items()}


def _runs_by_id(
    instance: np.ndarray, ids: Iterable[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{id: (starts, ends)} of the runs of that id in the image read column by column (COCO's
    order), as flat indices, ends exclusive; runs of one id are in order and never touch."""
    height, width = instance.shape
    wanted = [int(i) for i in ids]
    if instance.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return dict.fromkeys(wanted, (empty, empty))
    # Where a run begins, in column-major order: a change down a column, or from the bottom
    # of one column to the top of the next. Found in the image's own (row-major) layout, then
    # only those few places are put in column-major order.
    start = np.empty((height, width), dtype=bool)
    np.not_equal(instance[1:], instance[:-1], out=start[1:])
    start[0, 0] = True
    np.not_equal(instance[0, 1:], instance[-1, :-1], out=start[0, 1:])
    begin = np.flatnonzero(start)
    if begin.size > instance.size // 16:  # many runs: a transposed copy beats sorting them
        flat = instance.T.ravel()
        begin = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
        values = flat[begin]
    else:
        rows, cols = np.divmod(begin, width)
        order = np.argsort(cols * height + rows)
        rows, cols = rows[order], cols[order]
        begin = cols * height + rows
        values = instance[rows, cols]
    end = np.append(begin[1:], instance.size)
    runs = {}
    if len(wanted) <= 32:  # a comparison per id is cheaper than sorting the runs by id
        for i in wanted:
            pick = np.flatnonzero(values == i)
            runs[i] = (begin[pick], end[pick])
        return runs
    order = np.argsort(values, kind="stable")  # by id, then by position
    values, begin, end = values[order], begin[order], end[order]
    for i in wanted:
        lo, hi = np.searchsorted(values, i, "left"), np.searchsorted(values, i, "right")
        runs[i] = (begin[lo:hi], end[lo:hi])
    return runs


def _rle(begin: np.ndarray, end: np.ndarray, height: int, width: int) -> dict[str, Any]:
    """COCO compressed RLE of the mask made of the given column-major runs (see encode_rle)."""
    # Uncompressed COCO counts alternate zeros and ones, starting with zeros (maybe none) and
    # ending with the last run, whichever it is.
    edges = np.empty(2 * begin.size + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, height * width
    edges[1:-1:2], edges[2:-1:2] = begin, end
    counts = np.diff(edges)
    if counts.size > 1 and counts[-1] == 0:
        counts = counts[:-1]
    rle = mask_utils.frPyObjects({"counts": counts, "size": [height, width]}, height, width)
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}


class LabelSource(Protocol):
    """What label derivation needs from the engine besides the passes."""

    def arrays(self, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]: ...

    def render_alone(self, groups: list[list[int]]) -> list[np.ndarray]: ...


def disjoint_groups(boxes: dict[int, list[float]]) -> list[list[int]]:
    """Instance ids grouped so that no two boxes in a group overlap (greedy, in id order).

    Objects whose on-screen boxes do not overlap cannot occlude each other, so a group can be
    drawn alone in one pass and still give each member its unoccluded pixels."""
    groups: list[list[int]] = []
    for instance_id in sorted(boxes):
        x, y, w, h = boxes[instance_id]
        for group in groups:
            if all(
                x >= bx + bw or bx >= x + w or y >= by + bh or by >= y + h
                for bx, by, bw, bh in (boxes[m] for m in group)
            ):
                group.append(instance_id)
                break
        else:
            groups.append([instance_id])
    return groups


def derive(
    index: int,
    seed: int,
    scene: Scene,
    passes: RenderedPasses,
    categories: list[str],
    labels: Collection[str],
    source: LabelSource,
    keypoints: Mapping[str, KeypointSchema] | None = None,
) -> FrameLabels:
    """Labels of the labeled entities with at least one visible pixel, by instance id."""
    camera = scene.camera
    tight = instance_boxes(passes.instance)
    rles: dict[int, dict[str, Any]] = {}
    if "masks" in labels:
        rles = encode_rles(
            passes.instance,
            [
                e.instance_id
                for e in scene.entities
                if e.category is not None and e.instance_id in tight
            ],
        )
    objects: list[ObjectLabel] = []
    amodal: dict[int, list[float]] = {}
    for entity in scene.entities:
        if entity.category is None or entity.instance_id not in tight:
            continue
        bbox, area = tight[entity.instance_id]
        obj = ObjectLabel(
            entity.instance_id, entity.category, categories.index(entity.category) + 1, bbox, area
        )
        if "masks" in labels:
            obj.rle = rles[entity.instance_id]
        vertices, triangles = source.arrays(entity.mesh)
        box = projection.amodal_box(entity, vertices, triangles, camera)
        if box is not None:
            amodal[entity.instance_id] = projection.clip_box(box, camera.width, camera.height)
            if "boxes" in labels:
                obj.amodal_bbox = box
                obj.amodal_bbox_clipped = amodal[entity.instance_id]
                obj.truncation = projection.truncation(box, camera.width, camera.height)
        if "boxes3d" in labels:
            obj.box3d = _r(projection.box3d(entity, vertices, camera))
        schema = (keypoints or {}).get(entity.category)
        if "keypoints" in labels and schema is not None:
            obj.keypoints = [
                Keypoint(*k)
                for k in projection.keypoint_positions(
                    entity, list(schema.names), camera, passes.depth
                )
            ]
        objects.append(obj)
    if objects and ("visibility" in labels or "amodal_masks" in labels):
        _unoccluded(objects, amodal, source, "amodal_masks" in labels)
    return FrameLabels(index, seed, scene, passes, objects)


def _unoccluded(
    objects: list[ObjectLabel], amodal: dict[int, list[float]], source: LabelSource, masks: bool
) -> None:
    """Draw the objects alone (groups of non-overlapping ones per pass) to count the pixels
    each would cover if nothing occluded it."""
    groups = disjoint_groups({o.instance_id: amodal[o.instance_id] for o in objects})
    alone: dict[int, tuple[int, dict[str, Any] | None]] = {}  # id -> (pixels, mask)
    for group, image in zip(groups, source.render_alone(groups), strict=True):
        height, width = image.shape
        for instance_id, (begin, end) in _runs_by_id(image, group).items():
            rle = _rle(begin, end, height, width) if masks else None
            alone[instance_id] = (int((end - begin).sum()), rle)
    for obj in objects:
        obj.unoccluded_pixels, obj.amodal_rle = alone[obj.instance_id]
        obj.visibility = obj.area / obj.unoccluded_pixels
