"""Real lenses in OpenCV's models: radial-tangential ("radtan", `cv2.projectPoints`'s
k1..k6, p1, p2) and fisheye (Kannala-Brandt, `cv2.fisheye`'s k1..k4).

The engine draws pinhole images only, so a lens frame is drawn wider, undistorted, and then
remapped: every distorted pixel looks up where its ray lands in the pinhole render
(`LensMap`, by inverting the distortion on a coarse grid of pixels and interpolating between,
solving exactly where the interpolation would miss; once per lens and image size;
`simulator.labels.remap` applies it). Points (keypoints, box corners) are distorted
analytically, with OpenCV's formulas. Numpy only (the face loads this module).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np

LensModel = Literal["radtan", "fisheye"]
# OpenCV's order of the distortion vector, per model.
COEFFICIENTS: dict[str, tuple[str, ...]] = {
    "radtan": ("k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6"),
    "fisheye": ("k1", "k2", "k3", "k4"),
}
# The pinhole render may grow to this many times the frame per axis; past that its focal
# length shrinks instead (a very wide lens then samples its periphery more coarsely).
MAX_GROWTH = 3.0
# The render's size grows in steps of this many pixels, so that lenses drawn per frame
# share a few render sizes (and engines) instead of one each.
STEP = 32
# A distorted pixel whose ray, distorted again, misses it by more than this (pixels): the
# lens folds over (its distortion is not monotonic there) and cannot be undone.
ROUND_TRIP = 0.01
NEWTON_STEPS = 12
# A point whose distorted pixel shows a ray this far from its own (render pixels) is not
# seen there: the lens folded it in from outside the view (`LensMap.sees`). Off the fold,
# the map's bilinear interpolation is within a few thousandths of a pixel of the point's ray.
FOLD = 0.5
# The inverse is solved exactly every GRID pixels (and on the last row and column) and
# interpolated between by cubic Lagrange polynomials; a cell whose centre's interpolated ray
# is off the exact one by more than CELL_ERROR (render pixels) is solved exactly, pixel by
# pixel (with its neighbours). The interpolation error peaks at cell centres, so the map stays
# within about twice that of the exact per-pixel solution (tests hold it under 0.01 px).
GRID = 16
CELL_ERROR = 0.002


@dataclass(frozen=True)
class Lens:
    """A lens model and its coefficients in OpenCV's order (`COEFFICIENTS[model]`)."""

    model: LensModel
    coefficients: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.coefficients) != len(COEFFICIENTS[self.model]):
            raise ValueError(
                f"a {self.model} lens has {len(COEFFICIENTS[self.model])} coefficients "
                f"({', '.join(COEFFICIENTS[self.model])}), got {len(self.coefficients)}"
            )

    def record(self) -> dict[str, object]:
        return {"model": self.model, "coefficients": [round(c, 9) for c in self.coefficients]}


