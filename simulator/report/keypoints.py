"""Keypoint counts for `sim inspect`: per category and keypoint name, how many boxes label
the point, and of those how many see it and how many have it hidden.

Counted from the COCO file, so a sim dataset and any COCO keypoint dataset read alike: a
category's `keypoints` names its points, each non-crowd annotation's `keypoints` holds
(x, y, v) per name, with COCO's v: 0 not labeled, 1 labeled but occluded, 2 visible (sim
writes v the same way, see docs/labels.md). A category without names has no row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Any

import numpy as np


@dataclass(frozen=True)
class KeypointCounts:
    """One keypoint of one category over the dataset's boxes of that category."""

    boxes: int  # boxes of the category
    labeled: int  # v > 0
    visible: int  # v == 2
    occluded: int  # v == 1

    def record(self) -> dict[str, int]:
        return {
            "boxes": self.boxes,
            "labeled": self.labeled,
            "visible": self.visible,
            "occluded": self.occluded,
        }


Keypoints = dict[str, dict[str, KeypointCounts]]  # category name -> keypoint name -> counts


def keypoint_counts(coco: dict[str, Any], boxes: list[dict[str, Any]]) -> Keypoints:
    """The counts of every category with keypoint names, over `boxes` (its non-crowd
    annotations); a box without `keypoints` labels none of its points."""
    found: Keypoints = {}
    for category in coco["categories"]:
        names = category.get("keypoints") or []
        if not names:
            continue
        of_category = [a for a in boxes if a["category_id"] == category["id"]]
        v = np.zeros((len(of_category), len(names)), dtype=np.int64)
        for row, ann in enumerate(of_category):
            if ann.get("keypoints"):
                v[row] = np.asarray(ann["keypoints"], dtype=np.float64)[2::3]
        found[category["name"]] = {
            name: KeypointCounts(
                len(of_category),
                int((v[:, k] > 0).sum()),
                int((v[:, k] == 2).sum()),
                int((v[:, k] == 1).sum()),
            )
            for k, name in enumerate(names)
        }
    return found


def keypoint_text(counts: Keypoints) -> str:
    """One line for the terminal: "pipe (9 boxes): bowl 9 (7 visible, 2 occluded), ..."."""
    if not counts:
        return "none"
    parts = []
    for category, points in counts.items():
        boxes = next(iter(points.values())).boxes
        each = ", ".join(
            f"{name} {c.labeled} ({c.visible} visible, {c.occluded} occluded)"
            for name, c in points.items()
        )
        parts.append(f"{category} ({boxes} boxes): {each}")
    return "; ".join(parts)


def keypoint_table(labels: Sequence[str], counts: Sequence[Keypoints]) -> str:
    """An HTML table, a row per (category, keypoint) of any dataset, three columns per
    dataset; "-" where a dataset lacks the point."""
    rows_of = list(
        dict.fromkeys((c, n) for one in counts for c, points in one.items() for n in points)
    )
    head = "".join(f'<th colspan="3">{escape(label)}</th>' for label in labels)
    sub = "<th>labeled</th><th>visible</th><th>occluded</th>" * len(labels)
    rows = [f"<tr><th></th><th></th>{head}</tr>", f"<tr><th>class</th><th>keypoint</th>{sub}</tr>"]
    for category, name in rows_of:
        cells = ""
        for one in counts:
            c = one.get(category, {}).get(name)
            values = ("-",) * 3 if c is None else (c.labeled, c.visible, c.occluded)
            cells += "".join(f'<td class="n">{value}</td>' for value in values)
        rows.append(f"<tr><td>{escape(category)}</td><td>{escape(name)}</td>{cells}</tr>")
    return "<table>" + "".join(rows) + "</table>"
