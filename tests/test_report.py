"""`sim inspect`: the report's numbers against the COCO file and native records read here
independently, a hand-made COCO dataset sim did not write, --compare, and a self-contained page."""

import base64
import io
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from simulator.dataset.encode import read_png16
from simulator.errors import OutputError
from simulator.report import stats as report
from simulator.report.overlay import instance_color
from simulator.report.page import contact_sheet, inspect_main
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world


@pytest.fixture
def sim_dataset(write_world, tmp_path) -> Path:
    """The small world rendered: 4 frames with COCO, native records and depth PNGs."""
    return run(load_world(write_world()), RunOptions(tmp_path / "sim")).root


# Three 64 x 48 images; boxes [x, y, w, h] per image and their category ids.
HAND_BOXES = {
    "a.png": [([4, 6, 20, 10], 1), ([30, 20, 10, 20], 2)],
    "b.png": [([40, 30, 16, 12], 1)],
    "c.png": [],
}


@pytest.fixture
def coco_dataset(tmp_path) -> Path:
    """A COCO dataset written by hand: annotations.json with its images in images/."""
    (tmp_path / "images").mkdir()
    images, annotations = [], []
    for image_id, (name, boxes) in enumerate(HAND_BOXES.items(), start=1):
        Image.new("RGB", (64, 48), (30, 30, 30)).save(tmp_path / "images" / name)
        images.append({"id": image_id, "file_name": name, "width": 64, "height": 48})
        for bbox, category_id in boxes:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": image_id,
                    "category_id": category_id,
                    "bbox": bbox,
                    "area": bbox[2] * bbox[3],
                    "iscrowd": 0,
                }
            )
    # A crowd region: counted apart, never a box.
    annotations.append(
        {"id": 99, "image_id": 3, "category_id": 2, "bbox": [0, 0, 8, 8], "iscrowd": 1}
    )
    categories = [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}, {"id": 3, "name": "bus"}]
    path = tmp_path / "annotations.json"
    path.write_text(
        json.dumps({"images": images, "annotations": annotations, "categories": categories})
    )
    return path


def _coco(root: Path) -> dict:
    return json.loads((root / "annotations/instances.json").read_text())


