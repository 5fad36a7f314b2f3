"""Part labels: the named groups of a model's mesh (glTF nodes, OBJ groups) are its parts.

The engine writes each drawn pixel's part code into a label target (`Engine.render_parts`:
0 where the surface belongs to no part, else 1 + the index of its part's name in
`part_names`); an object's part masks are its visible pixels (the instance pass) split by that
code, so they are disjoint and together make up the object's mask wherever it is all parts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.labels.rle import encode_rle
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import Mesh


def part_names(mesh: Mesh) -> tuple[str, ...]:
    """The mesh's part names, each once, in the order of their first group (unnamed groups
    are no part)."""
    if not isinstance(mesh, TriangleMesh):
        return ()
    return tuple(dict.fromkeys(g.name for g in mesh.groups if g.name))


def part_codes(mesh: TriangleMesh) -> list[int]:
    """Each group's part code: 1 + the index of its name in part_names, 0 for no name."""
    names = part_names(mesh)
    return [names.index(g.name) + 1 if g.name else 0 for g in mesh.groups]


def part_labels(
    instance: np.ndarray,
    parts: np.ndarray,
    instance_id: int,
    bbox: list[int],
    names: tuple[str, ...],
) -> dict[str, dict[str, Any]]:
    """{part name: {"bbox", "area", "segmentation"}} of an object's visible parts: its pixels
    in `instance` (inside its tight `bbox`) with that part's code in `parts`."""
    x, y, w, h = bbox
    window = instance[y : y + h, x : x + w] == instance_id
    codes = parts[y : y + h, x : x + w]
    found: dict[str, dict[str, Any]] = {}
    for code in np.unique(codes[window]).tolist():
        if not 0 < code <= len(names):
            continue
        mask = window & (codes == code)
        rows, cols = np.nonzero(mask)
        full = np.zeros(instance.shape, dtype=bool)
        full[y : y + h, x : x + w] = mask
        top, left = int(rows.min()), int(cols.min())
        found[names[code - 1]] = {
            "bbox": [x + left, y + top, int(cols.max()) - left + 1, int(rows.max()) - top + 1],
            "area": int(mask.sum()),
            "segmentation": encode_rle(full),
        }
    return dict(sorted(found.items(), key=lambda item: names.index(item[0])))
