"""Writer vis: clips as YouTube-VIS. Read the way its users read it (the YouTube-VIS API's
indexing and annToRLE, a few lines over pycocotools, which is how that API is written: it is
not on PyPI), every frame's RLE decoded by pycocotools and compared with the exact instance
mask; tracks, nulls, boxes and areas checked against the masks; the same bytes across
workers and resume."""

import json
from collections import defaultdict

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from writer_runs import assert_same_bytes_across_workers_and_resume

from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

WORLD = """
[world]
name = "vis"
seed = 4
frames = 10
[camera]
resolution = [80, 60]
position = [0, -6, 2.5]
target = [0, 0, 0.4]
[clip]
frames = 4
fps = 6
[[spawners]]
type = "primitive"
name = "things"
category = "thing"
shape = { choice = ["box", "sphere"] }
count = 6
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
low = [-4.0, -1.0, 0.5]
high = [4.0, 1.0, 1.5]
[[randomizers]]
type = "throw"
targets = ["things"]
velocity = { uniform = [[-8, -1, 0], [8, 1, 1]] }
[output]
labels = ["boxes", "masks", "visibility", "instance"]
writers = ["native", "vis"]
"""


class YouTubeVIS:
    """The index and annToRLE of the YouTube-VIS API (youtubevos/cocoapi, PythonAPI/
    pycocotools/ytvos.py), as VIS training code copies it."""

    def __init__(self, path):
        self.dataset = json.loads(path.read_text())
        self.vids = {v["id"]: v for v in self.dataset["videos"]}
        self.cats = {c["id"]: c for c in self.dataset["categories"]}
        self.vidToAnns = defaultdict(list)
        for ann in self.dataset["annotations"]:
            self.vidToAnns[ann["video_id"]].append(ann)

    def annToRLE(self, ann, frameId):
        video = self.vids[ann["video_id"]]
        h, w = video["height"], video["width"]
        segm = ann["segmentations"][frameId]
        if isinstance(segm, list):  # polygon
            return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
        if isinstance(segm["counts"], list):  # uncompressed RLE
            return mask_utils.frPyObjects(segm, h, w)
        return segm

    def annToMask(self, ann, frameId):
        return mask_utils.decode(self.annToRLE(ann, frameId))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vis")
    (folder / "world.toml").write_text(WORLD)
    return run(load_world(folder / "world.toml"), RunOptions(folder / "out", shard_size=4)).root


def _records(root):
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def test_each_clip_is_a_video_with_its_frames(dataset):
    api = YouTubeVIS(dataset / "vis" / "instances.json")
    assert sorted(api.vids) == [1, 2, 3]  # clips of 4, 4 and the last cut to 2
    assert [api.vids[i]["length"] for i in (1, 2, 3)] == [4, 4, 2]
    for video_id, video in api.vids.items():
        assert (video["width"], video["height"]) == (80, 60)
        assert len(video["file_names"]) == video["length"]
        for k, name in enumerate(video["file_names"]):
            assert name == f"vis-{video_id - 1:06d}/{k:06d}.jpg"
            image = dataset / "vis" / "JPEGImages" / name
            own = dataset / "images" / f"{(video_id - 1) * 4 + k:06d}.jpg"
            assert image.read_bytes() == own.read_bytes()
    assert [c["name"] for c in api.dataset["categories"]] == ["thing"]
    assert [a["id"] for a in api.dataset["annotations"]] == list(
        range(1, len(api.dataset["annotations"]) + 1)
    )


def test_every_frames_mask_decodes_to_the_exact_mask_and_null_where_unseen(dataset):
    api = YouTubeVIS(dataset / "vis" / "instances.json")
    records = _records(dataset)
    nulls = 0
    for video_id, video in api.vids.items():
        first = (video_id - 1) * 4
        instances = [
            np.asarray(Image.open(dataset / "instances" / f"{first + k:06d}.png"))
            for k in range(video["length"])
        ]
        seen_tracks = {
            t["track_id"]
            for k in range(video["length"])
            for t in records[first + k]["tracks"]
            if t["area"] > 0
        }
        anns = api.vidToAnns[video_id]
        assert sorted(a["track_id"] for a in anns) == sorted(seen_tracks)
        for ann in anns:
            assert ann["category_id"] == 1 and ann["iscrowd"] == 0
            for k in range(video["length"]):
                exact = instances[k] == ann["track_id"]
                if ann["segmentations"][k] is None:
                    nulls += 1
                    assert not exact.any()
                    assert ann["bboxes"][k] is None and ann["areas"][k] is None
                    continue
                np.testing.assert_array_equal(api.annToMask(ann, k).astype(bool), exact)
                rows, cols = np.nonzero(exact)
                box = [
                    cols.min(),
                    rows.min(),
                    cols.max() - cols.min() + 1,
                    rows.max() - rows.min() + 1,
                ]
                assert ann["bboxes"][k] == [int(v) for v in box]
                assert ann["areas"][k] == int(exact.sum())
                assert mask_utils.area(api.annToRLE(ann, k)) == exact.sum()
    assert nulls > 0, "some object is out of view or hidden in some frame"


def test_vis_is_the_same_bytes_across_workers_and_resume(tmp_path, monkeypatch):
    world = tmp_path / "world.toml"
    world.write_text(WORLD.replace("frames = 10", "frames = 8"))
    files = assert_same_bytes_across_workers_and_resume(world, tmp_path, monkeypatch)
    assert "vis/instances.json" in files


SMALL = """
[world]
frames = 2
{clip}
[[spawners]]
type = "primitive"
[output]
labels = [{labels}]
writers = ["vis"]
"""


@pytest.mark.parametrize(
    ("clip", "labels", "message"),
    [
        ("[clip]\nframes = 2", '"boxes"', "writer 'vis' needs the label.*masks"),
        ("", '"boxes", "masks"', r"writer 'vis' writes clips: the world needs a \[clip\]"),
    ],
)
def test_what_vis_needs_is_one_clear_error(tmp_path, clip, labels, message):
    path = tmp_path / "world.toml"
    path.write_text(SMALL.format(clip=clip, labels=labels))
    with pytest.raises(WorldError, match=message):
        run(load_world(path), RunOptions(tmp_path / "out"))
    assert not (tmp_path / "out").exists()
