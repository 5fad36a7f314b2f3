"""`sim inspect` and `sim overlay` on hostile datasets: wrong types at every level of the
manifest, of frames.jsonl lines and of COCO files, huge numbers, deep nesting, truncated files
and bytes that are not UTF-8. Each is exit code 2 with one line naming the file and the field,
never a traceback, and no report or overlay written."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import SMALL_WORLD
from typer.testing import CliRunner

from simulator.cli import app
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE = b"1" * 5000  # more digits than Python turns into an int


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "world.toml").write_text(SMALL_WORLD)
    return run(load_world(folder / "world.toml"), RunOptions(folder / "out", frames=2)).root


Edit = Callable[[Any], Any]


def _set(path: str, value: Any) -> Edit:
    """An edit that sets `path` ("objects.0.bbox") to `value` in the parsed JSON."""

    def edit(data: Any) -> Any:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = data
        for part in parents:
            target = target[part]
        target[last] = value
        return data

    return edit


def _whole(value: Any) -> Edit:
    return lambda data: value


# (case, what is broken: an edit of the parsed JSON or raw bytes, the field the message names)
MANIFEST = {
    "keypoints not an object": (_set("keypoints", []), "keypoints: expected a JSON object"),
    "skeleton of one name": (
        _set("keypoints", {"pipe": {"names": ["a"], "skeleton": [["a"]]}}),
        r"keypoints\.pipe\.skeleton\[0\]: list should have at least 2 items",
    ),
    "names a string": (_set("keypoints", {"pipe": {"names": "a"}}), r"keypoints\.pipe\.names"),
    "start a string": (_set("start", "0"), "start: expected an integer, got '0'"),
    "frames infinite": (_set("frames", float("inf")), "frames: expected an integer, got inf"),
    "truncated": (b'{"format": 1, "world": {', "Expecting property name"),
    "deep nesting": (DEEP, "nested too deeply"),
    "huge number": (b'{"frames": ' + HUGE + b"}", "Exceeds the limit"),
}

RECORD = {
    "category an object": (
        _set("objects.0.category", {"a": 1}),
        r"objects\[0\]\.category: expected a string, got \{'a': 1\}",
    ),
    "bbox of three": (
        _set("objects.0.bbox", [0, 0, 1]),
        r"objects\[0\]\.bbox: list should have at least 4 items",
    ),
    "bbox huge": (
        _set("objects.0.bbox", [0, 0, 1e300, 1]),
        r"objects\[0\]\.bbox\[2\]: input should be less than or equal to 1",
    ),
    "bbox a string": (
        _set("objects.0.bbox", "0 0 1 1"),
        r"objects\[0\]\.bbox: expected a JSON array",
    ),
    "bbox nan": (
        _set("objects.0.bbox", [float("nan"), 0, 1, 1]),
        r"objects\[0\]\.bbox\[0\]: expected a finite number",
    ),
    "instance id negative": (
        _set("objects.0.instance_id", -1),
        r"objects\[0\]\.instance_id: input should be greater",
    ),
    "instance id huge": (
        _set("objects.0.instance_id", 2**70),
        r"objects\[0\]\.instance_id: input should be less",
    ),
    "instance id true": (
        _set("objects.0.instance_id", True),
        r"objects\[0\]\.instance_id: expected an integer, got True",
    ),
    "keypoint v out of range": (
        _set("objects.0.keypoints", [{"name": "a", "x": 1, "y": 2, "v": 7}]),
        r"objects\[0\]\.keypoints\[0\]\.v: input should be less than or equal to 2",
    ),
    "keypoints an object": (
        _set("objects.0.keypoints", {"a": 1}),
        r"objects\[0\]\.keypoints: expected a JSON array",
    ),
    "box3d short": (
        _set("objects.0.box3d", {"corners_pixels": [[0, 0]]}),
        r"objects\[0\]\.box3d\.corners_pixels: list should have at least 8",
    ),
    "object a number": (_set("objects.0", 3), r"objects\[0\]: expected a JSON object, got 3"),
    "objects an object": (_set("objects", {"0": {}}), r"objects: expected a JSON array"),
    "file name a number": (_set("files.image", 5), r"files\.image: expected a string, got 5"),
    "files a list": (_set("files", []), r"files: expected a JSON object, got \[\]"),
    "frame infinite": (_set("frame", float("inf")), r"frame: expected an integer, got inf"),
    "frame huge": (b'{"frame":' + HUGE + b',"files":{}}', "Exceeds the limit"),
    "line a string": (_whole("frame"), r"expected a JSON object, got 'frame'"),
    "truncated": (b'{"frame":0,"files":{"image": "ima', "Invalid control character at line 1"),
    "not utf-8": (b'{"frame":0,"files":{"image":"\xff"}}', "can't decode byte 0xff"),
    "deep nesting": (DEEP, "nested too deeply"),
}

COCO = {
    "category name an object": (
        _set("categories.0.name", {"a": 1}),
        r"categories\[0\]\.name: expected a string, got \{'a': 1\}",
    ),
    "category id a list": (
        _set("categories.0.id", [1]),
        r"categories\[0\]\.id: expected an integer id",
    ),
    "image width a string": (
        _set("images.0.width", "160"),
        r"images\[0\]\.width: expected an integer, got '160'",
    ),
    "image width huge": (
        _set("images.0.width", 10**30),
        r"images\[0\]\.width: input should be less",
    ),
    "image id a list": (_set("images.0.id", [0]), r"images\[0\]\.id: expected an integer id"),
    "file name a number": (
        _set("images.0.file_name", 7),
        r"images\[0\]\.file_name: expected a string",
    ),
    "image a list": (_set("images.0", []), r"images\[0\]: expected a JSON object"),
    "bbox a string": (
        _set("annotations.0.bbox", "0 0 1 1"),
        r"annotations\[0\]\.bbox: expected a JSON array",
    ),
    "bbox infinite": (
        _set("annotations.0.bbox.3", float("inf")),
        r"annotations\[0\]\.bbox\[3\]: expected a finite number",
    ),
    "iscrowd two": (
        _set("annotations.0.iscrowd", 2),
        r"annotations\[0\]\.iscrowd: expected 0 or 1, got 2",
    ),
    "category id null": (
        _set("annotations.0.category_id", None),
        r"annotations\[0\]\.category_id: expected an integer id",
    ),
    "image id missing": (
        lambda c: c["annotations"][0].pop("image_id") and c,
        r"annotations\[0\]\.image_id is missing",
    ),
    "keypoints without names": (
        _set("annotations.0.keypoints", [1, 2, 2]),
        r"annotation 1 has 3 keypoint values; its category names 0 keypoints",
    ),
    "keypoints strings": (
        _set("annotations.0.keypoints", ["a"]),
        r"annotations\[0\]\.keypoints\[0\]: expected a number",
    ),
    "annotations an object": (_set("annotations", {}), r'no "annotations" list'),
    "truncated": (b'{"images": [{"id": 1, "file_na', "Unterminated string"),
    "deep nesting": (b'{"images": ' + DEEP + b"}", "nested too deeply"),
    "huge number": (
        b'{"images": [], "annotations": [], "categories": [], "x": ' + HUGE + b"}",
        "Exceeds the limit",
    ),
}


def _break(file: Path, broken: Edit | bytes, line: int | None = None) -> None:
    """Write `broken` into `file` (into its first line only, for a .jsonl)."""
    lines = file.read_bytes().splitlines(keepends=True) if line is not None else []
    original = lines[0] if lines else file.read_bytes()
    text = (
        broken if isinstance(broken, bytes) else json.dumps(broken(json.loads(original))).encode()
    )
    file.write_bytes(text + b"\n" + b"".join(lines[1:]) if lines else text)


def _one_line_error(args: list[str], where: str, field: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    message = " ".join(result.output.split())
    assert message.startswith("error: ") and where in message, message
    assert re.search(field, message), (field, message)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", list(RECORD))
def test_hostile_native_records(dataset, tmp_path, case):
    root = Path(shutil.copytree(dataset, tmp_path / "d"))
    broken, field = RECORD[case]
    _break(root / "frames.jsonl", broken, line=0)
    png = tmp_path / "o.png"
    _one_line_error(["overlay", str(root), "--frame", "0", "-o", str(png)], "frames.jsonl:1", field)
    _one_line_error(["inspect", str(root)], "frames.jsonl:1", field)
    assert not png.exists() and not (root / "report.html").exists()


@pytest.mark.parametrize("case", list(MANIFEST))
def test_hostile_manifests(dataset, tmp_path, case):
    root = Path(shutil.copytree(dataset, tmp_path / "d"))
    broken, field = MANIFEST[case]
    _break(root / "manifest.json", broken)
    png = tmp_path / "o.png"
    _one_line_error(["overlay", str(root), "--frame", "0", "-o", str(png)], "manifest.json", field)
    assert not png.exists()


@pytest.mark.parametrize("case", list(COCO))
def test_hostile_coco_files(dataset, tmp_path, case):
    broken, field = COCO[case]
    coco = tmp_path / "instances.json"
    shutil.copy(dataset / "annotations" / "instances.json", coco)
    _break(coco, broken)
    _one_line_error(["inspect", str(coco), "-o", str(tmp_path / "r.html")], "instances.json", field)
    root = Path(shutil.copytree(dataset, tmp_path / "d"))
    shutil.copy(coco, root / "annotations" / "instances.json")
    _one_line_error(["inspect", str(root)], "instances.json", field)
    assert not (tmp_path / "r.html").exists() and not (root / "report.html").exists()
