"""Dataset statistics for `sim inspect`: numbers computed from a COCO file and, for a sim
dataset, from its native records (`frames.jsonl`) and depth passes. No plotting here; the
figures and the HTML page are simulator.report.page.

Boxes are the COCO annotations that are not crowd regions (`iscrowd` 0): what a detector
trains on. Crowd regions are only counted. Visibility and truncation come from the native
records, which hold every labeled object with a visible pixel, so they can count a few more
objects than COCO when its writer drops filtered ones.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simulator.dataset import encode
from simulator.dataset.layout import MANIFEST
from simulator.dataset.read import DatasetFolder, inside, is_dataset, read_coco
from simulator.errors import OutputError
from simulator.report.keypoints import Keypoints, keypoint_counts

NATIVE_FIELDS = ("visibility", "truncation")


@dataclass(frozen=True)
class Dataset:
    """A dataset to inspect: its COCO dict and where its files are."""

    label: str  # short name for legends and table headers
    source: Path  # what the user named: a sim dataset directory or a COCO file
    coco: dict[str, Any]
    images_dir: Path | None  # where the COCO `file_name`s resolve; None: not found
    folder: DatasetFolder | None = None  # the sim dataset directory; None for a COCO file
    records: list[dict[str, Any]] | None = None  # slim native records (see _slim)

    @property
    def root(self) -> Path | None:
        return None if self.folder is None else self.folder.root


@dataclass(frozen=True)
class Boxes:
    """Every non-crowd box: size in pixels, centre as a fraction of its image's size."""

    width: np.ndarray
    height: np.ndarray
    cx: np.ndarray
    cy: np.ndarray

    def __len__(self) -> int:
        return len(self.width)

    @property
    def size(self) -> np.ndarray:
        """sqrt(width · height), pixels."""
        return np.sqrt(self.width * self.height)

    @property
    def aspect(self) -> np.ndarray:
        """width / height; 0 where the height is 0."""
        return np.divide(
            self.width, self.height, out=np.zeros_like(self.width), where=self.height > 0
        )


@dataclass(frozen=True)
class DepthRange:
    """Non-zero depth over the sampled frames, metres."""

    low: float
    median: float
    high: float
    frames_sampled: int
    frames: int


@dataclass(frozen=True)
class Stats:
    """Everything the report shows about one dataset, as numbers."""

    label: str
    source: Path
    frames: int
    image_sizes: dict[tuple[int, int], int]  # (width, height) -> images
    classes: dict[str, int]  # category name -> boxes, in category order
    class_frames: dict[str, int]  # category name -> images holding one
    crowd: int
    per_frame: np.ndarray  # boxes per image, in image order
    boxes: Boxes
    visibility: np.ndarray | None  # None: not recorded
    truncation: np.ndarray | None
    depth: DepthRange | None
    keypoints: Keypoints  # category -> keypoint name -> counts; {} without keypoints


# --- reading -------------------------------------------------------------------------------


def read_dataset(path: Path, images: Path | None = None) -> Dataset:
    """A sim dataset directory (its manifest, native records and COCO file) or a COCO file;
    `images` overrides where the COCO images are looked for."""
    if not path.exists():
        raise OutputError(f"{path} does not exist")
    if images is not None and not images.is_dir():
        raise OutputError(f"--images {images} is not a directory")
    if path.is_dir():
        if not is_dataset(path):
            raise OutputError(
                f"{path} is not a sim dataset (no {MANIFEST}); for a COCO dataset "
                "pass its annotations .json file"
            )
        return _read_sim(DatasetFolder(path), images)
    coco = read_coco(path)
    label = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    return Dataset(label, path, coco, images or find_images_dir(path, coco))


def _read_sim(folder: DatasetFolder, images: Path | None) -> Dataset:
    coco = folder.coco()
    try:
        label = str(folder.manifest["world"]["world"]["name"])
    except (OutputError, KeyError, TypeError):
        label = folder.root.name
    records = [_slim(record) for record in folder.records()] if folder.has_records else None
    return Dataset(label, folder.root, coco, images or folder.root / "images", folder, records)


def find_images_dir(coco_path: Path, coco: dict[str, Any]) -> Path | None:
    """Where the first image's `file_name` exists: images/ beside the COCO file, the COCO
    file's directory, or the same one level up. None when none holds it."""
    if not coco["images"]:
        return None
    name = coco["images"][0]["file_name"]
    here = coco_path.parent
    for candidate in (here / "images", here, here.parent / "images", here.parent):
        if inside(candidate, name, f"{coco_path}: images[0].file_name").is_file():
            return candidate
    return None


def _slim(record: dict[str, Any]) -> dict[str, Any]:
    """A native record slimmed to what the report needs: frame, files, and per object only
    the fields of NATIVE_FIELDS it has (the masks and 3D boxes are dropped)."""
    objects = [{k: o[k] for k in NATIVE_FIELDS if k in o} for o in record["objects"]]
    return {"frame": record["frame"], "files": record["files"], "objects": objects}


# --- statistics ----------------------------------------------------------------------------


def _boxes(coco: dict[str, Any]) -> list[dict[str, Any]]:
    return [ann for ann in coco["annotations"] if not ann.get("iscrowd", 0)]


def class_counts(coco: dict[str, Any]) -> dict[str, int]:
    """Boxes per category name, every category listed (0 included), in the file's order."""
    found = Counter(ann["category_id"] for ann in _boxes(coco))
    counts: dict[str, int] = {}
    for category in coco["categories"]:
        counts[category["name"]] = counts.get(category["name"], 0) + found[category["id"]]
    return counts


