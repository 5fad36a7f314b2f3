"""What `sim inspect --json` prints: the report's numbers (simulator.report.stats) as plain
JSON data, one object per dataset, so a script can gate on a dataset without reading HTML.

Quantiles are (p10, median, p90) as in the report; a value the dataset does not record
(visibility, truncation, depth) is null.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.report.stats import Stats, quantiles


def _quantiles(values: np.ndarray | None) -> dict[str, float] | None:
    if values is None or not len(values):
        return None
    p10, median, p90 = quantiles(values)
    return {"p10": p10, "median": median, "p90": p90}


def stats_record(s: Stats) -> dict[str, Any]:
    """One dataset's numbers."""
    per_frame = s.per_frame
    return {
        "label": s.label,
        "source": str(s.source),
        "frames": s.frames,
        "image_sizes": [
            {"width": w, "height": h, "frames": n} for (w, h), n in s.image_sizes.items()
        ],
        "boxes": len(s.boxes),
        "crowd": s.crowd,
        "classes": {
            name: {"boxes": count, "frames": s.class_frames[name]}
            for name, count in s.classes.items()
        },
        "per_frame": {
            "mean": float(per_frame.mean()),
            "median": float(np.median(per_frame)),
            "min": int(per_frame.min()),
            "max": int(per_frame.max()),
        }
        if len(per_frame)
        else None,
        "box_size": _quantiles(s.boxes.size),
        "visibility": _quantiles(s.visibility),
        "truncation": _quantiles(s.truncation),
        "depth": None
        if s.depth is None
        else {
            "low": s.depth.low,
            "median": s.depth.median,
            "high": s.depth.high,
            "frames_sampled": s.depth.frames_sampled,
        },
        "keypoints": {
            category: {name: counts.record() for name, counts in points.items()}
            for category, points in s.keypoints.items()
        },
    }
