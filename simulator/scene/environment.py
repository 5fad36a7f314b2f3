"""Environments: the light that reaches the scene from every direction, as an HDR
equirectangular image, renderer-free.

One convention for every source (HDR files, the procedural sky, studios) and every renderer
(the Panda3D engine's image-based light, Blender Cycles' environment texture): Blender's, so
that the same image lines up in both without a rotation.

- `image` is (H, 2H, 3) float32, linear RGB radiance, >= 0, top row first.
- World axes: +Z up. A pixel's centre (row r, column c), with u = (c + 0.5) / W and
  v = (r + 0.5) / H, looks along azimuth phi = 2 pi (0.5 - u) (counter-clockwise from +X
  about +Z) at elevation theta = pi (0.5 - v): the image's centre column looks along +X, its
  top row at the zenith.
- `rotation` turns the environment counter-clockwise about +Z (degrees); `intensity`
  multiplies its radiance. Both are cheap per-frame changes: the image (and whatever a
  renderer precomputes from it, keyed by `key`) stays the same.
- A mix (`Environment.mix`) is a weighted sum of other environments' images, sum w_i L_i: a
  crossfade between two HDR maps, or a sky between the grid's precomputed skies. Its image is
  that sum, so whatever only reads `image` (Cycles, the glTF export, `radiance`) sees it as
  any other; and since everything a renderer precomputes from an image is linear in its
  radiance (image-based light: engine/ibl.py), a renderer makes a mix's maps as the same
  weighted sum of its parts' cached maps, with no new precomputation (`parts` says what they
  are).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True, eq=False)
class Environment:
    image: np.ndarray  # (H, 2H, 3) float32 linear radiance, top row first
    key: str = ""  # names the image's content (caches); derived from it when empty
    source: str = ""  # what made it, for the frame record (a file path, "sky:...")
    rotation: float = 0.0  # degrees, counter-clockwise about +Z
    intensity: float = 1.0
    # a mix's parts: (environment, weight on its image), sorted by key; () if not a mix
    parts: tuple[tuple[Environment, float], ...] = ()

    def __post_init__(self) -> None:
        image = np.ascontiguousarray(self.image, dtype=np.float32)
        if image.ndim != 3 or image.shape[2] != 3 or image.shape[1] != 2 * image.shape[0]:
            raise ValueError(
                f"an environment is an (H, 2H, 3) equirectangular image, got {image.shape}"
            )
        if not np.all(np.isfinite(image)) or image.min() < 0:
            raise ValueError("an environment's radiance must be finite and not negative")
        object.__setattr__(self, "image", image)
        if not self.key:
            digest = hashlib.blake2b(image.tobytes(), digest_size=12).hexdigest()
            object.__setattr__(self, "key", "environment:" + digest)

    @classmethod
    def mix(cls, parts: Iterable[tuple[Environment, float]], source: str = "") -> Environment:
        """The weighted sum of `parts`' radiance, sum w_i L_i, unturned at intensity 1.

        A part's intensity is folded into its weight and a mix's parts into the mix (so parts
        are plain images); parts of one key add up and parts of weight 0 drop out; what is
        left is summed in key order (in float64), so a mix's bytes do not depend on the order
        its parts were listed in.
        One part left of weight 1 is that part itself, unchanged: a mix at a grid node is the
        node. Parts must be unturned (turn the mix instead: a turn of an image by any angle
        is no image of the same pixels) and of one size (a renderer blends their maps pixel
        by pixel)."""
        summed: dict[str, tuple[Environment, float]] = {}
        for part, weight in _flat(parts):
            summed[part.key] = (part, summed.get(part.key, (part, 0.0))[1] + weight)
        kept = [summed[key] for key in sorted(summed) if summed[key][1] > 0.0]
        if not kept:
            raise ValueError("a mix needs at least one part of positive weight")
        shapes = sorted({part.image.shape for part, _ in kept})
        if len(shapes) > 1:
            raise ValueError(f"a mix's parts must have images of one size, got {shapes}")
        first, weight = kept[0]
        if len(kept) == 1 and weight == 1.0 and first.intensity == 1.0 and not source:
            return first
        image = np.zeros(first.image.shape)
        for part, weight in kept:
            image += part.image.astype(np.float64) * weight
        key = "mix(" + " + ".join(f"{weight!r} {part.key}" for part, weight in kept) + ")"
        return cls(image.astype(np.float32), key=key, source=source, parts=tuple(kept))

    def turned(self, rotation: float, intensity: float | None = None) -> Environment:
        """The same image turned by `rotation` degrees (and at `intensity`, if given)."""
        return replace(
            self,
            rotation=float(rotation),
            intensity=self.intensity if intensity is None else float(intensity),
        )

    def radiance(self, directions: np.ndarray) -> np.ndarray:
        """Radiance arriving from world `directions` (..., 3) (any length), with rotation and
        intensity applied: bilinear between pixel centres, wrapping around in azimuth."""
        d = np.asarray(directions, float)
        local = _turn(d, -self.rotation)
        u, v = direction_to_uv(local)
        h, w = self.image.shape[:2]
        x, y = u * w - 0.5, np.clip(v * h - 0.5, 0.0, h - 1.0)
        x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
        fx, fy = (x - x0)[..., None], (y - y0)[..., None]
        y1 = np.minimum(y0 + 1, h - 1)
        x0, x1 = x0 % w, (x0 + 1) % w
        image = self.image
        top = image[y0, x0] * (1 - fx) + image[y0, x1] * fx
        bottom = image[y1, x0] * (1 - fx) + image[y1, x1] * fx
        return (top * (1 - fy) + bottom * fy) * self.intensity

    def record(self) -> dict[str, object]:
        parts = [
            {"source": part.source or part.key, "weight": round(weight, 6)}
            for part, weight in self.parts
        ]
        return {
            "source": self.source or ("mix" if parts else self.key),
            **({"parts": parts} if parts else {}),
            "rotation": round(float(self.rotation), 6),
            "intensity": round(float(self.intensity), 6),
        }


def _flat(parts: Iterable[tuple[Environment, float]]) -> Iterable[tuple[Environment, float]]:
    """(plain environment, weight on its image): mixes opened, intensities folded into the
    weights; turned parts and bad weights refused."""
    for part, weight in parts:
        weight = float(weight)
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"a mix's weights must be finite and not negative, got {weight}")
        if part.rotation:
            raise ValueError(
                f"a mix's parts must be unturned (turn the mix instead): {part.key} is "
                f"turned by {part.rotation:g} degrees"
            )
        if part.parts:
            yield from ((p, weight * part.intensity * w) for p, w in part.parts)
        else:
            yield part, weight * part.intensity


def pixel_directions(height: int) -> np.ndarray:
    """World directions (height, 2 height, 3) through the pixel centres of an unturned
    environment image of that height."""
    v = (np.arange(height) + 0.5) / height
    u = (np.arange(2 * height) + 0.5) / (2 * height)
    return uv_to_direction(u[None, :], v[:, None])


def uv_to_direction(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    phi, theta = 2 * np.pi * (0.5 - np.asarray(u)), np.pi * (0.5 - np.asarray(v))
    phi, theta = np.broadcast_arrays(phi, theta)
    return np.stack(
        [np.cos(theta) * np.cos(phi), np.cos(theta) * np.sin(phi), np.sin(theta)], axis=-1
    )


def direction_to_uv(directions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u, v) in [0, 1] of world directions (any length), u wrapping at the back (-X)."""
    d = np.asarray(directions, float)
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    u = 0.5 - np.arctan2(y, x) / (2 * np.pi)
    v = 0.5 - np.arctan2(z, np.hypot(x, y)) / np.pi
    return u % 1.0, v


def solid_angles(height: int) -> np.ndarray:
    """The solid angle (height, 1) each pixel of a row covers (the same along a row); they
    sum to 4 pi over the image."""
    edges = np.pi * (0.5 - np.arange(height + 1) / height)  # elevation of row edges
    band = np.sin(edges[:-1]) - np.sin(edges[1:])  # integral of cos(theta) d theta
    return (band * (2 * np.pi / (2 * height)))[:, None]


def _turn(d: np.ndarray, degrees: float) -> np.ndarray:
    if not degrees:
        return d
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    x, y = d[..., 0], d[..., 1]
    return np.stack([c * x - s * y, s * x + c * y, d[..., 2]], axis=-1)