def class_frames(coco: dict[str, Any]) -> dict[str, int]:
    """Images holding at least one box of each category name, in the file's order."""
    names = {category["id"]: category["name"] for category in coco["categories"]}
    found = Counter(
        name for name, _ in {(names[a["category_id"]], a["image_id"]) for a in _boxes(coco)}
    )
    return {category["name"]: found[category["name"]] for category in coco["categories"]}


def instances_per_frame(coco: dict[str, Any]) -> np.ndarray:
    """Boxes per image, in the order of `images` (images without boxes count 0)."""
    found = Counter(ann["image_id"] for ann in _boxes(coco))
    return np.array([found[image["id"]] for image in coco["images"]], dtype=np.int64)


def box_arrays(coco: dict[str, Any]) -> Boxes:
    """Width, height and normalized centre of every box."""
    sizes = {
        image["id"]: (float(image["width"]), float(image["height"])) for image in coco["images"]
    }
    rows = []
    for ann in _boxes(coco):
        x, y, w, h = (float(v) for v in ann["bbox"])
        width, height = sizes[ann["image_id"]]
        rows.append((w, h, (x + w / 2) / width, (y + h / 2) / height))
    table = np.array(rows, dtype=np.float64).reshape(-1, 4)
    return Boxes(*table.T)


def histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of `values` per bin; values outside the edges go to the first or last bin, so
    the counts always sum to len(values)."""
    return np.histogram(np.clip(values, edges[0], edges[-1]), edges)[0]


def log_edges(arrays: list[np.ndarray], bins: int = 30) -> np.ndarray:
    """Log-spaced bin edges spanning the positive values of all `arrays` (shared, so two
    datasets' histograms line up)."""
    values = np.concatenate([a[a > 0] for a in arrays]) if arrays else np.empty(0)
    if not len(values):
        return np.geomspace(1.0, 2.0, bins + 1)
    low, high = float(values.min()), float(values.max())
    if high <= low * 1.01:
        low, high = low / 1.5, high * 1.5
    return np.geomspace(low, high, bins + 1)


def count_edges(arrays: list[np.ndarray]) -> np.ndarray:
    """Edges of one bin per whole number from 0 to the largest value of all `arrays`."""
    top = max((int(a.max()) for a in arrays if len(a)), default=0)
    return np.arange(top + 2) - 0.5


def unit_edges(bins: int = 20) -> np.ndarray:
    """Edges over [0, 1] for fractions such as visibility and truncation."""
    return np.linspace(0.0, 1.0, bins + 1)


def center_heatmap(boxes: Boxes, bins: int = 16) -> np.ndarray:
    """Box centres counted on a bins × bins grid over the image, [row (y), column (x)];
    centres outside the image are counted at its border."""
    column = np.clip((boxes.cx * bins).astype(np.int64), 0, bins - 1)
    row = np.clip((boxes.cy * bins).astype(np.int64), 0, bins - 1)
    grid = np.zeros((bins, bins), dtype=np.int64)
    np.add.at(grid, (row, column), 1)
    return grid


def native_values(records: list[dict[str, Any]] | None, field: str) -> np.ndarray | None:
    """One value per object of the native records that has `field`; None when no object has
    it (the label was not recorded, or there are no records)."""
    values = [o[field] for r in records or () for o in r["objects"] if field in o]
    return np.array(values, dtype=np.float64) if values else None


def quantiles(values: np.ndarray, qs: tuple[float, ...] = (0.1, 0.5, 0.9)) -> list[float]:
    """The `qs` quantiles of `values` (empty list for no values)."""
    return [float(q) for q in np.quantile(values, qs)] if len(values) else []


def sample_indices(count: int, samples: int) -> list[int]:
    """Up to `samples` evenly spaced positions in range(count), first and last included."""
    if count <= 0 or samples <= 0:
        return []
    return sorted({round(i) for i in np.linspace(0, count - 1, min(samples, count))})


def depth_range(
    folder: DatasetFolder, records: list[dict[str, Any]], samples: int = 12
) -> DepthRange | None:
    """Min, median and max of the non-zero depth over up to `samples` evenly spaced frames
    with a depth file (PNG millimetres or .npy metres); None when no frame has one."""
    with_depth = [r for r in records if "depth" in r["files"]]
    picked = [with_depth[i] for i in sample_indices(len(with_depth), samples)]
    if not picked:
        return None
    values = np.concatenate([_read_depth(folder.pass_file(r, "depth")) for r in picked])
    if not len(values):
        return None
    low, median, high = (float(v) for v in np.quantile(values, (0.0, 0.5, 1.0)))
    return DepthRange(low, median, high, len(picked), len(records))


def _read_depth(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        depth = np.load(path).astype(np.float64)
    else:
        depth = encode.read_png16(path) / encode.DEPTH_SCALE
    return depth[depth > 0]


def summarize(dataset: Dataset) -> Stats:
    """The numbers of the report for one dataset."""
    coco, records = dataset.coco, dataset.records
    sizes = Counter((int(i["width"]), int(i["height"])) for i in coco["images"])
    return Stats(
        label=dataset.label,
        source=dataset.source,
        frames=len(coco["images"]),
        image_sizes=dict(sizes.most_common()),
        classes=class_counts(coco),
        class_frames=class_frames(coco),
        crowd=sum(1 for ann in coco["annotations"] if ann.get("iscrowd", 0)),
        per_frame=instances_per_frame(coco),
        boxes=box_arrays(coco),
        visibility=native_values(records, "visibility"),
        truncation=native_values(records, "truncation"),
        depth=depth_range(dataset.folder, records) if dataset.folder and records else None,
        keypoints=keypoint_counts(coco, _boxes(coco)),
    )
