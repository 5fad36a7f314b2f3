"""Writer "coco": COCO instances JSON (boxes, RLE masks or polygons, areas) that pycocotools
loads.

Frames stream into part files while the run goes; `close()` assembles
annotations/instances.json from them, so memory does not grow with the dataset.

Objects failing the visibility filter (simulator.filtering) are dropped, or, by default, kept
as crowd regions (`iscrowd: 1`, always with an RLE segmentation, as COCO requires for crowds),
which COCO evaluation ignores: a detector is neither rewarded nor penalised for them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field

from simulator import (
    DatasetInfo,
    DatasetPath,
    Filtered,
    FrameLabels,
    ObjectLabel,
    VisibilityFilter,
    Writer,
    atomic_open,
    encode_rle,
    filtering,
    hookimpl,
    mask_polygons,
)


class CocoParams(VisibilityFilter):
    path: DatasetPath = Field(
        "annotations/instances.json", description="Where the COCO file goes, in the dataset."
    )
    segmentation: Literal["rle", "polygon"] = Field(
        "rle",
        description="rle: the exact mask (when `masks` is listed); polygon: one polygon per "
        "connected component, always written.",
    )
    tolerance: float = Field(
        0.5, ge=0.0, description="Polygon simplification (Douglas-Peucker), pixels; 0 = exact."
    )
    filtered: Filtered = Field(
        "ignore",
        description="Objects failing min_pixels / min_visibility: ignore = crowd regions "
        "(iscrowd 1, RLE), drop = left out.",
    )


class CocoWriter(Writer[CocoParams]):
    """COCO object detection / instance segmentation annotations."""

    name = "coco"

    def __init__(self, params: CocoParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        part = dataset.part or dataset.root
        part.mkdir(parents=True, exist_ok=True)
        self._images = (part / "images.jsonl").open("w")
        self._annotations = (part / "annotations.jsonl").open("w")

    @classmethod
    def requires(cls, params: CocoParams) -> set[str]:
        return {"visibility"} if params.min_visibility > 0 else set()

    def write(self, frame: FrameLabels) -> None:
        image_id = frame.index + 1
        image = {
            "id": image_id,
            "file_name": os.path.basename(frame.files["image"]),
            "width": frame.width,
            "height": frame.height,
        }
        self._images.write(json.dumps(image) + "\n")
        for obj in frame.objects:
            crowd = not filtering.keep(obj, self.params)
            if crowd and self.params.filtered == "drop":
                continue
            # The id is given at merge time, numbered across the whole dataset.
            annotation: dict[str, Any] = {
                "image_id": image_id,
                "category_id": obj.category_id,
                "bbox": obj.bbox,
                "area": obj.area,
                "iscrowd": int(crowd),
            }
            if obj.keypoints is not None:
                annotation["keypoints"] = [
                    v for k in obj.keypoints for v in (round(k.x, 2), round(k.y, 2), k.visibility)
                ]
                annotation["num_keypoints"] = sum(k.visibility > 0 for k in obj.keypoints)
            segmentation = self._segmentation(frame, obj, crowd)
            if segmentation is not None:
                annotation["segmentation"] = segmentation
            self._annotations.write(json.dumps(annotation) + "\n")

    def _segmentation(self, frame: FrameLabels, obj: ObjectLabel, crowd: bool) -> Any:
        """RLE for crowds (always) and, with segmentation = "rle", for the rest when `masks`
        is listed; otherwise a COCO polygon list, one polygon per connected component."""
        if obj.rle is not None and (crowd or self.params.segmentation == "rle"):
            return obj.rle
        if not crowd and self.params.segmentation == "rle":
            return None  # no `masks` label: boxes only, as before
        x, y, w, h = obj.bbox
        crop = frame.passes.instance[y : y + h, x : x + w] == obj.instance_id
        if crowd:
            mask = np.zeros(frame.passes.instance.shape, dtype=bool)
            mask[y : y + h, x : x + w] = crop
            return encode_rle(mask)
        polygons = mask_polygons(crop, self.params.tolerance)
        # Vertices lie on pixel corners, so they are whole numbers.
        return [(p + np.array([x, y])).astype(int).ravel().tolist() for p in polygons]

    @staticmethod
    def _category(dataset: DatasetInfo, category_id: int, name: str) -> dict[str, Any]:
        category: dict[str, Any] = {"id": category_id, "name": name, "supercategory": name}
        schema = dataset.keypoints.get(name)
        if schema is not None and "keypoints" in dataset.labels:
            index = {n: i + 1 for i, n in enumerate(schema.names)}  # COCO skeletons are 1-based
            category["keypoints"] = list(schema.names)
            category["skeleton"] = [[index[a], index[b]] for a, b in schema.skeleton]
        return category

    def close(self) -> None:
        for part in (self._images, self._annotations):
            part.close()

    def abort(self) -> None:
        self.close()

    @classmethod
    def merge(cls, params: CocoParams, dataset: DatasetInfo, parts: list[Path]) -> None:
        """One COCO file from the shards' parts, streamed: memory does not grow with it."""
        categories = [cls._category(dataset, i + 1, n) for i, n in enumerate(dataset.categories)]
        info = {
            "description": dataset.world_name,
            "version": "1.0",
            "contributor": "sim (synthetic)",
        }
        with atomic_open(dataset.root / params.path) as out:
            out.write('{"info": ' + json.dumps(info) + ', "licenses": [], "images": [')
            copy_lines([p / "images.jsonl" for p in parts], out)
            out.write('], "annotations": [')
            copy_lines([p / "annotations.jsonl" for p in parts], out, number_from=1)
            out.write('], "categories": ' + json.dumps(categories) + "}\n")


def copy_lines(paths: list[Path], out: Any, number_from: int | None = None) -> None:
    """Join JSON object lines with commas; with `number_from`, give each an "id" first (the
    shards' parts streamed into one JSON array: also the vis writer's)."""
    count = 0
    for path in paths:
        with path.open() as lines:
            for line in lines:
                text = line.rstrip("\n")
                if number_from is not None:
                    text = '{"id": ' + str(number_from + count) + ", " + text[1:]
                out.write(("," if count else "") + text)
                count += 1


@hookimpl
def sim_register_writers(register):
    register(CocoWriter)
