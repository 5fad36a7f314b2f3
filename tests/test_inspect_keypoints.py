"""`sim inspect` counts keypoints per category and name: labeled (v > 0), visible (v = 2)
and occluded (v = 1), checked against a hand-made COCO file and against a pipes dataset's
native records, counted here independently of the COCO file the report reads."""

from __future__ import annotations

import json
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.report.keypoints import KeypointCounts
from simulator.report.stats import read_dataset, summarize
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

ROOT = Path(__file__).resolve().parent.parent


class _Rows(HTMLParser):
    """The cells of every table row after the "Keypoints" heading."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._in, self._cell = False, False

    def handle_starttag(self, tag, attrs):
        self._cell = tag in ("td", "th")
        if tag == "tr" and self._in:
            self.rows.append([])

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False

    def handle_data(self, data):
        if data == "Keypoints":
            self._in = True
        elif self._in and self._cell and self.rows:
            self.rows[-1].append(data)


def _table(page: str) -> list[list[str]]:
    parser = _Rows()
    parser.feed(page)
    return parser.rows


HAND = {
    "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 8}],
    "categories": [
        {"id": 1, "name": "hand", "keypoints": ["thumb", "wrist"]},
        {"id": 2, "name": "cup"},
    ],
    "annotations": [
        # (x, y, v) per name: thumb visible, wrist occluded
        {
            "id": 1,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 4, 4],
            "keypoints": [1, 1, 2, 2, 2, 1],
        },
        # thumb not labeled, wrist visible
        {
            "id": 2,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 4, 4],
            "keypoints": [0, 0, 0, 3, 3, 2],
        },
        # no keypoints at all: labels neither
        {"id": 3, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4]},
        # a crowd region is not a box: not counted
        {
            "id": 4,
            "image_id": 1,
            "category_id": 1,
            "bbox": [0, 0, 4, 4],
            "iscrowd": 1,
            "keypoints": [1, 1, 2, 1, 1, 2],
        },
        {"id": 5, "image_id": 1, "category_id": 2, "bbox": [4, 4, 2, 2]},
    ],
}


def test_a_hand_made_coco_file(tmp_path):
    path = tmp_path / "hand.json"
    path.write_text(json.dumps(HAND))
    counts = summarize(read_dataset(path)).keypoints
    assert counts == {
        "hand": {"thumb": KeypointCounts(3, 1, 1, 0), "wrist": KeypointCounts(3, 2, 1, 1)}
    }
    result = CliRunner().invoke(app, ["inspect", str(path), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    assert (
        "keypoints   hand (3 boxes): thumb 1 (1 visible, 0 occluded), "
        "wrist 2 (1 visible, 1 occluded)"
    ) in result.output
    rows = _table((tmp_path / "r.html").read_text())
    assert rows[0][0].endswith("/hand.json")  # the dataset's label heads its columns
    assert rows[1:] == [
        ["class", "keypoint", "labeled", "visible", "occluded"],
        ["hand", "thumb", "1", "1", "0"],
        ["hand", "wrist", "2", "1", "1"],
    ]


def test_a_dataset_without_keypoints_says_none(tmp_path):
    path = tmp_path / "plain.json"
    plain = {**HAND, "categories": [{"id": 1, "name": "hand"}, {"id": 2, "name": "cup"}]}
    plain["annotations"] = [
        {k: v for k, v in a.items() if k != "keypoints"} for a in HAND["annotations"]
    ]
    path.write_text(json.dumps(plain))
    result = CliRunner().invoke(app, ["inspect", str(path), "-o", str(tmp_path / "r.html")])
    assert "keypoints   none" in result.output
    assert _table((tmp_path / "r.html").read_text()) == []


@pytest.fixture(scope="module")
def pipes(tmp_path_factory) -> Path:
    """Pipes (bowl, heel, mouthpiece keypoints) among distractors, 6 small frames."""
    text = (ROOT / "worlds" / "pipes.toml").read_text()
    text = text.replace("resolution = [640, 480]", "resolution = [160, 120]")
    folder = tmp_path_factory.mktemp("pipes")
    (folder / "world.toml").write_text(text)
    world = load_world(folder / "world.toml")
    return run(world, RunOptions(folder / "out", frames=6)).root


def test_a_pipes_dataset_counts_what_its_native_records_hold(pipes, tmp_path):
    expected: dict[str, Counter] = {}
    boxes = 0
    for line in (pipes / "frames.jsonl").read_text().splitlines():
        for obj in json.loads(line)["objects"]:
            boxes += obj["category"] == "pipe"
            for point in obj.get("keypoints", []):
                expected.setdefault(point["name"], Counter())[point["v"]] += 1
    counts = summarize(read_dataset(pipes)).keypoints
    assert list(counts) == ["pipe"] and list(counts["pipe"]) == ["bowl", "heel", "mouthpiece"]
    for name, got in counts["pipe"].items():
        v = expected[name]
        assert got == KeypointCounts(boxes, v[1] + v[2], v[2], v[1]), name
    assert boxes > 6 and any(c.occluded for c in counts["pipe"].values())
