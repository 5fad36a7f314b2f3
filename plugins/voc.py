"""Writer "voc": Pascal VOC, one XML file per frame, in the dataset's `voc/` folder.

Layout (the VOC devkit's, VOC2012 without the year folder):

  Annotations/000000.xml        the frame's objects: name, pose, truncated, occluded (with
                                the `visibility` label), difficult, bndbox
  JPEGImages/000000.jpg         hard link to images/000000.jpg
  ImageSets/Main/train.txt      the split, one id a line (val.txt, trainval.txt likewise)
  SegmentationObject/000000.png with `masks = true`: palette PNG, index = the object's place
                                in the XML (1, 2, ...), 0 background, 255 an object left out
  SegmentationClass/000000.png  index = category_id, 0 background, 255 an object left out
  ImageSets/Segmentation/*.txt  the same split, for the masks
  labelmap.txt                  the categories and their colours, as datumaro reads them

Coordinates follow the devkit: pixel indices from 1, boxes inclusive, so the box of sim's
visible pixels [x, y, w, h] (columns x .. x + w - 1) is xmin = x + 1, ymin = y + 1,
xmax = x + w, ymax = y + h. `truncated` is 1 when any of the amodal box lies outside the
image (sim's `truncation` > 0); `occluded` is 1 when sim's `visibility` < 1. Objects below
`min_pixels` / `min_visibility` are, by default, written with `difficult` 1, which VOC
evaluation ignores (`filtered = "drop"` leaves them out).

Loaded by hand with datumaro 1.12.0 (`Dataset.import_from("voc", "voc")`): subsets train,
val and trainval, every object with its attributes and, with masks, its instance mask.
datumaro reads bndbox as 0-based (x = xmin, w = xmax - xmin): one pixel right of and
narrower than the devkit's meaning.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TextIO

import numpy as np
from PIL import Image
from pydantic import Field

from sim_plugins import splits
from simulator import (
    DatasetInfo,
    Filtered,
    FrameLabels,
    ObjectLabel,
    VisibilityFilter,
    Writer,
    atomic_link,
    atomic_open,
    atomic_write,
    filtering,
    hookimpl,
)

FOLDER = "voc"
LISTS = ("train", "val", "trainval")


class VocParams(VisibilityFilter, splits.SplitParams):
    masks: bool = Field(
        True, description="Write SegmentationObject/ and SegmentationClass/ palette PNGs."
    )
    filtered: Filtered = Field(
        "ignore",
        description="Objects failing min_pixels / min_visibility: ignore = difficult 1, "
        "drop = left out.",
    )


def colormap(count: int = 256) -> np.ndarray:
    """The VOC devkit's palette (VOClabelcolormap): the bits of the index spread over R, G, B."""
    colors = np.zeros((count, 3), np.uint8)
    for index in range(count):
        c, r, g, b = index, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (c & 1) << shift
            g |= ((c >> 1) & 1) << shift
            b |= ((c >> 2) & 1) << shift
            c >>= 3
        colors[index] = (r, g, b)
    return colors


def _element(parent: ET.Element, tag: str, text: object) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = str(text)
    return child


