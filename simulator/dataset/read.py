"""Reading a dataset folder back: its manifest, native records, COCO file and pass files.

The one place that knows where `sim run` puts things (the names are simulator.dataset.layout's),
for `sim inspect`, `sim overlay`, `sim replay` and simulator.testing alike. Everything is read
when first asked for, and the records are streamed: a 20,000-frame dataset's frames.jsonl is
hundreds of megabytes, and one frame's record is found by the frame number that starts each
line, without parsing the others. Whatever is missing or malformed is one OutputError line
that names the file and, for JSON of the wrong shape (simulator.dataset.shapes), the field:
"<path> has no <name> (hint)", "<path> is not <what>: <field>: <why>",
"<path>:<line>: not a native record (<field>: <why>)".
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from simulator.dataset import shapes
from simulator.dataset.layout import COCO, MANIFEST, RECORDS
from simulator.errors import OutputError

# The native writer writes compact JSON with "frame" first: `{"frame":12,...`.
_FRAME_PREFIX = re.compile(rb'\{"frame":(\d{1,18}),')


def is_dataset(root: Path) -> bool:
    """Whether `root` is a folder `sim run` wrote (it has a manifest)."""
    return (root / MANIFEST).is_file()


def open_dataset(root: Path) -> DatasetFolder:
    """The dataset folder `root`; OutputError when it holds no sim dataset."""
    if not is_dataset(root):
        raise OutputError(f"{root} holds no sim dataset (no {MANIFEST})")
    return DatasetFolder(root)


class DatasetFolder:
    """A dataset folder written by `sim run`, read lazily."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.records_path = root / RECORDS
        self.coco_path = root / COCO

    @cached_property
    def manifest(self) -> dict[str, Any]:
        return read_json_object(self.root / MANIFEST, "a sim manifest", shapes.Manifest)

    @property
    def has_records(self) -> bool:
        return self.records_path.is_file()

    @property
    def has_coco(self) -> bool:
        return self.coco_path.is_file()

    def records(self, frames: Collection[int] | None = None) -> Iterator[dict[str, Any]]:
        """The native records in file order, streamed; only those of `frames` when given."""
        if not self.has_records:
            raise OutputError(f"{self.root} has no {RECORDS} (was the native writer enabled?)")
        with self.records_path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                known = _FRAME_PREFIX.match(line)
                if frames is not None and known and int(known[1]) not in frames:
                    continue
                record = _record(line, f"{self.records_path}:{number}")
                if frames is None or record["frame"] in frames:
                    yield record

    def record(self, frame: int) -> dict[str, Any]:
        """The native record of frame `frame`."""
        for record in self.records((frame,)):
            return record
        raise OutputError(f"frame {frame} is not in {self.records_path}")

    def coco(self) -> dict[str, Any]:
        """The COCO file of the coco writer (at its default path), checked by read_coco."""
        if not self.has_coco:
            raise OutputError(
                f"{self.root} has no {COCO} (is the run finished, with the coco writer?)"
            )
        return read_coco(self.coco_path)

    def pass_path(self, record: dict[str, Any], name: str) -> Path | None:
        """Where `record` says its `name` pass file is ("image", "depth", ...); None when
        the frame has none."""
        file = record["files"].get(name)
        return (
            None if file is None else inside(self.root, file, f"{RECORDS}, frame {record['frame']}")
        )

    def pass_file(self, record: dict[str, Any], name: str) -> Path:
        """The `name` pass file of `record`, which must be recorded and present."""
        path = self.pass_path(record, name)
        if path is None:
            raise OutputError(f"{self.records_path}: frame {record['frame']} has no {name} file")
        if not path.is_file():
            raise OutputError(f"{path} is missing (listed in {RECORDS})")
        return path

    def files(self) -> list[Path]:
        """Every file in the folder, relative to it, sorted."""
        return sorted(p.relative_to(self.root) for p in self.root.rglob("*") if p.is_file())


def inside(folder: Path, name: Any, where: str) -> Path:
    """`folder / name`, where `name` comes from a dataset's own files (a record, a COCO
    `file_name`): refused unless it is a relative path that stays inside `folder`, links
    included, so a tampered file cannot make sim read (or draw) anything outside it."""
    if not isinstance(name, str) or not name:
        raise OutputError(f"{where}: expected a file name, got {name!r}")
    parts = PurePosixPath(name)
    path = folder / name
    escapes = parts.is_absolute() or ".." in parts.parts or "\\" in name
    if escapes or not path.resolve().is_relative_to(folder.resolve()):
        raise OutputError(f"{where}: {name!r} points outside {folder}; refused")
    return path


def _record(line: bytes, where: str) -> dict[str, Any]:
    """One line of frames.jsonl, checked for the fields every reader relies on."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as error:
        raise OutputError(f"{where}: not a native record ({_json_problem(error)})") from None
    problem = shapes.problem(shapes.NativeRecord, record)
    if problem:
        raise OutputError(f"{where}: not a native record ({problem})")
    return record


def _json_problem(error: ValueError | RecursionError) -> str:
    """Why text is not JSON: where it stops, or that it nests or counts beyond reason."""
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg.removesuffix(' at')} at line {error.lineno}"
    if isinstance(error, RecursionError):
        return "nested too deeply"
    return str(error).split(";")[0]  # a number of more than 4300 digits


def read_json_object(
    path: Path, what: str, shape: type[shapes.Shape] | None = None
) -> dict[str, Any]:
    """A JSON file holding an object (of `shape` when given); OutputError
    "<path> is not <what>: <why>" otherwise."""
    try:
        value = json.loads(path.read_bytes())
    except UnicodeDecodeError:
        raise OutputError(f"{path} is not {what} (not text)") from None
    except (ValueError, RecursionError) as error:
        raise OutputError(f"{path} is not {what}: {_json_problem(error)}") from None
    if not isinstance(value, dict):
        raise OutputError(f"{path} is not {what} (not a JSON object)")
    problem = shapes.problem(shape, value) if shape else None
    if problem:
        raise OutputError(f"{path} is not {what}: {problem}")
    return value


def read_coco(path: Path) -> dict[str, Any]:
    """A COCO instances file, checked enough that the statistics cannot trip over it."""
    coco = read_json_object(path, "a COCO file")
    for key in ("images", "annotations", "categories"):
        if not isinstance(coco.get(key), list):
            raise OutputError(f'{path} is not a COCO file (no "{key}" list)')
    problem = shapes.problem(shapes.Coco, coco)
    if problem:
        raise OutputError(f"{path} is not a COCO file: {problem}")
    _check_coco(path, coco)
    return coco


def _check_coco(path: Path, coco: dict[str, Any]) -> None:
    """What the shapes cannot say: sizes, references, keypoint counts."""
    image_ids = {image["id"] for image in coco["images"]}
    categories = {category["id"]: category for category in coco["categories"]}
    for image in coco["images"]:
        if not (image["file_name"] and min(image["width"], image["height"]) > 0):
            raise OutputError(f"{path}: image {image['id']} has no file_name or no size")
    for ann in coco["annotations"]:
        if ann["image_id"] not in image_ids or ann["category_id"] not in categories:
            raise OutputError(
                f"{path}: annotation {ann.get('id')} refers to an image or category "
                "that is not listed"
            )
        names = categories[ann["category_id"]].get("keypoints") or []
        if ann.get("keypoints") is not None and len(ann["keypoints"]) != 3 * len(names):
            raise OutputError(
                f"{path}: annotation {ann.get('id')} has {len(ann['keypoints'])} keypoint "
                f"values; its category names {len(names)} keypoints (x, y, v each)"
            )
