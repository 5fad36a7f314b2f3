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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True, eq=False)
class Environment:
    image: np.ndarray  # (H, 2H, 3) float32 linear radiance, top row first
    key: str = ""  # names the image's content (caches); derived from it when empty
    source: str = ""  # what made it, for the frame record (a file path, "sky:...")
    rotation: float = 0.0  # degrees, counter-clockwise about +Z
    intensity: float = 1.0

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
        return {
            "source": self.source or self.key,
            "rotation": round(float(self.rotation), 6),
            "intensity": round(float(self.intensity), 6),
        }


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
