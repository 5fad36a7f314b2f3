"""The dataset directory: its layout, the per-frame pass images, and the manifest.

out/<world>/
  manifest.json           what made this dataset: world, seed, versions, frames done
  images/000000.jpg       RGB (jpg or png)
  instances/000000.png    16-bit instance ids (0 = background)
  depth/000000.png        16-bit plane depth in millimetres (0 = background)
  annotations/instances.json   COCO (writer "coco")
  frames.jsonl            one native record per frame (writer "native")
  tracks/000000.npz       a clip's point tracks (label point_tracks), TAP-Vid's layout

With a camera rig ([camera.rig]) those passes are the first (left) camera's; each other
camera's go the same way under cameras/<name>/ (cameras/right/images/000000.jpg, ...,
cameras/right/tracks/000000.npz), and the stereo pair's disparity, the left image's, to
disparity/000000.npy (float32 pixels).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
from collections.abc import Callable
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from simulator.dataset import encode, lock
from simulator.dataset.atomic import atomic_write
from simulator.errors import OutputError
from simulator.labels.records import FLOW_VALID, FrameLabels, TrackFrame
from simulator.labels.tracks import clip_tracks
from simulator.world.schema import ClipSection, OutputSection

MANIFEST = "manifest.json"
FORMAT = "sim-dataset/"  # the manifest's `format`, before its version
STATE = ".sim"  # a run's scratch state: shard parts and markers (simulator.run.shards)
SCRATCH = (STATE, lock.LOCK)  # what a run leaves while it works
RECORDS = "frames.jsonl"  # the native writer's records (plugins/native.py)
COCO = "annotations/instances.json"  # the coco writer's default `path` (plugins/coco.py)
CAMERAS = "cameras"  # a rig's other cameras' passes: cameras/<name>/images/...
TRACKS = "tracks"  # label point_tracks: tracks/<clip>.npz, one file per clip


def frame_name(index: int) -> str:
    return f"{index:06d}"


def check_output_dir(root: Path, overwrite: bool, locked: bool = False) -> None:
    """Refuse to mix a new dataset into a directory that already holds files, to overwrite
    anything but a sim dataset, and to write where another run is writing (unless `locked`:
    this run holds the lock)."""
    if not root.exists():
        return
    if not root.is_dir():
        raise OutputError(f"output path {root} exists and is not a directory")
    info = None if locked else lock.holder(root)
    if info is not None:
        raise OutputError(lock.busy_message(root, info))
    if not any(child.name not in SCRATCH for child in root.iterdir()):
        return  # empty, or only what a run killed before its first write left
    manifest = _sim_manifest(root)
    if manifest is None:
        raise OutputError(
            f"output directory {root} is not empty and holds no sim dataset; choose another --out"
        )
    if overwrite:
        return
    if manifest.get("status") != "complete":
        raise OutputError(
            f"output directory {root} holds an unfinished dataset ({manifest.get('frames_done', 0)}"
            f" of {manifest.get('frames', '?')} frames); pass --resume to continue it, or "
            "--overwrite to start over"
        )
    raise OutputError(
        f"output directory {root} already holds a dataset; pass --overwrite "
        "to replace it or choose another --out"
    )


def check_no_links(root: Path) -> None:
    """Refuse a dataset folder holding a symbolic link: writing through it would put files
    outside the dataset."""
    for folder, names, files in os.walk(root):
        for name in names + files:
            path = Path(folder) / name
            if path.is_symlink():
                raise OutputError(
                    f"{path} is a symbolic link (to {os.readlink(path)}); sim writes only "
                    "inside the dataset folder: remove the link"
                )


def _sim_manifest(root: Path) -> dict[str, Any] | None:
    """The manifest of the sim dataset at `root`, or None when it is not one."""
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or not str(manifest.get("format", "")).startswith(FORMAT):
        return None
    return manifest


def clear_dataset(root: Path) -> None:
    """Remove a previous sim dataset (checked by `check_output_dir` first). Links are removed,
    never followed: nothing outside `root` is deleted."""
    if _sim_manifest(root) is None and any(c.name not in SCRATCH for c in root.iterdir()):
        raise OutputError(f"refusing to delete {root}: it is not a sim dataset")
    for child in root.iterdir():
        if child.name == lock.LOCK:
            continue  # held by this run
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


Encoding = list[tuple[str, Callable[[], bytes]]]


def frame_files(
    frame: FrameLabels, output: OutputSection, clip: ClipSection | None = None
) -> tuple[dict[str, str], Encoding]:
    """The frame's pass files: {pass: dataset-relative path}, and (path, encoder) pairs that
    produce their bytes, to run now or on another thread. A rig's other cameras get theirs
    too (set on each view's `files`), under cameras/<name>/."""
    files, jobs = _camera_files(frame, output, "", clip)
    if frame.disparity is not None:
        path = f"disparity/{frame_name(frame.index)}.npy"
        files["disparity"] = path
        jobs.append((path, partial(encode.npy_bytes, frame.disparity)))
    for name, view in frame.views.items():
        view.files, more = _camera_files(view, output, f"{CAMERAS}/{name}/", clip)
        jobs.extend(more)
    return files, jobs


def _camera_files(
    frame: FrameLabels, output: OutputSection, folder: str, clip: ClipSection | None = None
) -> tuple[dict[str, str], Encoding]:
    """One camera's pass files, under `folder` (empty: the dataset's root)."""
    name = frame_name(frame.index)
    passes, labels = frame.passes, output.labels
    files: dict[str, str] = {}
    jobs: Encoding = []

    def add(key: str, path: str, encoder: Callable[[], bytes]) -> None:
        files[key] = path
        jobs.append((path, encoder))

    add(
        "image",
        f"{folder}images/{name}.{output.image_format}",
        lambda: encode.color_bytes(passes.color, output.image_format, output.jpeg_quality),
    )
    if "instance" in labels:
        add(
            "instance", f"{folder}instances/{name}.png", lambda: encode.png16_bytes(passes.instance)
        )
    if "semantic" in labels:
        add(
            "semantic",
            f"{folder}semantic/{name}.png",
            lambda: encode.png16_bytes(semantic_mask(frame)),
        )
    for label, values in (("depth", passes.depth), ("distance", passes.distance)):
        if label in labels:
            if output.depth_format == "npy":
                add(label, f"{folder}{label}/{name}.npy", partial(encode.npy_bytes, values))
            else:
                add(label, f"{folder}{label}/{name}.png", partial(_millimetres_png, values))
    if "normals" in labels:
        if output.normals_format == "npy":
            add("normals", f"{folder}normals/{name}.npy", lambda: encode.npy_bytes(passes.normal))
        else:
            add(
                "normals",
                f"{folder}normals/{name}.png",
                lambda: encode.normals_png_bytes(passes.normal),
            )
    for direction, flow in frame.flow.items():
        key = f"flow_{direction}"
        if clip is not None and clip.flow_format == "kitti":
            valid = (flow.flags == FLOW_VALID).astype(np.uint16)
            add(
                key,
                f"{folder}{key}/{name}.png",
                partial(encode.kitti_flow_bytes, flow.vectors, valid),
            )
        else:
            add(key, f"{folder}{key}/{name}.npy", partial(encode.npy_bytes, flow.vectors))
        flags = f"{folder}{key}_flags/{name}.png"
        add(key + "_flags", flags, partial(encode.png8_bytes, flow.flags))
    for direction, scene_flow in frame.scene_flow.items():
        key = f"scene_flow_{direction}"
        add(key, f"{folder}{key}/{name}.npy", partial(encode.npy_bytes, scene_flow.vectors))
        add(
            key + "_flags",
            f"{folder}{key}_flags/{name}.png",
            partial(encode.png8_bytes, scene_flow.flags),
        )
    for key, values in frame.maps.items():
        add(key, f"{folder}{key}/{name}.npy", partial(encode.npy_bytes, values))
    return files, jobs


def tracks_file(
    clip: int, frames: list[TrackFrame], camera: str = ""
) -> tuple[str, Callable[[], bytes]]:
    """A clip's point tracks file, tracks/<clip>.npz (a rig's other cameras':
    cameras/<name>/tracks/<clip>.npz), from its frames rendered in this run (in order), and
    what makes its bytes."""
    folder = f"{CAMERAS}/{camera}/" if camera else ""
    path = f"{folder}{TRACKS}/{frame_name(clip)}.npz"
    return path, lambda: encode.npz_bytes(clip_tracks(frames))


def _millimetres_png(metres: np.ndarray) -> bytes:
    return encode.png16_bytes(encode.depth_millimetres(metres))


def write_files(root: Path, jobs: Encoding) -> None:
    for path, encoder in jobs:
        atomic_write(root / path, encoder())


def semantic_mask(frame: FrameLabels) -> np.ndarray:
    """Category id per pixel (1-based, as in COCO); 0 for background and distractors."""
    ids = max((e.instance_id for e in frame.scene.entities), default=0)  # ids may skip
    lookup = np.zeros(ids + 1, dtype=np.uint16)  # (an object not yet in its clip)
    for obj in frame.objects:
        lookup[obj.instance_id] = obj.category_id
    return lookup.take(frame.passes.instance)  # as lookup[instance], several times faster


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("sim", "panda3d", "numpy", "pydantic", "pluggy", "pycocotools", "pillow"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    atomic_write(root / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode())
