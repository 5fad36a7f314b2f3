"""Writers mot and vis in a camera rig: every camera of every clip is a sequence (a video) of
its own. Each camera's MOT ground truth read by motmetrics (scored against itself: perfect)
and compared line by line with that camera's objects in the native record; each camera's
YouTube-VIS masks decoded by pycocotools and compared with that camera's instance pass; the
same bytes across workers and resume."""

import configparser
import json

import motmetrics as mm
import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from test_mot import _self_scored
from writer_runs import assert_same_bytes_across_workers_and_resume

from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

WORLD = """
[world]
name = "rig"
seed = 5
frames = 8
[camera]
resolution = [96, 72]
position = [0, -7, 3]
target = [0, 0, 0.4]
[camera.rig]
kind = "stereo"
baseline = 1.5
[clip]
frames = 4
fps = 8
[[spawners]]
type = "primitive"
name = "things"
category = "thing"
shape = { choice = ["box", "sphere"] }
count = 5
size = 0.6
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 12
[[randomizers]]
type = "scatter"
targets = ["things"]
low = [-3.0, -1.0, 0.6]
high = [3.0, 1.0, 1.5]
[[randomizers]]
type = "throw"
targets = ["things"]
velocity = { uniform = [[-4, -1, 0], [4, 1, 1]] }
[output]
labels = ["boxes", "masks", "visibility", "instance"]
writers = ["native", "mot", "vis"]
"""
CAMERAS = ("left", "right")
CLIPS, LENGTH = 2, 4


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rig_video")
    (folder / "world.toml").write_text(WORLD)
    return run(load_world(folder / "world.toml"), RunOptions(folder / "out", shard_size=4)).root


@pytest.fixture(scope="module")
def records(dataset):
    return [json.loads(line) for line in (dataset / "frames.jsonl").read_text().splitlines()]


def _view(record, camera):
    """The camera's files and objects in a native record (the top level is the first's)."""
    return record if camera == record["rig"]["first"] else record["rig"]["cameras"][camera]


def _clip(records, clip):
    return [r for r in records if r["clip"]["index"] == clip]


def test_every_camera_of_every_clip_is_a_sequence_with_its_own_images(dataset, records):
    names = sorted(p.name for p in (dataset / "mot").iterdir())
    assert names == [f"rig-{c:06d}-{camera}" for c in range(CLIPS) for camera in CAMERAS]
    for clip in range(CLIPS):
        for camera in CAMERAS:
            folder = dataset / "mot" / f"rig-{clip:06d}-{camera}"
            info = configparser.ConfigParser()
            info.read(folder / "seqinfo.ini")
            assert info["Sequence"]["name"] == folder.name
            assert info["Sequence"].getint("seqLength") == LENGTH
            for record in _clip(records, clip):
                number = record["clip"]["frame"] + 1
                mine = np.asarray(Image.open(folder / "img1" / f"{number:06d}.jpg"))
                own = np.asarray(Image.open(dataset / _view(record, camera)["files"]["image"]))
                assert np.array_equal(mine, own)


# motmetrics 1.4 (its latest) indexes a DataFrame with a tuple, which pandas 3 deprecates.
@pytest.mark.filterwarnings("ignore:Operation with tuple is deprecated")
def test_each_cameras_ground_truth_is_its_own_objects_and_scores_perfect(dataset, records):
    differ = 0
    for clip in range(CLIPS):
        boxes = {}
        for camera in CAMERAS:
            name = f"rig-{clip:06d}-{camera}"
            gt = mm.io.loadtxt(dataset / "mot" / name / "gt" / "gt.txt", fmt="mot15-2D")
            expected = {
                (r["clip"]["frame"] + 1, o["instance_id"]): o
                for r in _clip(records, clip)
                for o in _view(r, camera)["objects"]
            }
            assert sorted(gt.index) == sorted(expected) and len(expected) > 0
            for key, obj in expected.items():
                row = gt.loc[key]  # motmetrics gives the boxes back 0-based, as sim's are
                got = (row["X"], row["Y"], row["Width"], row["Height"])
                assert got == pytest.approx(obj["amodal_bbox"], abs=1e-3)
                assert row["Visibility"] == pytest.approx(obj["visibility"], abs=1e-6)
            boxes[camera] = {k: tuple(o["amodal_bbox"]) for k, o in expected.items()}
            summary = mm.metrics.create().compute(
                _self_scored(gt), metrics=["mota", "num_switches"], name=name
            )
            assert summary["mota"].iloc[0] == 1.0
            assert summary["num_switches"].iloc[0] == 0
        both = boxes["left"].keys() & boxes["right"].keys()
        differ += sum(boxes["left"][k] != boxes["right"][k] for k in both)
    assert differ > 0, "the right camera sees the same objects elsewhere"


def test_every_camera_of_every_clip_is_a_video_of_its_masks(dataset, records):
    data = json.loads((dataset / "vis" / "instances.json").read_text())
    videos = {v["id"]: v for v in data["videos"]}
    assert [(v["id"], v["camera"]) for v in data["videos"]] == [
        (clip * 2 + k + 1, camera) for clip in range(CLIPS) for k, camera in enumerate(CAMERAS)
    ]
    tracks = {}
    for annotation in data["annotations"]:
        tracks.setdefault(annotation["video_id"], {})[annotation["track_id"]] = annotation
    for video_id, video in videos.items():
        clip, camera = (video_id - 1) // 2, video["camera"]
        frames = _clip(records, clip)
        assert video["file_names"] == [
            f"rig-{clip:06d}-{camera}/{r['clip']['frame']:06d}.jpg" for r in frames
        ]
        instances = []
        for record, name in zip(frames, video["file_names"], strict=True):
            files = _view(record, camera)["files"]
            image = (dataset / "vis" / "JPEGImages" / name).read_bytes()
            assert image == (dataset / files["image"]).read_bytes()
            instances.append(np.asarray(Image.open(dataset / files["instance"])))
        labeled = {t["track_id"] for r in frames for t in r["tracks"]}  # not the floor
        seen = {int(i) for mask in instances for i in np.unique(mask)} & labeled
        assert set(tracks[video_id]) == seen
        for track_id, annotation in tracks[video_id].items():
            for k, exact in enumerate(mask == track_id for mask in instances):
                segmentation = annotation["segmentations"][k]
                if segmentation is None:
                    assert not exact.any()
                    continue
                np.testing.assert_array_equal(mask_utils.decode(segmentation).astype(bool), exact)
    for clip in range(CLIPS):  # one object, one track id, in both cameras' videos
        left, right = tracks[clip * 2 + 1], tracks[clip * 2 + 2]
        assert left.keys() & right.keys()
        for track_id in left.keys() & right.keys():
            assert left[track_id]["category_id"] == right[track_id]["category_id"]


def test_rig_video_is_the_same_bytes_across_workers_and_resume(tmp_path, monkeypatch):
    world = tmp_path / "world.toml"
    world.write_text(WORLD)
    files = assert_same_bytes_across_workers_and_resume(world, tmp_path, monkeypatch)
    assert "vis/instances.json" in files and "mot/rig-000001-right/gt/gt.txt" in files
