"""Writer "yolo": an Ultralytics YOLO dataset (detect or segment) that `yolo train` reads.

Layout, in the dataset root beside images/:

  labels/000000.txt   one line per kept object, named like its image
  train.txt, val.txt  the split: one `./images/000000.jpg` line per frame
  data.yaml           train: train.txt, val: val.txt, nc, names

How Ultralytics reads it (read in the ultralytics/ultralytics source, and checked by loading
a dataset with ultralytics 8.4.190's `check_det_dataset` and `YOLODataset`):

- `check_det_dataset` (ultralytics/data/utils.py) loads the YAML with `append_filename=True`
  (so `data["yaml_file"]` is the YAML path as given), then takes the dataset root as
  `Path(extract_dir or data.get("path") or Path(data.get("yaml_file", "")).parent)`, and
  sets `data[k] = str((path / data[k]).resolve())` for train and val. Without a `path` key
  the root is therefore the directory holding data.yaml, wherever the command runs. A
  relative `path: .` would instead be taken against the working directory (and a missing
  relative one against DATASETS_DIR), which is why data.yaml has no `path` key.
- `BaseDataset.get_img_files` (ultralytics/data/base.py) reads a .txt list and rewrites each
  line starting with "./" as `x.replace("./", str(p.parent) + os.sep)`, p being the list
  file: the lines are relative to the list's own directory. Lines without "./" would be
  taken as they are (relative to the working directory), so every line has it.
- `img2label_paths` (ultralytics/data/utils.py) maps an image path to its label file by
  replacing the last "/images/" with "/labels/" and the extension with ".txt".
- `verify_image_label` reads a line with more than 6 values as a polygon (class, x1 y1 ...)
  and a file with no lines as a background image; coordinates must lie in [0, 1].

Label files are written per frame; the lists stream into each shard's part and are joined,
with data.yaml written, in `merge()`, so a run that stops early leaves no train.txt /
data.yaml. One yolo writer per dataset: the names above are fixed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from simulator import (
    DatasetInfo,
    FrameLabels,
    ObjectLabel,
    VisibilityFilter,
    Writer,
    atomic_write,
    filtering,
    hookimpl,
    mask_polygons,
    merge_polygons,
)
from simulator.seeding import stream

SPLIT_STREAM = "writer:yolo:split"


class YoloParams(VisibilityFilter):
    task: Literal["detect", "segment"] = Field(
        "detect", description="detect: boxes (class cx cy w h); segment: one polygon per object."
    )
    val_fraction: float = Field(
        0.2, ge=0.0, le=1.0, description="Share of frames listed in val.txt (seeded per frame)."
    )
    tolerance: float = Field(
        1.0, ge=0.0, description="Polygon simplification (Douglas-Peucker), pixels; 0 = exact."
    )


def is_val(seed: int, frame: int, val_fraction: float) -> bool:
    """Whether frame `frame` of a world with seed `seed` goes to val.txt: a draw of its own
    stream, so it depends only on (seed, frame), never on which frames a run renders."""
    return bool(stream(seed, frame, SPLIT_STREAM).random() < val_fraction)


def label_path(image: str) -> str:
    """The dataset-relative label file of a dataset-relative image path, mapped as
    Ultralytics' `img2label_paths` maps the listed `./images/...` line."""
    listed = "./" + image
    if "/images/" not in listed:
        raise ValueError(f"YOLO needs images in an images/ folder, got {image!r}")
    return "/labels/".join(listed.rsplit("/images/", 1)).rsplit(".", 1)[0][2:] + ".txt"


class YoloWriter(Writer[YoloParams]):
    """Ultralytics YOLO detection or segmentation labels, a seeded train/val split, data.yaml."""

    name = "yolo"
    one_per_dataset = True

    def __init__(self, params: YoloParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        self.root = dataset.root
        (self.root / "labels").mkdir(parents=True, exist_ok=True)
        part = dataset.part or dataset.root
        part.mkdir(parents=True, exist_ok=True)
        self._lists = {
            split: (part / f"{split}.txt").open("w", encoding="utf-8") for split in ("train", "val")
        }

    @classmethod
    def requires(cls, params: YoloParams) -> set[str]:
        return {"visibility"} if params.min_visibility > 0 else set()

    def write(self, frame: FrameLabels) -> None:
        params = self.params
        image = frame.files["image"]
        kept = [obj for obj in frame.objects if filtering.keep(obj, params)]
        lines = [self._line(frame, obj) + "\n" for obj in kept]
        atomic_write(self.root / label_path(image), "".join(lines))
        split = "val" if is_val(frame.seed, frame.index, params.val_fraction) else "train"
        self._lists[split].write(f"./{image}\n")

    def _line(self, frame: FrameLabels, obj: ObjectLabel) -> str:
        params = self.params
        width, height = frame.width, frame.height
        cls = obj.category_id - 1
        x, y, w, h = obj.bbox
        if params.task == "detect":
            box = ((x + w / 2) / width, (y + h / 2) / height, w / width, h / height)
            return f"{cls} " + " ".join(f"{v:.6f}" for v in box)
        mask = frame.passes.instance[y : y + h, x : x + w] == obj.instance_id
        polygon = merge_polygons(mask_polygons(mask, params.tolerance)) + np.array([x, y])
        normalized = polygon / np.array([width, height])
        return f"{cls} " + " ".join(f"{v:.6f}" for v in normalized.ravel())

    def close(self) -> None:
        for part in self._lists.values():
            part.close()

    def abort(self) -> None:
        self.close()

    @classmethod
    def merge(cls, params: YoloParams, dataset: DatasetInfo, parts: list[Path]) -> None:
        """train.txt and val.txt from the parts (the default merge), then data.yaml."""
        super().merge(params, dataset, parts)
        names = "".join(
            f"  {i}: {json.dumps(name, ensure_ascii=False)}\n"
            for i, name in enumerate(dataset.categories)
        )
        text = (
            f"# Ultralytics YOLO dataset written by sim (world {dataset.world_name!r}).\n"
            "# No `path:` key on purpose: Ultralytics then resolves train/val against the\n"
            "# folder holding this file, wherever it runs. Train: yolo train data=<this file>\n"
            "train: train.txt\n"
            "val: val.txt\n"
            f"nc: {len(dataset.categories)}\n"
            f"names:\n{names}"
        )
        atomic_write(dataset.root / "data.yaml", text)


@hookimpl
def sim_register_writers(register):
    register(YoloWriter)
