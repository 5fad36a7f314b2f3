"""The yolo writer (read back the way Ultralytics reads it) and the coco writer's polygon and
filter options."""

import glob
import json
import os
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from sim_plugins.coco import CocoParams, CocoWriter
from sim_plugins.yolo import YoloParams, YoloWriter, is_val
from simulator import DatasetInfo, ObjectLabel, WorldError
from simulator.capture.pipeline import Pipeline, host_for
from simulator.labels.rle import encode_rle
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

CATEGORIES = ["box", "sphere", "torus", "teapot"]


def world_with(write_world, output: str, frames: int = 4) -> Path:
    text = write_world().read_text().replace("frames = 4", f"frames = {frames}")  # SMALL_WORLD
    return write_world(text + "\n[output]\n" + output)


def render(path: Path, out: Path, **kw) -> Path:
    return run(load_world(path), RunOptions(out, **kw)).root


def parse_yaml(text: str) -> dict:
    """PyYAML when installed; otherwise a reader for exactly the flat form data.yaml uses."""
    try:
        import yaml
    except ImportError:
        data: dict = {}
        for line in text.splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            key, _, value = line.strip().partition(":")
            value = value.strip()
            if line.startswith("  "):
                data["names"][int(key)] = json.loads(value)
            elif key == "names":
                data["names"] = {}
            else:
                data[key] = int(value) if value.isdigit() else value
        return data
    return yaml.safe_load(text)


def ultralytics_lists(yaml_arg: str) -> dict[str, list[tuple[str, str]]]:
    """(image, label) paths per split, resolved as Ultralytics resolves them.

    check_det_dataset: root = data["path"] or the YAML file's parent; data[k] =
    str((root / data[k]).resolve()). get_img_files: a folder is listed with
    glob(str(p / "**" / "*.*"), recursive=True). img2label_paths: the last "/images/"
    becomes "/labels/", the extension ".txt"."""
    data = parse_yaml(Path(yaml_arg).read_text())
    root = Path(data.get("path") or Path(yaml_arg).parent)
    lists = {}
    for split in ("train", "val"):
        listed = (root / data[split]).resolve()
        assert listed.is_dir(), listed
        images = sorted(glob.glob(str(listed / "**" / "*.*"), recursive=True))
        sa, sb = f"{os.sep}images{os.sep}", f"{os.sep}labels{os.sep}"
        labels = [sb.join(x.rsplit(sa, 1)).rsplit(".", 1)[0] + ".txt" for x in images]
        lists[split] = list(zip(images, labels, strict=True))
    return lists


def coco_by_file(root: Path, path: str = "annotations/instances.json") -> dict[str, list[dict]]:
    coco = json.loads((root / path).read_text())
    files = {image["id"]: image["file_name"] for image in coco["images"]}
    out: dict[str, list[dict]] = {name: [] for name in files.values()}
    for ann in coco["annotations"]:
        out[files[ann["image_id"]]].append(ann)
    return out


def label_file(root: Path, image_name: str) -> Path:
    """The yolo label file of an image, in whichever split folder it went to."""
    (found,) = (root / "yolo" / "labels").glob(f"*/{Path(image_name).stem}.txt")
    return found


def read_label_lines(root: Path, image_name: str) -> list[list[float]]:
    text = label_file(root, image_name).read_text()
    return [[float(v) for v in line.split()] for line in text.splitlines()]


def test_detect_lines_are_the_coco_boxes_normalized(write_world, tmp_path):
    root = render(world_with(write_world, 'writers = ["coco", "yolo"]'), tmp_path / "out")
    width, height = 160, 120
    total = 0
    for name, anns in coco_by_file(root).items():
        text = label_file(root, name).read_text()
        lines = text.splitlines()
        assert len(lines) == len(anns)
        for line, ann in zip(lines, anns, strict=True):
            cls, *box = line.split()
            assert all(len(v.split(".")[1]) == 6 for v in box), "6 decimals"
            x, y, w, h = ann["bbox"]
            expected = [(x + w / 2) / width, (y + h / 2) / height, w / width, h / height]
            assert int(cls) == ann["category_id"] - 1
            assert np.allclose([float(v) for v in box], expected, atol=5e-7, rtol=0)
            total += 1
    assert total > 0