def _records(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def test_class_counts_and_instances_per_frame_match_the_coco_file(sim_dataset):
    coco = _coco(sim_dataset)
    stats = report.summarize(report.read_dataset(sim_dataset))
    names = {c["id"]: c["name"] for c in coco["categories"]}
    boxes = [a for a in coco["annotations"] if not a["iscrowd"]]
    expected = Counter(names[a["category_id"]] for a in boxes)
    assert stats.classes == {name: expected[name] for name in names.values()}
    assert list(stats.classes) == ["box", "sphere", "torus", "teapot"]
    per_image = Counter(a["image_id"] for a in boxes)
    assert stats.per_frame.tolist() == [per_image[i["id"]] for i in coco["images"]]
    assert stats.frames == 4 and len(stats.boxes) == len(boxes) > 4
    assert stats.image_sizes == {(160, 120): 4}


def test_histograms_and_heat_map_count_every_box_where_it_is(sim_dataset):
    coco = _coco(sim_dataset)
    stats = report.summarize(report.read_dataset(sim_dataset))
    boxes = [a for a in coco["annotations"] if not a["iscrowd"]]
    sizes = [(w * h) ** 0.5 for _, _, w, h in (a["bbox"] for a in boxes)]
    assert np.allclose(np.sort(stats.boxes.size), np.sort(sizes))
    for values in (stats.boxes.size, stats.boxes.aspect):
        edges = report.log_edges([values])
        assert report.histogram(values, edges).sum() == len(boxes)
    per_frame_edges = report.count_edges([stats.per_frame])
    counts = report.histogram(stats.per_frame, per_frame_edges)
    assert counts.sum() == 4 and counts[stats.per_frame.max()] >= 1

    bins = 8
    expected = np.zeros((bins, bins), int)
    for x, y, w, h in (a["bbox"] for a in boxes):  # all frames are 160 x 120
        column = min(int((x + w / 2) / 160 * bins), bins - 1)
        row = min(int((y + h / 2) / 120 * bins), bins - 1)
        expected[row, column] += 1
    heat = report.center_heatmap(stats.boxes, bins)
    assert heat.sum() == len(boxes)
    assert np.array_equal(heat, expected)


def test_visibility_truncation_and_depth_come_from_the_native_records(sim_dataset):
    records = _records(sim_dataset)
    stats = report.summarize(report.read_dataset(sim_dataset))
    visibility = [o["visibility"] for r in records for o in r["objects"]]
    edges = report.unit_edges(20)
    expected = np.zeros(20, int)
    for v in visibility:
        expected[min(int(v * 20), 19)] += 1
    assert np.array_equal(report.histogram(stats.visibility, edges), expected)
    assert expected.sum() == sum(len(r["objects"]) for r in records)
    assert sorted(stats.truncation) == sorted(
        o["truncation"] for r in records for o in r["objects"]
    )

    # 4 frames: every depth PNG is sampled; depth in metres, background (0) left out.
    depth = np.concatenate([read_png16(sim_dataset / r["files"]["depth"]).ravel() for r in records])
    metres = depth[depth > 0] / 1000.0
    assert stats.depth is not None and stats.depth.frames_sampled == 4
    assert stats.depth.low == metres.min() and stats.depth.high == metres.max()
    assert stats.depth.median == pytest.approx(np.median(metres))


def test_a_coco_dataset_sim_did_not_write(coco_dataset):
    target, summary = inspect_main(coco_dataset, None, None, None)
    assert target == coco_dataset.parent / "report.html"
    stats = report.summarize(report.read_dataset(coco_dataset))
    assert stats.classes == {"car": 2, "person": 1, "bus": 0}
    assert stats.class_frames == {"car": 2, "person": 1, "bus": 0}
    assert stats.per_frame.tolist() == [2, 1, 0] and stats.crowd == 1
    assert stats.visibility is None and stats.truncation is None and stats.depth is None
    assert "classes     car 2, person 1, bus 0" in summary
    assert "per frame   mean 1.0, median 1, range 0 to 2" in summary
    assert "visibility  not recorded" in summary and "truncation  not recorded" in summary
    page = target.read_text()
    assert "visibility: not recorded" in page and "truncation: not recorded" in page

    # The images were found beside the COCO file; the boxes are drawn in their class color.
    tiles = contact_sheet(report.read_dataset(coco_dataset))
    assert [caption for caption, _ in tiles] == [
        "a.png: 2 boxes",
        "b.png: 1 boxes",
        "c.png: 0 boxes",
    ]
    first = np.asarray(tiles[0][1])
    assert tuple(first[10, 4]) == instance_color(1)  # left edge of the car box at x = 4
    assert tuple(first[30, 30]) == instance_color(2)  # left edge of the person box
    assert tuple(first[46, 60]) == (30, 30, 30)  # untouched background
    assert len(_Page.parse(page).images) == 5 + 3  # 5 plots (no visibility/truncation), 3 frames


def test_images_dir_is_given_or_reported_missing(coco_dataset, tmp_path):
    moved = tmp_path / "elsewhere"
    (coco_dataset.parent / "images").rename(moved)
    assert report.read_dataset(coco_dataset).images_dir is None
    target, _ = inspect_main(coco_dataset, tmp_path / "r.html", None, None)
    assert "no images found" in target.read_text()
    dataset = report.read_dataset(coco_dataset, images=moved)
    assert dataset.images_dir == moved and len(contact_sheet(dataset)) == 3


def test_compare_puts_both_datasets_side_by_side(sim_dataset, coco_dataset, tmp_path):
    target, summary = inspect_main(sim_dataset, tmp_path / "cmp.html", coco_dataset, None)
    assert summary.count("\n  frames") == 2
    assert summary.startswith("small (")  # the world's name labels a sim dataset
    page = _Page.parse(target.read_text())
    assert page.title == f"sim inspect: small vs. {coco_dataset.parent.name}/annotations.json"
    # The class table lists the union of the classes with both datasets' counts.
    sim_classes = report.summarize(report.read_dataset(sim_dataset)).classes
    rows = {row[0]: row[1:] for row in page.rows if row and row[0] in {*sim_classes, "car"}}
    assert rows["car"][:3] == ["-", "-", "-"] and rows["car"][3] == "2"
    assert rows["box"][0] == str(sim_classes["box"]) and rows["box"][3:] == ["-", "-", "-"]
    # Plots, two contact sheets (4 sim frames, 3 COCO images).
    assert len(page.images) == 7 + 4 + 3


def test_a_dataset_compared_with_itself_gets_two_names(sim_dataset, tmp_path):
    target, summary = inspect_main(sim_dataset, tmp_path / "same.html", sim_dataset, None)
    assert summary.startswith("small (") and "\nsmall (compared) (" in summary
    assert _Page.parse(target.read_text()).title == "sim inspect: small vs. small (compared)"


def test_the_page_is_self_contained_and_parses(sim_dataset, tmp_path):
    target, summary = inspect_main(sim_dataset, tmp_path / "out" / "report.html", None, None)
    text = target.read_text()
    assert "http" not in text.lower() and "<script" not in text and "<link" not in text
    page = _Page.parse(text)
    assert page.images and all(src.startswith("data:image/") for src in page.images)
    for src in page.images:  # every data URI decodes to an image
        header, data = src.split(",", 1)
        assert header in ("data:image/png;base64", "data:image/jpeg;base64")
        with Image.open(io.BytesIO(base64.b64decode(data))) as image:
            image.verify()
    assert page.headings == ["Overview", "Classes", "Boxes, visibility, truncation", "Frames"]
    stats = report.summarize(report.read_dataset(sim_dataset))
    classes = ", ".join(f"{name} {count}" for name, count in stats.classes.items())
    assert f"  classes     {classes}\n" in summary
    assert f"  frames      4 (160x120)\n  boxes       {len(stats.boxes)}\n" in summary
    assert "  visibility  p10 " in summary and "  depth       " in summary


def test_the_default_report_goes_into_the_dataset(sim_dataset):
    target, _ = inspect_main(sim_dataset, None, None, None)
    assert target == sim_dataset / "report.html" and target.stat().st_size > 10_000
    target.unlink()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not a COCO file: Expecting property name"),
        ("[1, 2]", "is not a COCO file (not a JSON object)"),
        ('{"images": [], "annotations": []}', 'is not a COCO file (no "categories" list)'),
        (
            '{"images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}],'
            ' "annotations": [{"id": 5, "image_id": 2, "category_id": 1, "bbox": [0, 0, 1, 1]}],'
            ' "categories": [{"id": 1, "name": "a"}]}',
            "annotation 5 refers to an image or category that is not listed",
        ),
        (
            '{"images": [{"id": 1, "file_name": "a.png", "width": 0, "height": 4}],'
            ' "annotations": [], "categories": []}',
            "image 1 has no file_name or no size",
        ),
        (
            '{"images": [{"id": 1}], "annotations": [], "categories": []}',
            "is not a COCO file: images[0].file_name is missing",
        ),
    ],
)
def test_unusable_inputs_are_one_line_errors(tmp_path, content, message):
    path = tmp_path / "annotations.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(OutputError, match="^" + re.escape(str(path))) as error:
        inspect_main(path, None, None, None)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_directories_that_are_not_sim_datasets_are_refused(tmp_path, sim_dataset):
    with pytest.raises(OutputError, match="is not a sim dataset"):
        report.read_dataset(tmp_path)
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "manifest.json").write_text((sim_dataset / "manifest.json").read_text())
    with pytest.raises(OutputError, match=r"has no annotations/instances\.json"):
        report.read_dataset(partial)
    with pytest.raises(OutputError, match=r"--images .* is not a directory"):
        report.read_dataset(sim_dataset, images=tmp_path / "nope")


