"""The voc writer, read back as the VOC devkit defines the files (1-based inclusive boxes,
palette masks), against the instance pass and the native record."""

import json
import os
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from writer_runs import assert_same_bytes_across_workers_and_resume

from sim_plugins.splits import is_val
from sim_plugins.voc import VocParams, VocWriter
from simulator import WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

WORLD = """
[world]
name = "voc"
seed = 4
frames = 6
[camera]
resolution = [160, 120]
[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "torus"] }
count = { range = [3, 5] }
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
[[randomizers]]
type = "position"
targets = ["primitive"]
position = { uniform = [[-2.5, -2.5, 0.2], [2.5, 2.5, 1.0]] }
[[randomizers]]
type = "camera_orbit"
[output]
"""
# The devkit's colours (VOClabelcolormap.m) of the indices used here.
VOC_COLORS = {0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 3: (128, 128, 0), 4: (0, 0, 128)}
VOC_COLORS[255] = (224, 224, 192)


def write_world(tmp_path: Path, writer: str) -> Path:
    path = tmp_path / "world.toml"
    path.write_text(textwrap.dedent(WORLD) + f'writers = ["native", {writer}]\n')
    return path


def render(tmp_path: Path, writer: str = '"voc"') -> Path:
    return run(load_world(write_world(tmp_path, writer)), RunOptions(tmp_path / "out")).root


