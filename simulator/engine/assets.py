"""Keypoints that model files declare in sidecar files, carried into the frame sim draws the
model in.

Keypoints in a sidecar are given in the model file's own coordinates and units (for glTF, its
Y-up axes). Files read through trimesh (`simulator.scene.models`) give the mapping themselves
(`to_frame`: units and axes, then normalisation if asked); Panda3D's own formats (.egg, .bam)
are drawn centred with their longest side 1, a frame measured here through Panda3D's loader.

Sidecar format, `<model file stem>.keypoints.json` beside the model (or any path)::

    {"keypoints": {"bowl": [0.0, 0.02, 0.05], "mouthpiece": [0.14, 0.0, 0.01]},
     "skeleton": [["bowl", "mouthpiece"]]}
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from simulator.engine.geometry import model_bounds
from simulator.errors import WorldError
from simulator.labels.records import KeypointSchema

GLTF_SUFFIXES = (".gltf", ".glb")


@functools.cache
def model_frame(path: str) -> tuple[tuple[float, float, float], float]:
    """(centre, longest side) of a model file's bounds, Z up: sim draws the model as
    (point - centre) / longest side."""

    low, high = model_bounds(path)
    centre = (low + high) / 2
    return (float(centre[0]), float(centre[1]), float(centre[2])), float(max(high - low))


def to_z_up(points: np.ndarray, path: str) -> np.ndarray:
    """A model file's coordinates with Z up: glTF's (x, y, z) becomes (x, -z, y)."""
    points = np.asarray(points, dtype=float).reshape(-1, 3)
    if Path(path).suffix.lower() in GLTF_SUFFIXES:
        return np.column_stack([points[:, 0], -points[:, 2], points[:, 1]])
    return points


def sidecar(model_path: str) -> Path:
    """Where a model's keypoint file is looked for: `<stem>.keypoints.json` beside it."""
    path = Path(model_path)
    return path.with_name(path.name.split(".")[0] + ".keypoints.json")


def read_keypoints(
    file: Path, model_path: str, to_frame: Callable[[np.ndarray], np.ndarray] | None = None
) -> tuple[dict[str, np.ndarray], KeypointSchema]:
    """Keypoints of a model from `file`, in the frame the model is drawn in, and their schema.
    `to_frame` maps file coordinates (N, 3) to that frame; without it, Panda3D's loader
    measures the model's normalised frame."""
    try:
        data = json.loads(file.read_text())
        points = {str(k): np.asarray(v, dtype=float) for k, v in data["keypoints"].items()}
        if any(p.shape != (3,) for p in points.values()):
            raise ValueError("each keypoint is [x, y, z]")
        schema = KeypointSchema(
            tuple(points), tuple((str(a), str(b)) for a, b in data.get("skeleton", []))
        )
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise WorldError(
            f"keypoint file {file}: {error}",
            hint='expected {"keypoints": {"name": [x, y, z]}, "skeleton": [["a", "b"]]}',
        ) from None
    names = list(points)
    file_points = np.array([points[n] for n in names]).reshape(-1, 3)
    if to_frame is not None:
        local = to_frame(file_points)
    else:
        centre, size = model_frame(model_path)
        local = (to_z_up(file_points, model_path) - centre) / size
    return dict(zip(names, local, strict=True)), schema