def test_sampling_and_edges():
    assert (
        report.sample_indices(50, 12)[:3] == [0, 4, 9] and report.sample_indices(50, 12)[-1] == 49
    )
    assert report.sample_indices(3, 12) == [0, 1, 2] and report.sample_indices(0, 12) == []
    assert report.count_edges([np.array([0, 3])]).tolist() == [-0.5, 0.5, 1.5, 2.5, 3.5]
    edges = report.log_edges([np.array([10.0, 10.0])])  # one value: a range around it
    assert edges[0] < 10 < edges[-1]
    assert report.histogram(np.array([-1.0, 0.5, 2.0]), report.unit_edges(2)).tolist() == [1, 2]


class _Page(HTMLParser):
    """What the tests read off the report page."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.headings: list[str] = []
        self.rows: list[list[str]] = []
        self.title = ""
        self._tag: str | None = None

    @classmethod
    def parse(cls, text: str) -> "_Page":
        page = cls()
        page.feed(text)
        page.close()
        return page

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for name in ("src", "href"):
            assert not (values.get(name) or "").startswith(("http", "//")), values[name]
        if tag == "img":
            self.images.append(values["src"])
        if tag == "tr":
            self.rows.append([])
        self._tag = tag

    def handle_endtag(self, tag):
        self._tag = None

    def handle_data(self, data):
        if self._tag == "h2":
            self.headings.append(data)
        elif self._tag == "title":
            self.title += data
        elif self._tag in ("td", "th") and self.rows:
            self.rows[-1].append(data)


def test_sim_inspect_cli(sim_dataset, tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    result = CliRunner().invoke(app, ["inspect", str(sim_dataset), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0 and f"report: {tmp_path / 'r.html'}" in result.output
    assert (tmp_path / "r.html").read_text().lower().startswith("<!doctype html>")
    result = CliRunner().invoke(app, ["inspect", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "does not exist" in result.output
