"""Writer "yolo": an Ultralytics YOLO dataset (detect, segment, pose or obb) in `yolo/`.

Layout, in the dataset's `yolo/` folder:

  data.yaml                 train: images/train, val: images/val, nc, names (pose: kpt_shape,
                            flip_idx)
  images/train/000000.jpg   the frame's image, a hard link to images/000000.jpg (a copy
                            where the file system has no hard links); images/val/ likewise
  labels/train/000000.txt   one line per kept object (plugins/yolo_lines.py), named like
                            its image; labels/val/ likewise

One folder per split, images and labels side by side, is the layout every YOLO reader finds
natively, which lists of image paths (the train.txt / val.txt this writer wrote before) are
not (read in their sources; loaded by hand, see docs/formats.md):

- Ultralytics (`check_det_dataset`, `img2label_paths`): without a `path` key the root is
  the folder holding data.yaml, wherever the command runs; `train`/`val` are folders below
  it, listed recursively; a label is found by replacing the last `/images/` of the image
  path with `/labels/`. Loaded with ultralytics 8.4.190 (`check_det_dataset`,
  `YOLODataset`, every task).
- datumaro's `yolo_ultralytics` takes the subset from a label's parent folder
  (`labels/train/`) and pairs it with the image of the same stem whose parent folder has the
  same name: the split survives, and the sim dataset's instances/*.png (same stems) are
  outside `yolo/`. Its parser reads 5-value lines only: detect datasets.
- supervision's `DetectionDataset.from_yolo(images, labels, data.yaml)` lists one images
  folder and looks up `<stem>.txt` in one labels folder: a folder per split. It reads
  detect, segment, obb (`is_obb=True`) and pose (the boxes).
- FiftyOne's `YOLOv5Dataset` (`yaml_path="data.yaml"`, `split="train"`) lists the split's
  folder and maps `/images/` to `/labels/` as Ultralytics does. Loaded with fiftyone 1.22.1
  (detect, and segment as polylines): every sample of both splits, boxes as in COCO. It
  looks for `dataset.yaml` unless told `yaml_path`; no test (too heavy for CI).

Label files are written per frame; the images are linked when the shard closes (a frame's
image is encoded while the next frame renders) and data.yaml is written by `merge()`, so a
run that stops early leaves no data.yaml. One yolo writer per dataset: the names are fixed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import Field

from sim_plugins import splits, yolo_lines
from simulator import (
    DatasetInfo,
    FrameLabels,
    KeypointSchema,
    ObjectLabel,
    VisibilityFilter,
    WorldError,
    Writer,
    atomic_link,
    atomic_write,
    filtering,
    hookimpl,
)

FOLDER = "yolo"
SPLITS = splits.SPLITS


class YoloParams(VisibilityFilter):
    task: Literal["detect", "segment", "pose", "obb"] = Field(
        "detect",
        description="detect: boxes (class cx cy w h); segment: one polygon per object; pose: "
        "boxes and keypoints; obb: the minimum-area rotated box of the visible pixels.",
    )
    val_fraction: float = Field(
        0.2, ge=0.0, le=1.0, description="Share of frames in the val split (seeded per frame)."
    )
    tolerance: float = Field(
        1.0, ge=0.0, description="Polygon simplification (Douglas-Peucker), pixels; 0 = exact."
    )
    flip_pairs: list[tuple[str, str]] = Field(
        [],
        description="pose: keypoint names that swap in a mirrored image, beside the "
        "left/right names found by themselves (data.yaml's flip_idx).",
    )


def is_val(seed: int, frame: int, val_fraction: float) -> bool:
    """Whether frame `frame` of a world with seed `seed` goes to the val split (the stream
    `writer:yolo:split`; plugins/splits.py)."""
    return splits.is_val(seed, frame, val_fraction, "yolo")


def split_of(frame: FrameLabels, params: YoloParams) -> str:
    return splits.split_of(frame.seed, frame.index, params.val_fraction, "yolo")


def pose_schema(params: YoloParams, dataset: DatasetInfo) -> KeypointSchema:
    """The one keypoint schema of a pose dataset (Ultralytics has one kpt_shape for all
    classes), its flip pairs checked."""
    schemas = list(dict.fromkeys(dataset.keypoints.values()))
    if len(schemas) != 1:
        found = ", ".join(sorted(dataset.keypoints)) or "none"
        raise WorldError(
            f"writer 'yolo' with task = \"pose\" needs one keypoint schema shared by every "
            f"category that has keypoints; categories with keypoints: {found}",
            hint='give the categories the same keypoint names, or use task = "detect"',
        )
    unknown = sorted({n for pair in params.flip_pairs for n in pair} - set(schemas[0].names))
    if unknown:
        raise WorldError(
            f"writer 'yolo': flip_pairs names keypoints the schema lacks: {unknown}",
            hint=f"the keypoints are {list(schemas[0].names)}",
        )
    return schemas[0]


class YoloWriter(Writer[YoloParams]):
    """Ultralytics YOLO labels (detect, segment, pose, obb), a seeded split, data.yaml."""

    name = "yolo"
    one_per_dataset = True

    def __init__(self, params: YoloParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        self.folder = dataset.root / FOLDER
        self.keypoint_count = 0
        if params.task == "pose":
            self.keypoint_count = len(pose_schema(params, dataset).names)
        self._images: list[tuple[str, str]] = []  # (image, split) of this shard's frames

    @classmethod
    def requires(cls, params: YoloParams) -> set[str]:
        needs = {"visibility"} if params.min_visibility > 0 else set()
        return needs | ({"keypoints"} if params.task == "pose" else set())

    def write(self, frame: FrameLabels) -> None:
        image = frame.files["image"]
        split = split_of(frame, self.params)
        kept = [obj for obj in frame.objects if filtering.keep(obj, self.params)]
        lines = "".join(self._line(frame, obj) + "\n" for obj in kept)
        atomic_write(self.folder / "labels" / split / (Path(image).stem + ".txt"), lines)
        self._images.append((image, split))

    def _line(self, frame: FrameLabels, obj: ObjectLabel) -> str:
        task, width, height = self.params.task, frame.width, frame.height
        if task == "segment":
            return yolo_lines.segment(frame, obj, self.params.tolerance)
        if task == "pose":
            return yolo_lines.pose(obj, width, height, self.keypoint_count)
        if task == "obb":
            return yolo_lines.obb(frame, obj)
        return yolo_lines.detect(obj, width, height)

    def close(self) -> None:
        """Link the shard's images into their split folders: they are all written now."""
        for image, split in self._images:
            target = self.folder / "images" / split / Path(image).name
            atomic_link(self.dataset.root / image, target)
        self._images.clear()

    @classmethod
    def merge(cls, params: YoloParams, dataset: DatasetInfo, parts: list[Path]) -> None:
        """data.yaml, once every shard's labels and images are in place."""
        folder = dataset.root / FOLDER
        for kind in ("images", "labels"):
            for split in SPLITS:
                (folder / kind / split).mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "data.yaml", data_yaml(params, dataset))


def data_yaml(params: YoloParams, dataset: DatasetInfo) -> str:
    names = "".join(
        f"  {i}: {json.dumps(name, ensure_ascii=False)}\n"
        for i, name in enumerate(dataset.categories)
    )
    text = (
        f"# Ultralytics YOLO dataset written by sim (world {dataset.world_name!r}), task "
        f"{params.task}.\n"
        "# No `path:` key on purpose: Ultralytics then resolves train/val against the\n"
        f"# folder holding this file, wherever it runs. Train: yolo {params.task} train "
        "data=<this file>\n"
        "train: images/train\n"
        "val: images/val\n"
        f"nc: {len(dataset.categories)}\n"
        f"names:\n{names}"
    )
    if params.task == "pose":
        schema = pose_schema(params, dataset)
        flip = yolo_lines.flip_index(schema, params.flip_pairs)
        text += f"kpt_shape: [{len(schema.names)}, 3]\nflip_idx: {flip}\n"
        listed = json.dumps(list(schema.names), ensure_ascii=False)
        classes = range(len(dataset.categories))
        text += "kpt_names:\n" + "".join(f"  {i}: {listed}\n" for i in classes)
    return text


@hookimpl
def sim_register_writers(register):
    register(YoloWriter)
