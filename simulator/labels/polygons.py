"""Polygons from masks: pixel-edge outlines of connected components, simplified.

Coordinates are pixel-edge coordinates, like boxes (simulator.labels.records): the pixel at
column c, row r is the square [c, c + 1] x [r, r + 1], so a polygon's vertices lie on the pixel
grid's corners and are whole numbers (stored as floats). Points are (x, y), x to the right, y
down.

Conventions shared by every function here:

- Connectivity: foreground pixels are 8-connected (pixels touching only at a corner belong to
  one component), background 4-connected, as in OpenCV's `findContours`. Where a component
  touches itself only at a corner, its outline passes through that corner twice (the polygon
  touches itself at a vertex but never crosses itself).
- Winding: clockwise as seen in the image (y down), with the object on the right of each
  edge; the shoelace formula over (x, y) as given is then positive.
- Each polygon starts at its top-most, then left-most vertex, and is not closed (the first
  point is not repeated at the end).
- Holes are cut out: each hole's outline (counter-clockwise, so the object stays on the
  right) is joined to the component's outer outline by a zero-width slit, walked there and
  back, between their closest vertices. Even-odd filling (pycocotools, OpenCV) leaves the
  hole empty and the slit covers no pixel centre twice, so a polygon rasterizes to its
  component, holes included, and its shoelace area is the component's pixel count. COCO
  polygons cannot otherwise express holes (a list of polygons is their union).
- Simplification never moves the box: every vertex on the component's bounding box is kept,
  so a polygon's bounds are its box at any tolerance.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Edge directions, clockwise on screen: a left turn is (d + 3) % 4, a right turn (d + 1) % 4.
_EAST, _SOUTH, _WEST, _NORTH = 0, 1, 2, 3
_STEP = np.array([[1, 0], [0, 1], [-1, 0], [0, -1]])  # (dx, dy) of each direction


def mask_polygons(mask: np.ndarray, tolerance: float = 0.5) -> list[np.ndarray]:
    """One polygon per 8-connected component of a boolean (H, W) mask, largest first.

    Each is the component's outer boundary traced along pixel edges, with its holes joined in
    by slits, each outline simplified with Douglas-Peucker at `tolerance` pixels (0 keeps the
    exact staircase outline, with only its collinear points removed) between the vertices on
    the component's bounding box, which stay. An outline that would simplify to fewer than 3
    points is kept exact. Each polygon is an (N, 2) float array of (x, y), N >= 3, clockwise
    in the image; components are ordered by the area their outer outline encloses, largest
    first (ties: top-most, then left-most first). An empty mask gives [].
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D, got shape {mask.shape}")
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return []
    cols = np.flatnonzero(mask.any(axis=0))
    y0, x0 = int(rows[0]), int(cols[0])
    crop = mask[y0 : int(rows[-1]) + 1, x0 : int(cols[-1]) + 1]
    offset = np.array([x0, y0], dtype=float)
    polygons = []
    for outline, holes in _outlines(crop):
        low, high = outline.min(axis=0), outline.max(axis=0)
        ring = _simplify_ring(outline, tolerance, low, high)
        for hole in holes:
            ring = _bridge(ring, _simplify_ring(hole, tolerance, low, high))
        polygons.append(ring.astype(float) + offset)
    return polygons


def merge_polygons(polygons: Sequence[np.ndarray]) -> np.ndarray:
    """Join several polygons into one, for formats that allow one polygon per object.

    As Ultralytics' `merge_multi_segment` (JSON2YOLO, ultralytics/data/converter.py) does:
    consecutive polygons are linked at their closest pair of points; the path walks the first
    polygon round from its link point, goes out through the links to the last polygon, walks
    it round, and comes back the same way over the rest of each middle polygon, so every link
    is a zero-width slit travelled there and back. Unlike Ultralytics, middle polygons keep
    their orientation, so the result winds like its parts and, for non-overlapping parts, its
    shoelace area is the sum of theirs. One polygon is returned as it is.
    """
    rings = [np.asarray(p, dtype=float).reshape(-1, 2) for p in polygons]
    if not rings:
        raise ValueError("merge_polygons needs at least one polygon")
    if len(rings) == 1:
        return rings[0].copy()
    # links[i] = (exit index into ring i, entry index into ring i + 1)
    links = [_closest_pair(rings[i], rings[i + 1]) for i in range(len(rings) - 1)]
    last = len(rings) - 1
    forward: list[np.ndarray] = []
    back: list[np.ndarray] = []
    for i, ring in enumerate(rings):
        n = len(ring)
        if i == 0:  # round the first polygon, from and back to its link point
            start = links[0][0]
            forward.append(np.roll(ring, -start, axis=0))
            forward.append(ring[start : start + 1])
        elif i == last:  # round the last polygon, from and back to its entry point
            entry = links[i - 1][1]
            forward.append(np.roll(ring, -entry, axis=0))
            forward.append(ring[entry : entry + 1])
        else:  # entry -> exit on the way out, exit -> entry (the rest of it) on the way back
            entry, exit_ = links[i - 1][1], links[i][0]
            rolled = np.roll(ring, -entry, axis=0)
            split = (exit_ - entry) % n
            forward.append(rolled[: split + 1])
            back.append(np.concatenate([rolled[split:], rolled[:1]]))
    return np.concatenate(forward + back[::-1])