@pytest.mark.parametrize("tolerance", [0.0, 0.5, 1.0])
def test_segment_polygons_cover_the_masks(write_world, tmp_path, tolerance):
    root = render(
        world_with(
            write_world,
            f'writers = ["coco", {{ type = "yolo", task = "segment", tolerance = {tolerance} }}]',
        ),
        tmp_path / "out",
    )
    width, height = 160, 120
    checked = large = 0
    for name, anns in coco_by_file(root).items():
        lines = read_label_lines(root, name)
        assert len(lines) == len(anns)
        for values, ann in zip(lines, anns, strict=True):
            assert int(values[0]) == ann["category_id"] - 1
            points = np.array(values[1:]).reshape(-1, 2)
            assert len(points) >= 3 and points.min() >= 0 and points.max() <= 1
            polygon = (points * (width, height)).ravel().tolist()
            drawn = mask_utils.decode(
                mask_utils.merge(mask_utils.frPyObjects([polygon], height, width))
            ).astype(bool)
            mask = mask_utils.decode(ann["segmentation"]).astype(bool)
            # Holes (a torus's) are cut out of the polygon through slits.
            if tolerance == 0:
                assert np.array_equal(drawn, mask), "an exact outline rasterizes back"
            else:
                # A 1 px tolerance is coarse for objects of a few dozen pixels.
                iou = (drawn & mask).sum() / (drawn | mask).sum()
                small = tolerance > 0.5 and ann["area"] < 200
                assert iou >= (0.5 if small else 0.9), (name, ann["area"], iou)
                assert (drawn & mask).sum() >= (0.5 if small else 0.9) * mask.sum()
            checked += 1
            large += ann["area"] >= 200
    assert checked > 0 and large > 0


def test_data_yaml_and_lists_resolve_as_ultralytics_does(write_world, tmp_path, monkeypatch):
    root = render(
        world_with(write_world, 'writers = [{ type = "yolo", val_fraction = 0.5 }]', frames=6),
        tmp_path / "out",
    )
    text = (root / "yolo/data.yaml").read_text()
    data = parse_yaml(text)
    assert "path" not in data
    assert data["train"] == "images/train" and data["val"] == "images/val"
    assert data["nc"] == 4 and data["names"] == dict(enumerate(CATEGORIES))
    # From another working directory, with the YAML given relatively, as `yolo train data=...`.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    lists = ultralytics_lists(os.path.relpath(root / "yolo/data.yaml"))
    images = sorted(p.name for p in (root / "images").iterdir())
    listed = sorted(Path(image).name for pairs in lists.values() for image, _ in pairs)
    assert listed == images, "every frame in exactly one split"
    assert [Path(i).name for i, _ in lists["val"]] == ["000000.jpg", "000002.jpg", "000003.jpg"]
    for split, pairs in lists.items():
        for image, label in pairs:
            assert Path(image).is_absolute() and Path(image).is_file()
            assert Path(label).is_file()
            assert Path(label).parent == root.resolve() / "yolo/labels" / split
            # The split's image is the frame's image: a hard link, no second copy.
            original = root / "images" / Path(image).name
            assert Path(image).read_bytes() == original.read_bytes()
            assert os.path.samefile(image, original)


def test_split_is_seeded_and_order_independent(write_world, tmp_path):
    world = world_with(write_world, 'writers = [{ type = "yolo", val_fraction = 0.5 }]', frames=6)
    full = render(world, tmp_path / "a")
    again = render(world, tmp_path / "b")
    part = render(world, tmp_path / "c", start=2, frames=3)

    def listed(root: Path, split: str) -> list[str]:
        names = sorted(p.name for p in (root / "yolo/images" / split).iterdir())
        labels = sorted(p.name for p in (root / "yolo/labels" / split).iterdir())
        assert [Path(n).stem for n in names] == [Path(n).stem for n in labels]
        return names

    for split in ("train", "val"):
        assert listed(full, split) == listed(again, split)
        subset = [x for x in listed(full, split) if x in {f"00000{i}.jpg" for i in (2, 3, 4)}]
        assert listed(part, split) == subset
    assert listed(full, "val") == [f"00000{i}.jpg" for i in (0, 2, 3)]
    assert listed(part, "train") == ["000004.jpg"]
    label = "yolo/labels/val/000003.txt"
    assert (full / label).read_bytes() == (part / label).read_bytes()


def test_split_fraction_over_many_frames():
    frames = range(5000)
    for fraction in (0.2, 0.5):
        share = np.mean([is_val(11, i, fraction) for i in frames])
        assert abs(share - fraction) < 0.025
    assert not any(is_val(11, i, 0.0) for i in range(200))
    assert all(is_val(11, i, 1.0) for i in range(200))
    # Depends only on (seed, frame): same answer in any order; another seed splits otherwise.
    forward = [is_val(3, i, 0.3) for i in range(300)]
    backward = [is_val(3, i, 0.3) for i in reversed(range(300))][::-1]
    assert forward == backward
    assert forward != [is_val(4, i, 0.3) for i in range(300)]


