"""Mask outlines: exact pixel-edge tracing, 8-connectivity, winding, simplification, merging."""

from collections import deque

import numpy as np
import pytest

from simulator.labels.polygons import mask_polygons, merge_polygons, shoelace_area


def mask_from(rows: list[str]) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows])


def rasterize(polygon: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pixels whose centre is inside the polygon (even-odd rule): exact for pixel-edge
    outlines, whose edges never pass through a pixel centre."""
    py, px = np.mgrid[:height, :width] + 0.5
    inside = np.zeros((height, width), bool)
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, -1, axis=0), strict=True):
        if y1 == y2:
            continue
        crosses = (y1 > py) != (y2 > py)
        inside ^= crosses & (px < x1 + (py - y1) * (x2 - x1) / (y2 - y1))
    return inside


def components(mask: np.ndarray) -> list[np.ndarray]:
    """8-connected components by breadth-first search (independent of the code under test)."""
    seen = np.zeros(mask.shape, bool)
    found = []
    for start in zip(*np.nonzero(mask), strict=True):
        if seen[start]:
            continue
        component = np.zeros(mask.shape, bool)
        queue = deque([start])
        seen[start] = True
        while queue:
            r, c = queue.popleft()
            component[r, c] = True
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    n = (r + dr, c + dc)
                    if (
                        0 <= n[0] < mask.shape[0]
                        and 0 <= n[1] < mask.shape[1]
                        and mask[n]
                        and not seen[n]
                    ):
                        seen[n] = True
                        queue.append(n)
        found.append(component)
    return found


def filled(component: np.ndarray) -> np.ndarray:
    """The component with its holes: background not 4-connected to the image border."""
    padded = np.pad(~component, 1, constant_values=True)
    reach = np.zeros(padded.shape, bool)
    queue = deque([(0, 0)])
    reach[0, 0] = True
    while queue:
        r, c = queue.popleft()
        for n in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            inside = 0 <= n[0] < padded.shape[0] and 0 <= n[1] < padded.shape[1]
            if inside and padded[n] and not reach[n]:
                reach[n] = True
                queue.append(n)
    return ~reach[1:-1, 1:-1]


def test_single_pixel_is_its_square_clockwise_from_the_top_left():
    mask = np.zeros((5, 6), bool)
    mask[1, 2] = True
    (polygon,) = mask_polygons(mask, tolerance=0)
    assert polygon.dtype == float
    assert polygon.tolist() == [[2, 1], [3, 1], [3, 2], [2, 2]]


@pytest.mark.parametrize("tolerance", [0, 0.5, 1.0, 5.0])
def test_rectangle_gives_exactly_its_four_corners(tolerance):
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:8] = True
    (polygon,) = mask_polygons(mask, tolerance)
    assert polygon.tolist() == [[3, 2], [8, 2], [8, 5], [3, 5]]
    assert shoelace_area(polygon) == 15 == mask.sum()


def test_l_shape_keeps_only_its_corners():
    mask = mask_from(
        [
            "......",
            ".##...",
            ".##...",
            ".####.",
            ".####.",
        ]
    )
    (polygon,) = mask_polygons(mask, tolerance=0)
    assert polygon.tolist() == [[1, 1], [3, 1], [3, 3], [5, 3], [5, 5], [1, 5]]
    assert shoelace_area(polygon) == mask.sum() == 12


def test_two_components_largest_first():
    mask = np.zeros((10, 10), bool)
    mask[1:3, 1:3] = True  # 4 pixels, top-left
    mask[5:9, 5:9] = True  # 16 pixels
    small_first = mask_polygons(mask, tolerance=0)
    assert [p.tolist() for p in small_first] == [
        [[5, 5], [9, 5], [9, 9], [5, 9]],
        [[1, 1], [3, 1], [3, 3], [1, 3]],
    ]


def test_pixels_touching_at_a_corner_are_one_component():
    mask = mask_from(["#.", ".#"])
    (polygon,) = mask_polygons(mask, tolerance=0)
    # The outline passes twice through the shared corner (1, 1), never crossing itself.
    assert polygon.tolist() == [[0, 0], [1, 0], [1, 1], [2, 1], [2, 2], [1, 2], [1, 1], [0, 1]]
    assert shoelace_area(polygon) == 2


def test_a_ring_is_its_outline_with_the_hole_joined_by_a_slit():
    mask = np.zeros((7, 7), bool)
    mask[1:6, 1:6] = True
    mask[2:5, 2:5] = False  # a 3x3 hole
    (polygon,) = mask_polygons(mask, tolerance=0)
    # Round the outside from (1, 1), in through the slit to the hole's closest corner (2, 2),
    # round the hole counter-clockwise, and back out.
    assert polygon.tolist() == [
        [1, 1], [2, 2], [2, 5], [5, 5], [5, 2], [2, 2], [1, 1], [6, 1], [6, 6], [1, 6],
    ]  # fmt: skip
    assert shoelace_area(polygon) == 16 == mask.sum()
    assert np.array_equal(rasterize(polygon, 7, 7), mask)


def test_a_component_inside_a_hole_is_its_own_polygon():
    mask = np.zeros((9, 9), bool)
    mask[1:8, 1:8] = True
    mask[2:7, 2:7] = False
    mask[4, 4] = True
    outer, island = mask_polygons(mask, tolerance=0)
    frame = mask.copy()
    frame[4, 4] = False
    assert np.array_equal(rasterize(outer, 9, 9), frame)
    assert outer[:2].tolist() == [[1, 1], [2, 2]] and shoelace_area(outer) == frame.sum()
    assert island.tolist() == [[4, 4], [5, 4], [5, 5], [4, 5]]


def test_shoelace_area_equals_pixel_count_for_hole_free_shapes():
    rng = np.random.default_rng(3)
    for _ in range(50):
        # One run per row, consecutive runs overlapping: connected and hole-free.
        height = int(rng.integers(1, 30))
        mask = np.zeros((height + 2, 40), bool)
        left, right = 10, 20
        for r in range(1, height + 1):
            previous = left
            left = int(rng.integers(max(1, left - 5), right))
            right = int(rng.integers(max(left, previous) + 1, min(39, right + 6) + 1))
            mask[r, left:right] = True
        (polygon,) = mask_polygons(mask, tolerance=0)
        assert shoelace_area(polygon) == mask.sum()
    yy, xx = np.mgrid[:480, :640]
    disk = (xx - 300) ** 2 + (yy - 200) ** 2 < 150**2
    (polygon,) = mask_polygons(disk, tolerance=0)
    assert shoelace_area(polygon) == disk.sum()


def test_random_masks_match_an_independent_labeling():
    """Every 8-connected component gets one polygon, which covers exactly the component (its
    holes cut out), winds clockwise (positive shoelace area) and, without holes, has no
    collinear points."""
    rng = np.random.default_rng(7)
    for _ in range(150):
        height, width = (int(v) for v in rng.integers(1, 12, 2))
        mask = rng.random((height, width)) < rng.uniform(0.2, 0.8)
        polygons = mask_polygons(mask, tolerance=0)
        expected = sorted(components(mask), key=lambda c: -filled(c).sum())
        assert len(polygons) == len(expected)
        outer = [filled(c).sum() for c in expected]  # the order: area inside the outline
        covered = [rasterize(p, height, width) for p in polygons]
        assert sorted(c.sum() for c in covered) == sorted(c.sum() for c in expected)
        for polygon, inside, size in zip(polygons, covered, outer, strict=True):
            assert len(polygon) >= 3 and shoelace_area(polygon) == inside.sum() > 0
            (component,) = [c for c in expected if np.array_equal(inside, c)]
            assert filled(component).sum() == size
            top = polygon[np.lexsort((polygon[:, 0], polygon[:, 1]))[0]]
            assert polygon[0].tolist() == top.tolist(), "starts at the top-most, left-most"
            if not np.array_equal(filled(component), component):
                continue  # slits double back; the rest of the checks are for plain outlines
            step = np.roll(polygon, -1, axis=0) - polygon
            turn = (
                step[:, 0] * np.roll(step, -1, axis=0)[:, 1]
                - step[:, 1] * np.roll(step, -1, axis=0)[:, 0]
            )
            assert np.all(turn != 0), "collinear point left at tolerance 0"


def test_simplification_keeps_the_shape_within_tolerance():
    yy, xx = np.mgrid[:480, :640]
    disk = (xx - 320) ** 2 + (yy - 240) ** 2 < 100**2
    (exact,) = mask_polygons(disk, tolerance=0)
    (coarse,) = mask_polygons(disk, tolerance=1.0)
    assert len(coarse) < len(exact) / 4
    assert shoelace_area(coarse) > 0
    assert abs(shoelace_area(coarse) - disk.sum()) < 2 * np.pi * 100 * 1.0
    assert set(map(tuple, coarse.tolist())) <= set(map(tuple, exact.tolist()))
    # Every exact corner lies within the tolerance of the simplified outline.
    a, b = coarse, np.roll(coarse, -1, axis=0)
    ab = b - a
    t = np.clip(((exact[:, None] - a) * ab).sum(-1) / (ab * ab).sum(-1), 0, 1)
    distance = np.hypot(*(exact[:, None] - a - t[..., None] * ab).transpose(2, 0, 1)).min(1)
    assert distance.max() <= 1.0


def test_an_outline_too_thin_to_simplify_stays_exact():
    mask = np.zeros((3, 20), bool)
    mask[1, 2:12] = True  # a 10x1 line: Douglas-Peucker at 1 px would leave 2 points
    (polygon,) = mask_polygons(mask, tolerance=1.0)
    assert polygon.tolist() == [[2, 1], [12, 1], [12, 2], [2, 2]]


def test_empty_mask_and_bad_arguments():
    assert mask_polygons(np.zeros((4, 4), bool)) == []
    with pytest.raises(ValueError, match=r"mask must be 2-D, got shape \(2, 2, 2\)"):
        mask_polygons(np.ones((2, 2, 2), bool))
    with pytest.raises(ValueError, match="tolerance must be >= 0, got -1"):
        mask_polygons(np.ones((2, 2), bool), tolerance=-1)
    with pytest.raises(ValueError, match="merge_polygons needs at least one polygon"):
        merge_polygons([])


def test_merge_connects_components_through_their_closest_points():
    mask = np.zeros((12, 16), bool)
    mask[1:4, 1:4] = True  # 9
    mask[6:10, 8:14] = True  # 24
    mask[1:3, 10:12] = True  # 4
    polygons = mask_polygons(mask, tolerance=0)
    merged = merge_polygons(polygons)
    # Every vertex of every part is on the merged path, and the parts' areas add up: each
    # link is walked there and back.
    assert {tuple(p) for p in merged.tolist()} == {tuple(p) for q in polygons for p in q.tolist()}
    assert shoelace_area(merged) == sum(shoelace_area(p) for p in polygons) == mask.sum()
    assert np.array_equal(rasterize(merged, 12, 16), mask)
    # Biggest part first, linked at its corner (8, 6) to the 3x3 square's closest corner
    # (4, 4); the square's corner (4, 1) links to the 2x2 square's (10, 1). Out: round the
    # first part, along the square to (4, 1), round the last; back: the rest of the square
    # to (4, 4), and the closing edge returns to (8, 6).
    assert merged.tolist() == [
        [8, 6], [14, 6], [14, 10], [8, 10], [8, 6],
        [4, 4], [1, 4], [1, 1], [4, 1],
        [10, 1], [12, 1], [12, 3], [10, 3], [10, 1],
        [4, 1], [4, 4],
    ]  # fmt: skip
    one = polygons[0]
    assert np.array_equal(merge_polygons([one]), one) and merge_polygons([one]) is not one


def _coco_raster(polygons: list[np.ndarray], height: int, width: int) -> np.ndarray:
    """What pycocotools (an independent rasterizer) makes of the polygons as one COCO
    segmentation: their union."""
    from pycocotools import mask as mask_utils

    rles = mask_utils.frPyObjects([p.ravel().tolist() for p in polygons], height, width)
    return mask_utils.decode(mask_utils.merge(rles)).astype(bool)


def test_pycocotools_rasterizes_exact_polygons_with_holes_to_the_mask():
    rng = np.random.default_rng(11)
    holed = 0
    for _ in range(200):
        height, width = (int(v) for v in rng.integers(3, 16, 2))
        mask = rng.random((height, width)) < rng.uniform(0.4, 0.9)
        polygons = mask_polygons(mask, tolerance=0)
        assert np.array_equal(_coco_raster(polygons, height, width), mask)
        assert sum(shoelace_area(p) for p in polygons) == mask.sum()
        holed += any(not np.array_equal(filled(c), c) for c in components(mask))
    assert holed > 50  # most of these masks have holes
    yy, xx = np.mgrid[:120, :160]
    r = np.hypot(xx - 80.3, yy - 60.6)
    torus = (r > 20) & (r < 45)
    (polygon,) = mask_polygons(torus, tolerance=0)
    assert np.array_equal(_coco_raster([polygon], 120, 160), torus)
    assert shoelace_area(polygon) == torus.sum()


@pytest.mark.parametrize("tolerance", [0.5, 1.0, 2.0])
def test_simplified_polygons_keep_the_box_and_the_holes(tolerance):
    """At any tolerance a polygon's bounds are its component's box (no extreme pixel row or
    column is cut), and it still rasterizes to its component within the tolerance: a
    mismatched pixel lies within `tolerance` + 0.5 px (its centre to its edge) of the
    component's exact outline, and there are at most `tolerance` per pixel of outline."""
    yy, xx = np.mgrid[:120, :160]
    rng = np.random.default_rng(5)
    for _ in range(40):
        cx, cy = rng.uniform(40, 120), rng.uniform(40, 80)
        outer, inner = rng.uniform(15, 38), rng.uniform(3, 12)
        angle = np.arctan2(yy - cy, xx - cx)
        r = np.hypot(xx - cx, yy - cy) * (1 + 0.15 * np.sin(3 * angle + rng.uniform(0, 6)))
        mask = (r < outer) & (r > inner)
        (polygon,) = mask_polygons(mask, tolerance)
        ys, xs = np.nonzero(mask)
        assert polygon.min(axis=0).tolist() == [xs.min(), ys.min()]
        assert polygon.max(axis=0).tolist() == [xs.max() + 1, ys.max() + 1]
        drawn = _coco_raster([polygon], 120, 160)
        wrong = drawn ^ mask
        (exact,) = mask_polygons(mask, tolerance=0)
        centres = np.stack(np.nonzero(wrong)[::-1], axis=1) + 0.5
        a, b = exact, np.roll(exact, -1, axis=0)
        ab = b - a
        t = np.clip(((centres[:, None] - a) * ab).sum(-1) / (ab * ab).sum(-1), 0, 1)
        gap = np.hypot(*(centres[:, None] - a - t[..., None] * ab).transpose(2, 0, 1)).min(1)
        assert gap.size == 0 or gap.max() <= tolerance + 0.5
        perimeter = np.hypot(*ab.T).sum()
        assert wrong.sum() <= tolerance * perimeter, (wrong.sum(), perimeter)
