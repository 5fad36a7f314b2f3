"""`sim run` end to end: the dataset on disk, COCO through pycocotools, determinism."""

import json
from pathlib import Path

import numpy as np
from datasets import dataset_files
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from simulator.capture.pipeline import Pipeline, host_for
from simulator.dataset.encode import read_png16
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world


def render(world_path: Path, out: Path, **kw):
    return run(load_world(world_path), RunOptions(out, **kw))


def test_dataset_layout_and_manifest(write_world, tmp_path):
    summary = render(write_world(), tmp_path / "out")
    root = summary.root
    names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    frames = [f"{i:06d}" for i in range(4)]
    assert names == sorted(
        [
            "manifest.json",
            "frames.jsonl",
            "annotations/instances.json",
            *(f"images/{f}.jpg" for f in frames),
            *(f"instances/{f}.png" for f in frames),
            *(f"semantic/{f}.png" for f in frames),
            *(f"depth/{f}.png" for f in frames),
        ]
    )
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["frames_done"] == 4
    assert manifest["seed"] == 11 and manifest["categories"] == ["box", "sphere", "torus", "teapot"]
    assert "llvmpipe" in manifest["renderer"] or manifest["renderer"]


def test_coco_loads_and_rle_areas_equal_mask_pixels(write_world, tmp_path):
    root = render(write_world(), tmp_path / "out").root
    coco = COCO(str(root / "annotations/instances.json"))
    assert len(coco.getImgIds()) == 4
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == [
        "box",
        "sphere",
        "torus",
        "teapot",
    ]
    assert coco.getAnnIds(), "the small world always shows objects"
    for image in coco.loadImgs(coco.getImgIds()):
        instance = read_png16(root / "instances" / image["file_name"].replace(".jpg", ".png"))
        for ann in coco.loadAnns(coco.getAnnIds(imgIds=image["id"])):
            mask = coco.annToMask(ann)
            assert mask.sum() == ann["area"] == mask_utils.area(ann["segmentation"])
            ys, xs = np.nonzero(mask)
            x, y, w, h = ann["bbox"]
            assert [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()] == [
                x,
                y,
                w,
                h,
            ]
            # The mask is exactly the pixels of one instance id in the instance PNG.
            ids = np.unique(instance[mask.astype(bool)])
            assert len(ids) == 1 and np.array_equal(instance == ids[0], mask.astype(bool))


def test_native_record_matches_coco_and_images(write_world, tmp_path):
    root = render(write_world(), tmp_path / "out").root
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    coco = json.loads((root / "annotations/instances.json").read_text())
    assert [r["frame"] for r in records] == [0, 1, 2, 3]
    assert sum(len(r["objects"]) for r in records) == len(coco["annotations"])
    record = records[0]
    assert record["camera"]["K"][0][2] == 79.5 and len(record["camera"]["cam_to_world"]) == 4
    with Image.open(root / record["files"]["image"]) as image:
        assert image.size == (160, 120)
    depth = read_png16(root / record["files"]["depth"])
    instance = read_png16(root / record["files"]["instance"])
    assert np.all((depth == 0) == (instance == 0)), "depth is 0 exactly on background"
    labeled = {o["instance_id"] for o in record["objects"]}
    entities = {e["instance_id"]: e for e in record["scene"]["entities"]}
    assert all(entities[i]["category"] is not None for i in labeled)
    assert any(e["category"] is None for e in entities.values()), "the floor is a distractor"


def test_same_seed_gives_identical_files_and_another_seed_differs(write_world, tmp_path):
    world = write_world()
    first = dataset_files(render(world, tmp_path / "a").root)
    second = dataset_files(render(world, tmp_path / "b").root)
    assert first == second
    loaded = load_world(world)
    loaded.world.seed = 12
    third = dataset_files(run(loaded, RunOptions(tmp_path / "c")).root)
    assert third["frames.jsonl"] != first["frames.jsonl"]


def test_a_frame_depends_only_on_seed_and_index(write_world, tmp_path):
    world = load_world(write_world())
    alone = run(world, RunOptions(tmp_path / "alone", start=2, frames=1)).root
    full = render(write_world(), tmp_path / "full").root
    line = (alone / "frames.jsonl").read_text()
    assert line == (full / "frames.jsonl").read_text().splitlines(keepends=True)[2]


def test_adding_a_randomizer_does_not_change_the_others_draws(write_world):
    base = write_world()
    extended = write_world(
        base.read_text().replace(
            '[[randomizers]]\ntype = "color"',
            '[[randomizers]]\ntype = "rotation"\n\n[[randomizers]]\ntype = "color"',
        ),
        "extended.toml",
    )
    scenes = []
    for path in (base, extended):
        world = load_world(path)
        scenes.append(Pipeline(world, host_for(world)).build_scene(3))
    a, b = scenes
    assert [e.color.tolist() for e in a] == [e.color.tolist() for e in b]
    assert [e.position.tolist() for e in a] == [e.position.tolist() for e in b]
    assert [e.hpr.tolist() for e in a] != [e.hpr.tolist() for e in b]


def test_png_images_when_the_world_asks(write_world, tmp_path):
    world = load_world(write_world())
    world.output.image_format = "png"
    root = run(world, RunOptions(tmp_path / "out", frames=1)).root
    with Image.open(root / "images" / "000000.png") as image:
        assert image.format == "PNG" and image.mode == "RGB"
    coco = json.loads((root / "annotations/instances.json").read_text())
    assert coco["images"][0]["file_name"] == "000000.png"
