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
from typing import Any, Literal

import numpy as np
from pydantic import Field

from simulator import DatasetInfo, FrameLabels, ObjectLabel, Writer, encode_rle, hookimpl
from simulator.filtering import Filtered, VisibilityFilter, keep
from simulator.polygons import mask_polygons


class CocoParams(VisibilityFilter):
    path: str = Field("annotations/instances.json", description="Where the COCO file goes.")
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


class CocoWriter(Writer):
    """COCO object detection / instance segmentation annotations."""

    name = "coco"
    Params = CocoParams

    def __init__(self, params: CocoParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        self.options = params
        self.path = dataset.root / params.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._images = self.path.with_name(f".{self.path.name}.images.part").open("w")
        self._annotations = self.path.with_name(f".{self.path.name}.annotations.part").open("w")
        self._next_id = 1

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
            crowd = not keep(obj, self.options)
            if crowd and self.options.filtered == "drop":
                continue
            annotation: dict[str, Any] = {
                "id": self._next_id,
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
            self._next_id += 1

    def _segmentation(self, frame: FrameLabels, obj: ObjectLabel, crowd: bool) -> Any:
        """RLE for crowds (always) and, with segmentation = "rle", for the rest when `masks`
        is listed; otherwise a COCO polygon list, one polygon per connected component."""
        if obj.rle is not None and (crowd or self.options.segmentation == "rle"):
            return obj.rle
        if not crowd and self.options.segmentation == "rle":
            return None  # no `masks` label: boxes only, as before
        x, y, w, h = obj.bbox
        crop = frame.passes.instance[y : y + h, x : x + w] == obj.instance_id
        if crowd:
            mask = np.zeros(frame.passes.instance.shape, dtype=bool)
            mask[y : y + h, x : x + w] = crop
            return encode_rle(mask)
        polygons = mask_polygons(crop, self.options.tolerance)
        # Vertices lie on pixel corners, so they are whole numbers.
        return [(p + np.array([x, y])).astype(int).ravel().tolist() for p in polygons]

    def _category(self, category_id: int, name: str) -> dict[str, Any]:
        category: dict[str, Any] = {"id": category_id, "name": name, "supercategory": name}
        schema = self.dataset.keypoints.get(name)
        if schema is not None and "keypoints" in self.dataset.labels:
            index = {n: i + 1 for i, n in enumerate(schema.names)}  # COCO skeletons are 1-based
            category["keypoints"] = list(schema.names)
            category["skeleton"] = [[index[a], index[b]] for a, b in schema.skeleton]
        return category

    def close(self) -> None:
        for part in (self._images, self._annotations):
            part.close()
        categories = [self._category(i + 1, name) for i, name in enumerate(self.dataset.categories)]
        info = {
            "description": self.dataset.world_name,
            "version": "1.0",
            "contributor": "sim (synthetic)",
        }
        temporary = self.path.with_name(f".{self.path.name}.part")
        with temporary.open("w") as out:
            out.write('{"info": ' + json.dumps(info) + ', "licenses": [], "images": [')
            _copy_lines(self._images.name, out)
            out.write('], "annotations": [')
            _copy_lines(self._annotations.name, out)
            out.write('], "categories": ' + json.dumps(categories) + "}\n")
        os.replace(temporary, self.path)
        for part in (self._images, self._annotations):
            os.unlink(part.name)

    def abort(self) -> None:
        for part in (self._images, self._annotations):
            part.close()


def _copy_lines(path: str, out) -> None:
    with open(path) as lines:
        for number, line in enumerate(lines):
            out.write(("," if number else "") + line.rstrip("\n"))


@hookimpl
def sim_register_writers(register):
    register(CocoWriter)