def records(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def read_objects(path: Path) -> tuple[ET.Element, list[dict]]:
    """An annotation file as the devkit's VOCreadxml sees it; boxes back to 0-based
    [x, y, w, h] of the pixels they include."""
    root = ET.parse(path).getroot()
    objects = []
    for item in root.iter("object"):
        box = {
            tag: int(item.find(f"bndbox/{tag}").text) for tag in ("xmin", "ymin", "xmax", "ymax")
        }
        objects.append(
            {
                "name": item.find("name").text,
                "bbox": [
                    box["xmin"] - 1,
                    box["ymin"] - 1,
                    box["xmax"] - box["xmin"] + 1,
                    box["ymax"] - box["ymin"] + 1,
                ],
                **{
                    k: int(item.find(k).text)
                    for k in ("truncated", "difficult", "occluded")
                    if item.find(k) is not None
                },
            }
        )
    return root, objects


def tight_box(mask: np.ndarray) -> list[int]:
    rows, cols = np.nonzero(mask)
    return [
        int(cols.min()),
        int(rows.min()),
        int(cols.max() - cols.min() + 1),
        int(rows.max() - rows.min() + 1),
    ]


def test_annotations_boxes_and_flags_follow_the_devkit(tmp_path):
    root = render(tmp_path)
    truncated = 0
    for record in records(root):
        stem = f"{record['frame']:06d}"
        xml, objects = read_objects(root / "voc/Annotations" / f"{stem}.xml")
        assert xml.find("filename").text == f"{stem}.jpg"
        assert [int(xml.find(f"size/{k}").text) for k in ("width", "height", "depth")] == [
            160,
            120,
            3,
        ]
        ids = np.asarray(Image.open(root / record["files"]["instance"]))
        assert len(objects) == len(record["objects"])
        for found, obj in zip(objects, record["objects"], strict=True):
            assert found["name"] == obj["category"]
            assert found["bbox"] == tight_box(ids == obj["instance_id"])
            assert found["truncated"] == int(obj["truncation"] > 0)
            assert found["occluded"] == int(obj["visibility"] < 1)
            assert found["difficult"] == 0
            truncated += found["truncated"]
        image = root / "voc/JPEGImages" / f"{stem}.jpg"
        assert os.path.samefile(image, root / "images" / f"{stem}.jpg")
    assert truncated > 0


def test_segmentation_pngs_are_the_exact_masks_in_the_voc_palette(tmp_path):
    root = render(tmp_path)
    for record in records(root):
        stem = f"{record['frame']:06d}"
        ids = np.asarray(Image.open(root / record["files"]["instance"]))
        pictures = {
            k: Image.open(root / "voc" / k / f"{stem}.png")
            for k in ("SegmentationObject", "SegmentationClass")
        }
        for picture in pictures.values():
            assert picture.mode == "P"
            palette = np.array(picture.getpalette()).reshape(-1, 3)
            assert all(tuple(palette[i]) == color for i, color in VOC_COLORS.items())
        objects, classes = (np.asarray(p) for p in pictures.values())
        expected_objects = np.zeros_like(objects)
        expected_classes = np.zeros_like(classes)
        for number, obj in enumerate(record["objects"], 1):
            expected_objects[ids == obj["instance_id"]] = number
            expected_classes[ids == obj["instance_id"]] = obj["category_id"]
        assert np.array_equal(objects, expected_objects)
        assert np.array_equal(classes, expected_classes)


def test_image_sets_hold_the_seeded_split(tmp_path):
    root = render(tmp_path, '{ type = "voc", val_fraction = 0.5 }')
    stems = [f"{i:06d}" for i in range(6)]
    val = [s for i, s in enumerate(stems) if is_val(4, i, 0.5, "voc")]
    for kind in ("Main", "Segmentation"):
        lists = {
            n: (root / "voc/ImageSets" / kind / f"{n}.txt").read_text().split()
            for n in ("train", "val", "trainval")
        }
        assert lists["val"] == val and 0 < len(val) < 6
        assert lists["train"] == [s for s in stems if s not in val]
        assert lists["trainval"] == stems
    labelmap = (root / "voc/labelmap.txt").read_text().splitlines()
    assert labelmap[1:] == [
        "background:0,0,0::",
        "box:128,0,0::",
        "sphere:0,128,0::",
        "torus:128,128,0::",
    ]


def test_filtered_objects_are_difficult_or_left_out_and_void_in_the_masks(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    ignore = render(tmp_path / "a", '{ type = "voc", min_pixels = 150 }')
    drop = render(tmp_path / "b", '{ type = "voc", min_pixels = 150, filtered = "drop" }')
    small = 0
    for record in records(ignore):
        stem = f"{record['frame']:06d}"
        _, kept = read_objects(ignore / "voc/Annotations" / f"{stem}.xml")
        _, dropped = read_objects(drop / "voc/Annotations" / f"{stem}.xml")
        assert [o["difficult"] for o in kept] == [int(o["area"] < 150) for o in record["objects"]]
        assert [o["bbox"] for o in dropped] == [
            o["bbox"] for o in record["objects"] if o["area"] >= 150
        ]
        ids = np.asarray(Image.open(ignore / record["files"]["instance"]))
        objects = np.asarray(Image.open(drop / "voc/SegmentationObject" / f"{stem}.png"))
        for obj in record["objects"]:
            if obj["area"] < 150:
                assert (objects[ids == obj["instance_id"]] == 255).all()
                small += 1
    assert small > 0


def test_voc_is_byte_identical_across_workers_and_resume(tmp_path, monkeypatch):
    files = assert_same_bytes_across_workers_and_resume(
        write_world(tmp_path, '"voc"'), tmp_path, monkeypatch
    )
    assert sum(name.startswith("voc/Annotations/") for name in files) == 6
    assert sum(name.startswith("voc/JPEGImages/") for name in files) == 6


def test_voc_needs_boxes_and_names_bad_parameters(tmp_path):
    assert VocWriter.requires(VocParams()) == {"boxes"}
    assert VocWriter.requires(VocParams(min_visibility=0.5)) == {"boxes", "visibility"}
    path = write_world(tmp_path, '"voc"')
    path.write_text(
        path.read_text().replace("[output]\n", '[output]\nlabels = ["masks", "instance"]\n')
    )
    with pytest.raises(WorldError, match=r"writer 'voc' needs the label\(s\) 'boxes'"):
        run(load_world(path), RunOptions(tmp_path / "out"))
    with pytest.raises(WorldError, match=r"output\.writers\[1\]\.filtered"):
        render(tmp_path, '{ type = "voc", filtered = "crowd" }')
    assert not (tmp_path / "out").exists()