def distort(lens: Lens, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalized pinhole coordinates (X/Z, Y/Z) to distorted normalized coordinates."""
    if lens.model == "fisheye":
        k1, k2, k3, k4 = lens.coefficients
        r = np.hypot(x, y)
        theta = np.arctan(r)
        t2 = theta * theta
        theta_d = theta * (1 + t2 * (k1 + t2 * (k2 + t2 * (k3 + t2 * k4))))
        scale = np.divide(theta_d, r, out=np.ones_like(r), where=r > 1e-12)
        return x * scale, y * scale
    k1, k2, p1, p2, k3, k4, k5, k6 = lens.coefficients
    r2 = x * x + y * y
    radial = (1 + r2 * (k1 + r2 * (k2 + r2 * k3))) / (1 + r2 * (k4 + r2 * (k5 + r2 * k6)))
    xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x)
    yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y
    return xd, yd


def project(lens: Lens, K: np.ndarray, points_camera: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camera points (z > 0) to distorted pixel coordinates (OpenCV's: top-left centre 0, 0)."""
    z = points_camera[:, 2]
    xd, yd = distort(lens, points_camera[:, 0] / z, points_camera[:, 1] / z)
    return K[0, 0] * xd + K[0, 2], K[1, 1] * yd + K[1, 2]


def undistort(lens: Lens, xd: np.ndarray, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distorted normalized coordinates back to pinhole ones: Newton's method on `distort`
    (central-difference Jacobian), from the distorted point itself. Where the lens folds over
    or sees past 90 degrees it does not converge: `lens_map` checks the round trip."""
    x, y = xd.copy(), yd.copy()
    for _ in range(NEWTON_STEPS):
        fx, fy = distort(lens, x, y)
        ex, ey = fx - xd, fy - yd
        j11, j12, j21, j22 = jacobian(lens, x, y)
        det = j11 * j22 - j12 * j21
        det = np.where(np.abs(det) < 1e-12, 1e-12, det)
        x, y = x - (j22 * ex - j12 * ey) / det, y - (j11 * ey - j21 * ex) / det
    return x, y


def jacobian(lens: Lens, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """d(xd, yd) / d(x, y) by central differences: (dxd/dx, dxd/dy, dyd/dx, dyd/dy)."""
    h = 1e-6
    ax, ay = distort(lens, x + h, y)
    bx, by = distort(lens, x - h, y)
    cx, cy = distort(lens, x, y + h)
    dx, dy = distort(lens, x, y - h)
    return (ax - bx) / (2 * h), (cx - dx) / (2 * h), (ay - by) / (2 * h), (cy - dy) / (2 * h)


@dataclass(frozen=True)
class LensMap:
    """Where each distorted pixel's ray lands in the pinhole render: `map_x`, `map_y` (H, W)
    float32 pixel coordinates of the render, which is `width` x `height` pixels wide with a
    horizontal field of view of `fov` degrees (square pixels, centred principal point)."""

    width: int
    height: int
    focal: float
    map_x: np.ndarray
    map_y: np.ndarray

    def fov(self) -> float:
        return float(np.degrees(2 * np.arctan(self.width / 2 / self.focal)))

    def rays(self) -> tuple[np.ndarray, np.ndarray]:
        """Each distorted pixel's pinhole ray, normalized (x, y: (H, W) float32; z is 1): the
        render position it looks up, back through the render's intrinsics."""
        focal = np.float32(self.focal)
        x = (self.map_x - np.float32((self.width - 1) / 2)) / focal
        y = (self.map_y - np.float32((self.height - 1) / 2)) / focal
        return x, y

    def sees(self, u: np.ndarray, v: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Whether the distorted image at (u, v) (pixel coordinates, inside the image) shows
        the pinhole ray (x, y), the ray distorted there: the map, bilinear between the four
        pixels around (u, v) (linear past the outer pixel centres), lands within FOLD render
        pixels of it. A ray the lens distorts into the image past its fold, from outside the
        view the frame covers, lands on a pixel that shows another ray: False there."""
        height, width = self.map_x.shape
        u0 = np.clip(np.floor(u), 0, max(width - 2, 0)).astype(np.intp)
        v0 = np.clip(np.floor(v), 0, max(height - 2, 0)).astype(np.intp)
        u1, v1 = np.minimum(u0 + 1, width - 1), np.minimum(v0 + 1, height - 1)
        a, b = u - u0, v - v0

        def at(grid: np.ndarray) -> np.ndarray:
            top = grid[v0, u0] * (1 - a) + grid[v0, u1] * a
            return top * (1 - b) + (grid[v1, u0] * (1 - a) + grid[v1, u1] * a) * b

        ray_u = x * self.focal + (self.width - 1) / 2
        ray_v = y * self.focal + (self.height - 1) / 2
        return np.hypot(at(self.map_x) - ray_u, at(self.map_y) - ray_v) <= FOLD


def _grown(size: int, extent: float, focal: float) -> int:
    """The smallest render size, `size` plus a multiple of STEP, whose centred pixel grid
    reaches `extent` (normalized) at `focal`: its edge pixel centre at least that far out
    (to a thousandth of a pixel)."""
    needed = 2 * extent * focal + 1 - 1e-3  # the map is float32: 1e-4 px of rounding
    return size + STEP * max(0, int(np.ceil((needed - size) / STEP)))


@lru_cache(maxsize=16)
def _map(lens: Lens, K: tuple[float, ...], width: int, height: int) -> LensMap:
    camera = np.asarray(K, dtype=np.float64).reshape(3, 3)
    x, y = _inverse(lens, camera, width, height)
    focal = float(camera[0, 0])
    ex, ey = float(np.abs(x).max()), float(np.abs(y).max())
    most = (MAX_GROWTH * width - 1) / 2 / ex, (MAX_GROWTH * height - 1) / 2 / ey
    focal = min(focal, *most)
    render_w, render_h = _grown(width, ex, focal), _grown(height, ey, focal)
    map_x = (x * focal + (render_w - 1) / 2).astype(np.float32)
    map_y = (y * focal + (render_h - 1) / 2).astype(np.float32)
    return LensMap(render_w, render_h, focal, map_x, map_y)


def _inverse(lens: Lens, camera: np.ndarray, width: int, height: int) -> tuple[np.ndarray, ...]:
    """Each pixel's pinhole ray (x, y: (H, W) normalized): solved on the grid and at the
    cells' centres, interpolated, and solved exactly in the cells the centres find wrong."""
    columns, rows = _nodes(width), _nodes(height)
    cu, cv = (columns[1:] + columns[:-1]) / 2, (rows[1:] + rows[:-1]) / 2
    (gu, gv), (mu, mv) = np.meshgrid(columns, rows), np.meshgrid(cu, cv)
    # grid and centres in one solve: on a few thousand points each numpy call's overhead counts
    x, y = _solve(lens, camera, np.append(gu, mu), np.append(gv, mv))
    gx, gy = x[: gu.size].reshape(gu.shape), y[: gu.size].reshape(gu.shape)
    mx, my = x[gu.size :].reshape(mu.shape), y[gu.size :].reshape(mu.shape)
    along_u, along_v = _weights(columns, np.arange(width)), _weights(rows, np.arange(height))
    x, y = (_interpolate(g, along_v, along_u) for g in (gx, gy))
    centre_u, centre_v = _weights(columns, cu), _weights(rows, cv)
    ix, iy = (_interpolate(g, centre_v, centre_u) for g in (gx, gy))
    error = np.hypot(ix - mx, iy - my) * camera[0, 0]
    bad = error > CELL_ERROR
    if bad.any():  # each bad cell and its neighbours, every pixel exactly
        bad[:-1] |= bad[1:].copy()
        bad[1:] |= bad[:-1].copy()
        bad[:, :-1] |= bad[:, 1:].copy()
        bad[:, 1:] |= bad[:, :-1].copy()
        cell_v = np.clip(np.searchsorted(rows, np.arange(height), "right") - 1, 0, len(cv) - 1)
        cell_u = np.clip(np.searchsorted(columns, np.arange(width), "right") - 1, 0, len(cu) - 1)
        v, u = np.nonzero(bad[cell_v[:, None], cell_u[None, :]])
        x[v, u], y[v, u] = _solve(lens, camera, u.astype(np.float64), v.astype(np.float64))
    return x, y


def _nodes(size: int) -> np.ndarray:
    """The grid's pixel positions along an axis: every GRID pixels and the last one."""
    return np.unique(np.append(np.arange(0, size, GRID), size - 1)).astype(np.float64)


Weights = tuple[np.ndarray, np.ndarray]


def _weights(nodes: np.ndarray, at: np.ndarray) -> Weights:
    """Cubic Lagrange interpolation at `at` from the four nodes around each (fewer where the
    axis has fewer): their indices and weights, both (len(at), 4); exact at the nodes."""
    count = min(4, len(nodes))
    cell = np.clip(np.searchsorted(nodes, at, "right") - 1, 0, len(nodes) - 1)
    first = np.clip(cell - (count - 1) // 2, 0, len(nodes) - count)
    index = first[:, None] + np.arange(count)
    near = nodes[index]
    weights = np.ones(index.shape)
    for a in range(count):
        for b in range(count):
            if a != b:
                weights[:, a] *= (at - near[:, b]) / (near[:, a] - near[:, b])
    return index, weights


def _interpolate(grid: np.ndarray, rows: Weights, columns: Weights) -> np.ndarray:
    """Values on the grid (rows x columns of nodes) interpolated, one axis at a time (no
    BLAS: the same bits on every machine and thread count)."""
    (ci, cw), (ri, rw) = columns, rows
    across = (grid[:, ci] * cw).sum(axis=2).astype(np.float32)  # 1e-4 px: memory is the cost
    rw = rw.astype(np.float32)
    out = across[ri[:, 0]] * rw[:, :1]
    for k in range(1, ri.shape[1]):
        out += across[ri[:, k]] * rw[:, k : k + 1]
    return out


def _solve(lens: Lens, camera: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """The pinhole rays of distorted pixels (u, v) exactly (Newton's method), checked: every
    ray distorted again must land on its pixel, where the image does not flip."""
    x, y = undistort(lens, (u - camera[0, 2]) / camera[0, 0], (v - camera[1, 2]) / camera[1, 1])
    du, dv = project(lens, camera, np.column_stack([x.ravel(), y.ravel(), np.ones(x.size)]))
    miss = np.nan_to_num(np.hypot(du - u.ravel(), dv - v.ravel()), nan=np.inf).max(initial=0)
    j11, j12, j21, j22 = jacobian(lens, x, y)
    if not (j11 * j22 - j12 * j21 > 0).all():  # a root past the fold, where the image flips
        miss = np.inf
    if not miss <= ROUND_TRIP:
        raise ValueError(
            f"the {lens.model} lens {lens.coefficients} cannot be undone inside the image "
            f"(a ray misses its pixel by {miss:.3g} px: the distortion folds over, or the lens "
            "sees 90 degrees or more off its axis, which no pinhole render covers): use "
            "smaller coefficients or a narrower fov"
        )
    return x, y


def lens_map(lens: Lens, K: np.ndarray, width: int, height: int) -> LensMap:
    """The remap from the pinhole render to the distorted frame (cached per lens and camera)."""
    return _map(lens, tuple(float(v) for v in np.asarray(K).ravel()), width, height)
