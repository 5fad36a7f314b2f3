"""Tileable building blocks of the procedural material library, numpy only.

Everything here is periodic over the image (value noise on a wrapping lattice, stripes with a
whole number of periods, finite differences that wrap), so a material tiles without a seam
when a mesh's texture coordinates run past 1. Fields are float arrays of shape (size, size),
top row first, with values in [0, 1] unless said otherwise; colours are linear RGB.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _axis(cells: int, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lattice indices either side of each pixel along one axis, wrapping, and the smoothstep
    weight between them (smoothstep hides the lattice's straight lines)."""
    t = np.arange(size, dtype=np.float32) * np.float32(cells / size)
    low = t.astype(int)
    f = t - low
    return low % cells, (low + 1) % cells, f * f * (3 - 2 * f)


def _lattice(grid: np.ndarray, size: int) -> np.ndarray:
    """A (rows, cols) grid of random values interpolated to (size, size), periodic."""
    i0, i1, fy = _axis(grid.shape[0], size)
    j0, j1, fx = _axis(grid.shape[1], size)
    rows = grid[i0] * (1 - fy)[:, None] + grid[i1] * fy[:, None]
    return rows[:, j0] * (1 - fx) + rows[:, j1] * fx


def value_noise(
    rng: np.random.Generator,
    size: int,
    cells: int | tuple[int, int],
    octaves: int = 4,
    gain: float = 0.5,
) -> np.ndarray:
    """Fractal value noise in [0, 1]: `cells` lattice cells across (or (rows, cols), for
    streaks: few cells along a direction stretch the noise along it), doubled per octave,
    each octave `gain` times as strong. Tiles, since the lattice wraps."""
    rows, cols = (cells, cells) if isinstance(cells, int) else cells
    total, norm, amplitude = np.zeros((size, size), np.float32), 0.0, 1.0
    for _ in range(octaves):
        rows, cols = max(1, min(rows, size)), max(1, min(cols, size))
        total += np.float32(amplitude) * _lattice(rng.random((rows, cols), np.float32), size)
        norm += amplitude
        amplitude *= gain
        rows, cols = rows * 2, cols * 2
    return total / np.float32(norm)


def stretch(field: np.ndarray) -> np.ndarray:
    """The field rescaled to span [0, 1] exactly (noise sums bunch up around 0.5)."""
    low, span = field.min(), float(np.ptp(field))
    return (field - low) / span if span > 0 else np.zeros_like(field)


def coverage(field: np.ndarray, fraction: float) -> np.ndarray:
    """The mask of the field's highest `fraction` of pixels: patches of an exact share."""
    threshold = np.quantile(field, 1.0 - fraction)
    return field > threshold


def mix(weight: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Colours a and b (linear RGB) blended per pixel by weight in [0, 1] to (H, W, 3)."""
    w = np.asarray(weight, dtype=np.float32)[..., None]
    a32, b32 = np.asarray(a, dtype=np.float32), np.asarray(b, dtype=np.float32)
    return a32 + w * (b32 - a32)


def normal_map(height: np.ndarray, depth: float) -> np.ndarray:
    """Tangent-space normals (uint8, glTF/OpenGL: +X right, +Y up the image, +Z out of the
    surface) of a height field in [0, 1] whose full range is `depth` texels deep.

    Central differences that wrap, so the map tiles as the height does. A flat height gives
    exactly (128, 128, 255)."""
    h = height.astype(np.float32) * np.float32(depth)
    slope_x = (np.roll(h, -1, axis=1) - np.roll(h, 1, axis=1)) * 0.5
    slope_up = (np.roll(h, 1, axis=0) - np.roll(h, -1, axis=0)) * 0.5  # row above minus below
    n = np.stack([-slope_x, -slope_up, np.ones_like(h)], axis=-1)
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    return np.rint((n * 0.5 + 0.5) * 255).astype(np.uint8)


def to_linear(srgb: tuple[float, ...] | np.ndarray) -> np.ndarray:
    """sRGB-encoded colour(s) in [0, 1] to linear light (IEC 61966-2-1)."""
    c = np.clip(np.asarray(srgb, dtype=float), 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear(srgb: Sequence[float] | np.ndarray) -> list[float]:
    """`to_linear` as plain floats: what shader inputs, Blender node values and glTF factors
    take. The one decoding of sRGB colours for every renderer and the export."""
    return to_linear(np.asarray(srgb, dtype=float)).tolist()  # type: ignore[no-any-return]


def _srgb_table(steps: int = 16384) -> np.ndarray:
    """The sRGB encoding of `steps` evenly spaced linear values, as uint8: a lookup is ten
    times faster than the power law per texel, and within a level of it."""
    c = np.linspace(0.0, 1.0, steps)
    srgb = np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)
    return np.rint(srgb * 255).astype(np.uint8)


_SRGB = _srgb_table()


def to_srgb8(linear: np.ndarray) -> np.ndarray:
    """Linear RGB in [0, 1] to an sRGB-encoded uint8 image (the base-colour texture's space)."""
    index = np.rint(np.clip(linear, 0.0, 1.0) * (len(_SRGB) - 1)).astype(np.intp)
    return _SRGB[index]


def to_unorm8(field: np.ndarray) -> np.ndarray:
    """Linear data in [0, 1] (roughness, metallic, occlusion) to uint8."""
    return np.rint(np.clip(field, 0.0, 1.0) * 255).astype(np.uint8)


def grain(rng: np.random.Generator, size: int, rings: int, warp: float) -> np.ndarray:
    """Wood's growth rings as a flat-sawn board shows them: wavy bands along x, `rings` of
    them down the image, each rising slowly (earlywood) to a sharp dark edge (latewood, 1)."""
    y = np.arange(size)[:, None] / size
    bend = value_noise(rng, size, (2, 3), octaves=3) - 0.5
    phase = y * rings + warp * bend * rings / 4
    ring = np.modf(phase)[0]
    return ring * ring * ring


def cells(size: int, count: int, gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows cut into `count` cells (planks, tile rows), each starting with a `gap` (seam,
    grout; the first at row 0, so the cut tiles). Returns each row's cell index and its
    distance in texels from the nearest gap: 0 in a gap, 1 on a cell's edge rows."""
    starts = np.rint(np.arange(count + 1) * size / count).astype(int)
    rows = np.arange(size)
    index = np.searchsorted(starts, rows, side="right") - 1
    position, length = rows - starts[index], starts[index + 1] - starts[index]
    return index, np.maximum(np.minimum(position - gap + 1, length - position), 0)


def weave(size: int, threads: int, twill: bool) -> tuple[np.ndarray, np.ndarray]:
    """A woven cloth's relief and which thread is on top: warp threads run down the image,
    weft threads across, `threads` of each; plain weave alternates every crossing, a 2/2
    twill steps diagonally. `threads` is rounded up to a multiple of 4, so the pattern tiles.
    Returns (height in [0, 1], warp-on-top mask)."""
    threads = -(-threads // 4) * 4
    i, f = np.divmod(np.arange(size) * threads / size, 1.0)
    profile = np.sin(np.pi * f)  # a thread's round cross-section
    turn = i[:, None] + i[None, :]
    warp_on_top = (turn % 4 < 2) if twill else (turn % 2 == 0)
    height = np.where(warp_on_top, profile[None, :], profile[:, None])
    return height, warp_on_top