def shoelace_area(polygon: np.ndarray) -> float:
    """Signed area of a polygon of (x, y) points: positive for this module's winding."""
    x, y = np.asarray(polygon, dtype=float).T
    return float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)) / 2


def _bridge(ring: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """`ring` with `hole` walked in through a slit between their closest vertices: out along
    the ring to vertex i, across to the hole's vertex j, round the hole, and back. A hole
    touching the outline at a corner (8-connectivity) shares that vertex: no slit then."""
    i, j = _closest_pair(ring, hole)
    if np.array_equal(ring[i], hole[j]):
        return np.concatenate([ring[: i + 1], hole[j + 1 :], hole[: j + 1], ring[i + 1 :]])
    return np.concatenate([ring[: i + 1], hole[j:], hole[: j + 1], ring[i:]])


def _inside(points: np.ndarray, ring: np.ndarray) -> np.ndarray:
    """Whether each point (none on an edge) is inside `ring`, by the even-odd rule."""
    x1, y1 = ring[:, 0], ring[:, 1]
    x2, y2 = np.roll(x1, -1), np.roll(y1, -1)
    px, py = points[:, :1], points[:, 1:]
    crosses = (y1 > py) != (y2 > py)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
    return (crosses & (px < at)).sum(axis=1) % 2 == 1


def _outlines(crop: np.ndarray) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Each component's exact outer outline with the outlines of its holes (largest first).

    A hole belongs to the smallest outer outline around the object pixel just above its
    top-left corner: that pixel is the component's, and an island inside the hole is not
    around it."""
    outers, holes = _traced(crop)
    areas = np.array([shoelace_area(o) for o in outers])
    found: list[tuple[np.ndarray, list[np.ndarray]]] = [(o, []) for o in outers]
    for hole in sorted(holes, key=lambda h: shoelace_area(h)):  # largest hole first
        above = hole[:1] + np.array([0.5, -0.5])
        around = [k for k, outer in enumerate(outers) if _inside(above, outer)[0]]
        found[min(around, key=lambda k: areas[k])][1].append(hole)
    return found


def _traced(crop: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Exact outlines (corner points, int) of a non-empty mask: the components' outer ones,
    clockwise, largest first, and those of their holes, counter-clockwise; each starts at
    its top-most, then left-most vertex."""
    w = crop.shape[1]
    padded = np.pad(crop, 1)
    # Boundary edges, directed so the object is on their right (clockwise on screen).
    sides = (
        (crop & ~padded[:-2, 1:-1], (0, 0), _EAST),  # top edge, from the top-left corner
        (crop & ~padded[1:-1, 2:], (1, 0), _SOUTH),  # right edge, from the top-right corner
        (crop & ~padded[2:, 1:-1], (1, 1), _WEST),  # bottom edge, from the bottom-right corner
        (crop & ~padded[1:-1, :-2], (0, 1), _NORTH),  # left edge, from the bottom-left corner
    )
    xs, ys, ds = [], [], []
    for present, (dx, dy), direction in sides:
        r, c = np.nonzero(present)
        xs.append(c + dx)
        ys.append(r + dy)
        ds.append(np.full(r.size, direction))
    x, y, d = np.concatenate(xs), np.concatenate(ys), np.concatenate(ds)
    # Number edges by start vertex (top-most, then left-most), so the lowest-numbered edge of
    # an outline starts at its top-left vertex.
    key = (y * (w + 1) + x) * 4 + d  # (start vertex, direction): unique per edge
    order = np.argsort(key)
    x, y, d, key = x[order], y[order], d[order], key[order]
    n = x.size
    end = (y + _STEP[d, 1]) * (w + 1) + x + _STEP[d, 0]

    def leaving(vertex: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """The edge leaving `vertex` in `direction`, or -1."""
        wanted = vertex * 4 + direction
        found = np.minimum(np.searchsorted(key, wanted), n - 1)
        return np.where(key[found] == wanted, found, -1)

    # At a corner where two object pixels touch diagonally, two outlines meet; turning left
    # (toward the background) keeps the diagonal pixels on one outline: 8-connectivity.
    left = leaving(end, (d + 3) % 4)
    straight = leaving(end, d)
    right = leaving(end, (d + 1) % 4)
    successor = np.where(left >= 0, left, np.where(straight >= 0, straight, right))
    if np.any(successor < 0):  # every vertex has as many edges in as out
        raise AssertionError("open boundary while tracing a mask")
    cycle, position, length = _cycles(successor)
    # Signed area per outline: outer outlines are clockwise (positive), holes negative.
    ex, ey = x + _STEP[d, 0], y + _STEP[d, 1]
    area = np.bincount(cycle, weights=(x * ey - ex * y).astype(float), minlength=n) / 2
    # Edges in outline order; a corner is an edge whose direction differs from the one before.
    walk = np.lexsort((position, cycle))
    cycle, d, x, y = cycle[walk], d[walk], x[walk], y[walk]
    first = np.r_[True, cycle[1:] != cycle[:-1]]
    before = np.roll(d, 1)
    starts = np.flatnonzero(first)
    before[starts] = d[starts + length[cycle[starts]] - 1]
    corner = d != before
    points = np.stack([x, y], axis=1)
    outlines, holes = [], []
    for start in starts:
        leader = cycle[start]
        stop = start + length[leader]
        ring = points[start:stop][corner[start:stop]]
        if area[leader] > 0:
            outlines.append((-area[leader], y[start], x[start], ring))
        else:
            holes.append(ring)
    outlines.sort(key=lambda item: (item[0], item[1], item[2]))
    return [outline for *_, outline in outlines], holes


def _cycles(successor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cycle decomposition of a permutation, by pointer doubling (no per-element Python loop).

    Returns each element's cycle id (the lowest element of its cycle), its position along the
    cycle counted from that element, and the length of each cycle indexed by cycle id."""
    n = successor.size
    rounds = max(1, int(np.ceil(np.log2(n))))
    lowest = np.arange(n)
    jump = successor.copy()
    for _ in range(rounds):  # lowest[i]: min over the next 2^k elements from i
        lowest = np.minimum(lowest, lowest[jump])
        jump = jump[jump]
    length = np.bincount(lowest, minlength=n)
    # Steps from each element to its cycle's lowest element (list ranking, leader as sink).
    leader = lowest == np.arange(n)
    jump = np.where(leader, np.arange(n), successor)
    steps = np.where(leader, 0, 1)
    for _ in range(rounds):
        steps = steps + steps[jump]
        jump = jump[jump]
    position = np.where(leader, 0, length[lowest] - steps)
    return lowest, position, length


def _closest_pair(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """Indices (i, j) minimising |a[i] - b[j]| (first such pair), in blocks to bound memory."""
    best, pair = np.inf, (0, 0)
    block = max(1, 1_000_000 // max(1, len(b)))
    for start in range(0, len(a), block):
        chunk = a[start : start + block]
        distances = ((chunk[:, None, :] - b[None, :, :]) ** 2).sum(-1)
        i, j = np.unravel_index(int(np.argmin(distances)), distances.shape)
        if distances[i, j] < best:
            best, pair = float(distances[i, j]), (start + int(i), int(j))
    return pair


def _simplify_ring(
    ring: np.ndarray, tolerance: float, low: np.ndarray, high: np.ndarray
) -> np.ndarray:
    """Douglas-Peucker on a closed ring between anchors that stay: its first point, the
    point farthest from it, and every point on the box [low, high]; keeps the exact ring
    when fewer than 3 points would remain."""
    if tolerance == 0:
        return ring
    points = ring.astype(float)
    far = int(np.argmax(((points - points[0]) ** 2).sum(axis=1)))
    on_box = np.any((ring == low) | (ring == high), axis=1)
    anchors = np.union1d(np.flatnonzero(on_box), [0, far])
    closed = np.concatenate([points, points[:1]])
    keep = np.zeros(len(closed), dtype=bool)
    for a, b in zip(anchors, [*anchors[1:], len(ring)], strict=True):
        keep[a + _douglas_peucker(closed[a : b + 1], tolerance)] = True
    simplified = ring[keep[:-1]]
    return simplified if len(simplified) >= 3 else ring


def _douglas_peucker(chain: np.ndarray, tolerance: float) -> np.ndarray:
    """Indices of an open chain's points kept by Douglas-Peucker (ends always kept), with the
    distance to the chord's segment (not its line), so tolerance 0 drops only points on it."""
    keep = np.zeros(len(chain), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(chain) - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        a, b, inner = chain[i], chain[j], chain[i + 1 : j]
        ab = b - a
        span = float(ab @ ab)
        t = np.clip((inner - a) @ ab / span, 0.0, 1.0) if span > 0 else np.zeros(len(inner))
        distance = np.hypot(*(inner - a - t[:, None] * ab).T)
        k = int(np.argmax(distance))
        if distance[k] > tolerance:
            keep[i + 1 + k] = True
            stack += [(i, i + 1 + k), (i + 1 + k, j)]
    return np.flatnonzero(keep)