def test_empty_label_files_and_min_pixels(write_world, tmp_path):
    root = render(
        world_with(
            write_world,
            'writers = ["coco", { type = "yolo", min_pixels = 100 }, '
            '{ type = "coco", name = "none", path = "none.json", min_pixels = 1000000, filtered = "drop" }]',
        ),
        tmp_path / "out",
    )
    for name, anns in coco_by_file(root).items():
        lines = read_label_lines(root, name)
        big = [a for a in anns if a["area"] >= 100]
        assert [int(v[0]) for v in lines] == [a["category_id"] - 1 for a in big]
    assert any(a["area"] < 100 for anns in coco_by_file(root).values() for a in anns)
    assert json.loads((root / "none.json").read_text())["annotations"] == []


def test_every_object_filtered_gives_empty_label_files(write_world, tmp_path):
    root = render(
        world_with(write_world, 'writers = [{ type = "yolo", min_pixels = 1000000 }]'),
        tmp_path / "out",
    )
    labels = sorted((root / "yolo/labels").glob("*/*.txt"), key=lambda p: p.name)
    assert [p.name for p in labels] == [f"00000{i}.txt" for i in range(4)]
    assert all(p.read_text() == "" for p in labels)


def test_one_yolo_writer_per_dataset(write_world, tmp_path):
    world = world_with(
        write_world, 'writers = ["yolo", { type = "yolo", name = "seg", task = "segment" }]'
    )
    with pytest.raises(
        WorldError,
        match=r"output\.writers\[1\]\.type: only one 'yolo' writer "
        r"per dataset: its file names are fixed",
    ):
        render(world, tmp_path / "out")
    assert not (tmp_path / "out").exists(), "refused before anything is written"


def test_data_yaml_quotes_category_names(tmp_path):
    names = ["plain", "a: b", 'say "hi"', "# not a comment", "ünïcode", "back\\slash"]
    part = tmp_path / ".sim" / "part"
    info = DatasetInfo(tmp_path, "odd", names, 20, 10, 0, {}, [], part=part)
    YoloWriter(YoloParams(), info).close()
    YoloWriter.merge(YoloParams(), info, [part])
    data = parse_yaml((tmp_path / "yolo/data.yaml").read_text(encoding="utf-8"))
    assert data["names"] == dict(enumerate(names)) and data["nc"] == len(names)
    for kind in ("images", "labels"):
        for split in ("train", "val"):
            assert list((tmp_path / "yolo" / kind / split).iterdir()) == []


@pytest.mark.parametrize("writer", ["yolo", "coco"])
def test_min_visibility_requires_the_visibility_label(write_world, writer):
    path = world_with(
        write_world,
        f'labels = ["boxes", "masks", "instance"]\nwriters = [{{ type = "{writer}", min_visibility = 0.5 }}]',
    )
    world = load_world(path)
    with pytest.raises(
        WorldError,
        match=rf"output\.labels: writer '{writer}' needs the label\(s\) 'visibility' \(add 'visibility' to \[output\] labels\)",
    ):
        Pipeline(world, host_for(world))
    ok = load_world(path)
    ok.output.labels = ["boxes", "instance", "visibility"]
    Pipeline(ok, host_for(ok))


# Hand-built frames: the visibility filter without rendering.


def fake_frame(objects: list[ObjectLabel], instance: np.ndarray, index: int = 0):
    return SimpleNamespace(
        index=index,
        seed=11,
        files={"image": f"images/{index:06d}.jpg"},
        width=instance.shape[1],
        height=instance.shape[0],
        passes=SimpleNamespace(instance=instance),
        objects=objects,
    )


def two_objects() -> tuple[list[ObjectLabel], np.ndarray]:
    instance = np.zeros((10, 20), np.uint32)
    instance[1:4, 2:6] = 5  # 12 px, well seen
    instance[5:9, 10:13] = 7  # 12 px, mostly hidden
    objects = [
        ObjectLabel(5, "box", 1, [2, 1, 4, 3], 12, visibility=0.9),
        ObjectLabel(7, "torus", 3, [10, 5, 3, 4], 12, visibility=0.2),
    ]
    return objects, instance


def dataset(root: Path) -> DatasetInfo:
    return DatasetInfo(root, "hand", CATEGORIES, 20, 10, 1, {}, ["boxes", "visibility"])


