"""Writer "coco": COCO instances JSON (boxes, RLE masks, areas) that pycocotools loads.

Frames stream into part files while the run goes; `close()` assembles
annotations/instances.json from them, so memory does not grow with the dataset.
"""

from __future__ import annotations

import json
import os

from pydantic import Field

from simulator import DatasetInfo, FrameLabels, Params, Writer, hookimpl


class CocoParams(Params):
    path: str = Field("annotations/instances.json", description="Where the COCO file goes.")


class CocoWriter(Writer):
    """COCO object detection / instance segmentation annotations."""

    name = "coco"
    Params = CocoParams

    def __init__(self, params: CocoParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        self.path = dataset.root / params.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._images = self.path.with_name(f".{self.path.name}.images.part").open("w")
        self._annotations = self.path.with_name(f".{self.path.name}.annotations.part").open("w")
        self._next_id = 1

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
            annotation = {
                "id": self._next_id,
                "image_id": image_id,
                "category_id": obj.category_id,
                "bbox": obj.bbox,
                "area": obj.area,
                "iscrowd": 0,
            }
            if obj.rle is not None:
                annotation["segmentation"] = obj.rle
            self._annotations.write(json.dumps(annotation) + "\n")
            self._next_id += 1

    def close(self) -> None:
        for part in (self._images, self._annotations):
            part.close()
        categories = [
            {"id": i + 1, "name": name, "supercategory": name}
            for i, name in enumerate(self.dataset.categories)
        ]
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
