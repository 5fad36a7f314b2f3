"""Every format agrees with the exact mask, over a few hundred objects of the bundled worlds
(their own occlusions, tori, teapot handles, pipe bowls, tote bins): the COCO polygons at
their default tolerance (0.5 px) and YOLO's at its default (1 px) are read back with
pycocotools (an independent rasterizer) against the COCO RLE mask.

- COCO polygons, tolerance 0.5: exactly the mask, holes included; the polygons' bounds are
  the box.
- YOLO polygons, tolerance 1: bounds equal the box (to the file's 6 decimals), and every
  mismatched pixel is within the tolerance + 0.5 px of the mask's exact outline.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from scipy import ndimage

from simulator.labels.polygons import mask_polygons
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 320, 240

OUTPUT = """
labels = ["boxes", "masks", "instance"]
writers = [
    "coco",
    { type = "coco", name = "polygons", path = "annotations/polygons.json", segmentation = "polygon" },
    { type = "yolo", task = "segment", val_fraction = 0 },
]
"""


def _small(name: str) -> str:
    """The bundled world at 320 x 240 with the writers above ([output] is its last table)."""
    text = (ROOT / "worlds" / f"{name}.toml").read_text()
    text = re.sub(r"(?m)^resolution = .*$", f"resolution = [{WIDTH}, {HEIGHT}]", text)
    text = re.sub(r"(?m)^(labels|writers|dir) = .*$", "", text)
    # the parts world's model files are beside the bundled world file
    text = re.sub(r'(?m)^(folder|path) = "(parts/[^"]*)"', rf'\1 = "{ROOT}/worlds/\2"', text)
    assert text.rstrip().splitlines()[-1].startswith(("[output]", "#", "image_format"))
    return text + OUTPUT


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> list[Path]:
    roots = []
    for name, frames in (("tabletop", 12), ("shapes", 18), ("pipes", 12), ("parts", 10)):
        folder = tmp_path_factory.mktemp(name)
        (folder / "world.toml").write_text(_small(name))
        world = load_world(folder / "world.toml")
        roots.append(run(world, RunOptions(folder / "out", frames=frames)).root)
    return roots


def _distance_to_outline(points: np.ndarray, outline: list[np.ndarray]) -> np.ndarray:
    """Distance of each point to the nearest edge of the exact outlines."""
    best = np.full(len(points), np.inf)
    for ring in outline:
        a, b = ring, np.roll(ring, -1, axis=0)
        keep = np.any(a != b, axis=1)  # a slit's ends may meet
        a, b = a[keep], b[keep]
        ab = b - a
        t = np.clip(((points[:, None] - a) * ab).sum(-1) / (ab * ab).sum(-1), 0, 1)
        gap = np.hypot(*(points[:, None] - a - t[..., None] * ab).transpose(2, 0, 1)).min(1)
        best = np.minimum(best, gap)
    return best


def test_polygons_of_every_format_agree_with_the_exact_masks(datasets):
    objects = holed = 0
    for root in datasets:
        rle = COCO(str(root / "annotations/instances.json"))
        poly = COCO(str(root / "annotations/polygons.json"))
        files = {i["id"]: Path(i["file_name"]).stem for i in rle.dataset["images"]}
        for image_id, stem in files.items():
            exact_anns = rle.loadAnns(rle.getAnnIds(imgIds=image_id, iscrowd=False))
            poly_anns = poly.loadAnns(poly.getAnnIds(imgIds=image_id, iscrowd=False))
            lines = (root / "yolo" / "labels" / "train" / f"{stem}.txt").read_text().splitlines()
            assert len(exact_anns) == len(poly_anns) == len(lines)
            for a, p, line in zip(exact_anns, poly_anns, lines, strict=True):
                mask = rle.annToMask(a).astype(bool)
                x, y, w, h = a["bbox"]
                # COCO polygons at 0.5 px: the mask itself, holes and all
                assert np.array_equal(poly.annToMask(p).astype(bool), mask)
                vertices = np.concatenate([np.reshape(r, (-1, 2)) for r in p["segmentation"]])
                assert [*vertices.min(0), *vertices.max(0)] == [x, y, x + w, y + h]
                # YOLO at 1 px: the box, and mismatches only near the outline
                points = np.array(line.split()[1:], dtype=float).reshape(-1, 2) * (WIDTH, HEIGHT)
                assert np.allclose(
                    [*points.min(0), *points.max(0)], [x, y, x + w, y + h], atol=1e-3
                )
                drawn = mask_utils.decode(
                    mask_utils.frPyObjects([points.ravel().tolist()], HEIGHT, WIDTH)
                )[..., 0].astype(bool)
                wrong = np.stack(np.nonzero(drawn ^ mask)[::-1], axis=1) + 0.5
                if len(wrong):
                    crop = mask[y : y + h, x : x + w]
                    outline = [r + np.array([x, y]) for r in mask_polygons(crop, tolerance=0)]
                    assert _distance_to_outline(wrong, outline).max() <= 1.5
                objects += 1
                holed += has_hole(mask)
    assert objects >= 250 and holed >= 40, (objects, holed)


def has_hole(mask: np.ndarray) -> bool:
    """Whether the mask has a hole: background not 4-connected to the image border."""
    return bool((ndimage.binary_fill_holes(mask) & ~mask).any())