def test_yolo_drops_objects_below_min_visibility(tmp_path):
    objects, instance = two_objects()
    writer = YoloWriter(YoloParams(min_visibility=0.5), dataset(tmp_path))
    (tmp_path / "images").mkdir()
    (tmp_path / "images/000000.jpg").write_bytes(b"jpeg")
    writer.write(fake_frame(objects, instance))
    writer.close()
    assert is_val(11, 0, 0.2), "frame 0 of seed 11 is a val frame"
    assert (tmp_path / "yolo/images/val/000000.jpg").read_bytes() == b"jpeg"
    assert (tmp_path / "yolo/labels/val/000000.txt").read_text() == (
        "0 0.200000 0.250000 0.200000 0.300000\n"
    )
    assert YoloWriter.requires(YoloParams(min_visibility=0.5)) == {"visibility"}
    assert YoloWriter.requires(YoloParams()) == set()


def test_coco_ignores_or_drops_objects_below_min_visibility(tmp_path):
    objects, instance = two_objects()
    for filtered in ("ignore", "drop"):
        params = CocoParams(path=f"{filtered}.json", min_visibility=0.5, filtered=filtered)
        part = tmp_path / ".sim" / filtered
        info = replace(dataset(tmp_path), part=part)
        writer = CocoWriter(params, info)
        writer.write(fake_frame(objects, instance))
        writer.close()
        CocoWriter.merge(params, info, [part])
    ignore = json.loads((tmp_path / "ignore.json").read_text())["annotations"]
    assert [(a["category_id"], a["iscrowd"]) for a in ignore] == [(1, 0), (3, 1)]
    # No `masks` label, so no segmentation for the kept object; the crowd region gets RLE.
    assert "segmentation" not in ignore[0]
    assert ignore[1]["segmentation"] == encode_rle(instance == 7)
    drop = json.loads((tmp_path / "drop.json").read_text())["annotations"]
    assert [(a["category_id"], a["iscrowd"]) for a in drop] == [(1, 0)]
    assert CocoWriter.requires(params) == {"visibility"}
    assert CocoWriter.requires(CocoParams()) == set()


def test_min_visibility_without_visibility_values_is_an_error(tmp_path):
    objects, instance = two_objects()
    objects[0].visibility = None
    writer = YoloWriter(YoloParams(min_visibility=0.5), dataset(tmp_path))
    with pytest.raises(ValueError, match="min_visibility needs the `visibility` label"):
        writer.write(fake_frame(objects, instance))
    writer.abort()


def test_coco_polygons_load_and_match_the_rle_masks(write_world, tmp_path):
    root = render(
        world_with(
            write_world,
            'writers = [{ type = "coco" }, { type = "coco", name = "poly", '
            'path = "annotations/polygons.json", segmentation = "polygon" }]',
        ),
        tmp_path / "out",
    )
    rle = COCO(str(root / "annotations/instances.json"))
    poly = COCO(str(root / "annotations/polygons.json"))
    assert rle.getAnnIds() == poly.getAnnIds() and rle.getAnnIds()
    for a, p in zip(rle.loadAnns(rle.getAnnIds()), poly.loadAnns(poly.getAnnIds()), strict=True):
        assert (a["bbox"], a["area"], a["iscrowd"]) == (p["bbox"], p["area"], 0)
        assert isinstance(p["segmentation"], list) and p["segmentation"]
        assert all(len(ring) >= 6 and len(ring) % 2 == 0 for ring in p["segmentation"])
        exact, drawn = rle.annToMask(a).astype(bool), poly.annToMask(p).astype(bool)
        assert exact.sum() == a["area"]
        # Holes (a torus's) are cut out of the polygons through slits.
        outline = exact.sum()
        assert abs(int(drawn.sum()) - outline) <= max(3, 0.1 * outline)
        assert (exact & drawn).sum() >= 0.9 * a["area"]


def test_coco_exact_polygons_rasterize_to_the_mask_and_crowds_get_rle(write_world, tmp_path):
    root = render(
        world_with(
            write_world,
            'labels = ["boxes", "instance"]\n'
            'writers = [{ type = "coco", segmentation = "polygon", tolerance = 0, min_pixels = 150 }]',
        ),
        tmp_path / "out",
    )
    coco = COCO(str(root / "annotations/instances.json"))
    anns = coco.loadAnns(coco.getAnnIds())
    crowds = [a for a in anns if a["iscrowd"]]
    assert crowds and len(crowds) < len(anns)
    for ann in anns:
        mask = coco.annToMask(ann).astype(bool)
        assert ann["iscrowd"] == (ann["area"] < 150)
        if ann["iscrowd"]:
            assert isinstance(ann["segmentation"]["counts"], str)
            assert mask.sum() == ann["area"]
        else:
            # Exact outlines with their holes cut out are the object's pixels.
            assert mask.sum() == ann["area"]
            ys, xs = np.nonzero(mask)
            x, y, w, h = ann["bbox"]
            assert [xs.min(), ys.min(), xs.max() + 1 - xs.min(), ys.max() + 1 - ys.min()] == [
                x,
                y,
                w,
                h,
            ]
