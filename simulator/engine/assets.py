"""Model files as sim sees them: the frame a model is normalised into, and keypoints that
asset files declare.

sim draws every model centred on the origin with its longest side 1 (like the primitives),
Z up. Keypoints in a sidecar file are given in the model file's own coordinates and units
(for glTF, its Y-up axes) and are carried into that same frame here.

Sidecar format, `<model file stem>.keypoints.json` beside the model (or any path)::

    {"keypoints": {"bowl": [0.0, 0.02, 0.05], "mouthpiece": [0.14, 0.0, 0.01]},
     "skeleton": [["bowl", "mouthpiece"]]}
"""

from __future__ import annotations

import functools
import json
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


def read_keypoints(file: Path, model_path: str) -> tuple[dict[str, np.ndarray], KeypointSchema]:
    """Keypoints of a model from `file`, in the model's normalised frame, and their schema."""
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
    centre, size = model_frame(model_path)
    names = list(points)
    local = (to_z_up(np.array([points[n] for n in names]), model_path) - centre) / size
    return dict(zip(names, local, strict=True)), schema