class VocWriter(Writer[VocParams]):
    """Pascal VOC XML annotations, JPEGImages, ImageSets and segmentation PNGs."""

    name = "voc"
    one_per_dataset = True

    def __init__(self, params: VocParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        self.folder = dataset.root / FOLDER
        part = (dataset.part or dataset.root) / FOLDER / "ImageSets"
        kinds = ["Main", "Segmentation"] if params.masks else ["Main"]
        for kind in kinds:
            (part / kind).mkdir(parents=True, exist_ok=True)
        self._lists: dict[str, TextIO] = {
            f"{kind}/{name}": (part / kind / f"{name}.txt").open("w", encoding="utf-8")
            for kind in kinds
            for name in LISTS
        }
        self._images: list[str] = []

    @classmethod
    def requires(cls, params: VocParams) -> set[str]:
        return {"boxes"} | ({"visibility"} if params.min_visibility > 0 else set())

    def write(self, frame: FrameLabels) -> None:
        image = frame.files["image"]
        stem = Path(image).stem
        kept = [
            (obj, not filtering.keep(obj, self.params))
            for obj in frame.objects
            if self.params.filtered == "ignore" or filtering.keep(obj, self.params)
        ]
        xml = ET.tostring(annotation(frame, kept, self.params.masks), encoding="unicode")
        atomic_write(self.folder / "Annotations" / f"{stem}.xml", xml + "\n")
        if self.params.masks:
            self._masks(frame, stem, [obj for obj, _ in kept])
        split = splits.split_of(frame.seed, frame.index, self.params.val_fraction, "voc")
        for kind in {name.split("/")[0] for name in self._lists}:
            self._lists[f"{kind}/{split}"].write(stem + "\n")
            self._lists[f"{kind}/trainval"].write(stem + "\n")
        self._images.append(image)

    def _masks(self, frame: FrameLabels, stem: str, kept: list[ObjectLabel]) -> None:
        ids = frame.passes.instance
        objects = np.zeros(ids.shape, np.uint8)
        classes = np.zeros(ids.shape, np.uint8)
        for obj in frame.objects:  # left out: void (255), as VOC marks what it does not label
            objects[ids == obj.instance_id] = classes[ids == obj.instance_id] = 255
        for number, obj in enumerate(kept, 1):
            objects[ids == obj.instance_id] = number
            classes[ids == obj.instance_id] = obj.category_id
        palette = colormap().ravel().tolist()
        for folder, values in (("SegmentationObject", objects), ("SegmentationClass", classes)):
            picture = Image.fromarray(values, mode="P")
            picture.putpalette(palette)
            with atomic_open(self.folder / folder / f"{stem}.png", "wb") as out:
                picture.save(out, format="PNG")

    def close(self) -> None:
        for part in self._lists.values():
            part.close()
        for image in self._images:
            atomic_link(self.dataset.root / image, self.folder / "JPEGImages" / Path(image).name)

    def abort(self) -> None:
        for part in self._lists.values():
            part.close()

    @classmethod
    def merge(cls, params: VocParams, dataset: DatasetInfo, parts: list[Path]) -> None:
        """The split lists from the parts (the default merge), then labelmap.txt."""
        super().merge(params, dataset, parts)
        colors = colormap(len(dataset.categories) + 1)
        lines = ["# label:color_rgb:parts:actions"] + [
            f"{name}:{','.join(str(int(c)) for c in colors[i])}::"
            for i, name in enumerate(["background", *dataset.categories])
        ]
        atomic_write(dataset.root / FOLDER / "labelmap.txt", "\n".join(lines) + "\n")


def annotation(
    frame: FrameLabels, objects: list[tuple[ObjectLabel, bool]], segmented: bool
) -> ET.Element:
    """The <annotation> of a frame: (object, difficult) pairs in instance-id order."""
    root = ET.Element("annotation")
    _element(root, "folder", "JPEGImages")
    _element(root, "filename", Path(frame.files["image"]).name)
    source = ET.SubElement(root, "source")
    _element(source, "database", "sim (synthetic)")
    size = ET.SubElement(root, "size")
    for tag, value in (("width", frame.width), ("height", frame.height), ("depth", 3)):
        _element(size, tag, value)
    _element(root, "segmented", int(segmented))
    for obj, difficult in objects:
        item = ET.SubElement(root, "object")
        _element(item, "name", obj.category)
        _element(item, "pose", "Unspecified")
        _element(item, "truncated", int((obj.truncation or 0.0) > 0))
        if obj.visibility is not None:
            _element(item, "occluded", int(obj.visibility < 1))
        _element(item, "difficult", int(difficult))
        x, y, w, h = obj.bbox
        box = ET.SubElement(item, "bndbox")
        for tag, value in (("xmin", x + 1), ("ymin", y + 1), ("xmax", x + w), ("ymax", y + h)):
            _element(box, tag, value)
    ET.indent(root)
    return root


@hookimpl
def sim_register_writers(register):
    register(VocWriter)
