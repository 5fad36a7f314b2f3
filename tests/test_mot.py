"""Writer mot: each clip a MOT Challenge sequence, read by motmetrics (the ground truth scored
against itself is perfect) and by configparser (seqinfo.ini)."""

import configparser
import json

import motmetrics as mm
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as coco_mask

from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

WORLD = """
[world]
name = "mot"
seed = 2
frames = 12
[camera]
resolution = [96, 72]
position = [0, -7, 3]
target = [0, 0, 0.4]
[clip]
frames = 6
fps = 12
[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere"] }
count = 4
size = 0.5
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 12
[[randomizers]]
type = "scatter"
targets = ["primitive"]
low = [-1.5, -1.0, 0.6]
high = [1.5, 1.0, 1.5]
[[randomizers]]
type = "throw"
targets = ["primitive"]
velocity = { uniform = [[-1.5, -1.5, 0], [1.5, 1.5, 1]] }
[output]
labels = ["boxes", "masks", "visibility", "instance"]
writers = ["native", "mot"]
"""


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mot")
    (folder / "world.toml").write_text(WORLD)
    return run(load_world(folder / "world.toml"), RunOptions(folder / "out", shard_size=6)).root


def _records(root):
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def test_each_clip_is_a_sequence_with_its_seqinfo_and_images(dataset):
    sequences = sorted(p.name for p in (dataset / "mot").iterdir())
    assert sequences == ["mot-000000", "mot-000001"]
    for name in sequences:
        info = configparser.ConfigParser()
        info.read(dataset / "mot" / name / "seqinfo.ini")
        sequence = info["Sequence"]
        assert sequence["name"] == name and sequence["imDir"] == "img1"
        assert (sequence.getint("frameRate"), sequence.getint("seqLength")) == (12, 6)
        assert (sequence.getint("imWidth"), sequence.getint("imHeight")) == (96, 72)
        images = sorted((dataset / "mot" / name / "img1").iterdir())
        assert [p.name for p in images] == [f"{k:06d}.jpg" for k in range(1, 7)]
    clip = int(sequences[1].rsplit("-", 1)[1])
    same = dataset / "images" / f"{clip * 6 + 2:06d}.jpg"
    frame = np.asarray(Image.open(dataset / "mot" / sequences[1] / "img1" / "000003.jpg"))
    assert np.array_equal(frame, np.asarray(Image.open(same)))


# motmetrics 1.4 (its latest) indexes a DataFrame with a tuple, which pandas 3 deprecates.
@pytest.mark.filterwarnings("ignore:Operation with tuple is deprecated")
def test_motmetrics_reads_the_ground_truth_and_scores_it_perfect(dataset):
    records = _records(dataset)
    for name in ("mot-000000", "mot-000001"):
        gt = mm.io.loadtxt(dataset / "mot" / name / "gt" / "gt.txt", fmt="mot15-2D")
        clip = int(name[-6:])
        lines = [o for r in records if r["clip"]["index"] == clip for o in r["objects"]]
        assert len(gt) == len(lines) > 0
        first = next(r for r in records if r["clip"]["index"] == clip and r["objects"])
        obj = first["objects"][0]
        row = gt.loc[(first["clip"]["frame"] + 1, obj["instance_id"])]
        x, y, w, h = obj["amodal_bbox"]
        # motmetrics turns MOT's 1-based pixels back into 0-based ones, as sim's boxes are
        assert row["X"] == pytest.approx(x, abs=1e-3)
        assert row["Y"] == pytest.approx(y, abs=1e-3)
        assert (row["Width"], row["Height"]) == pytest.approx((w, h), abs=1e-3)
        assert row["Visibility"] == pytest.approx(obj["visibility"], abs=1e-6)
        accumulator = _self_scored(gt)
        summary = mm.metrics.create().compute(
            accumulator, metrics=["mota", "num_switches", "num_false_positives"], name=name
        )
        assert summary["mota"].iloc[0] == 1.0
        assert summary["num_switches"].iloc[0] == 0


def _self_scored(gt) -> mm.MOTAccumulator:
    """The ground truth as its own tracker, frame by frame, matched at IoU 0.5 (IoU by
    pycocotools: motmetrics 1.4's own IoU calls np.asfarray, gone from numpy 2). pycocotools
    reads the boxes' buffer in row order: a DataFrame's columns come out column-major, which
    it misreads (a box's IoU with itself then 0), hence the C-ordered copy."""
    accumulator = mm.MOTAccumulator(auto_id=True)
    for _, rows in gt.groupby(level=0):
        ids = rows.index.get_level_values(1).to_numpy()
        boxes = np.ascontiguousarray(rows[["X", "Y", "Width", "Height"]].to_numpy(dtype=float))
        overlap = coco_mask.iou(boxes, boxes, [0] * len(boxes))
        accumulator.update(ids, ids, np.where(overlap >= 0.5, 1 - overlap, np.nan))
    return accumulator


def test_ids_in_the_ground_truth_are_the_clips_track_ids(dataset):
    records = _records(dataset)
    for clip in (0, 1):
        ids = {t["track_id"] for r in records if r["clip"]["index"] == clip for t in r["tracks"]}
        text = (dataset / "mot" / f"mot-{clip:06d}" / "gt" / "gt.txt").read_text()
        assert {int(line.split(",")[1]) for line in text.splitlines()} <= ids


def test_mot_without_a_clip_is_one_clear_message(write_world):
    text = (
        WORLD.replace("[clip]\nframes = 6\nfps = 12\n", "")
        .replace('[[randomizers]]\ntype = "throw"', '[[randomizers]]\ntype = "settle"')
        .replace("velocity = { uniform = [[-1.5, -1.5, 0], [1.5, 1.5, 1]] }\n", "")
    )
    from simulator.capture.frame import Renderer

    with pytest.raises(WorldError, match=r"writer 'mot' writes clips: the world needs a \[clip\]"):
        Renderer(load_world(write_world(text)))
