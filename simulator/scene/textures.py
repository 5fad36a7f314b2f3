"""Images for surfaces and backgrounds: procedural patterns made with numpy, or photographs.

A `TextureImage` is an (H, W, 3) uint8 sRGB image with a key naming its content, so the engine
uploads each image once. Generators take an rng so every pattern is reproducible.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class TextureImage:
    image: np.ndarray  # (H, W, 3) RGB or (H, W, 4) RGBA, uint8, top row first
    key: str = ""
    source: str = ""  # what made it, for the frame record (a file path or a pattern)

    def __post_init__(self) -> None:
        image = np.ascontiguousarray(self.image, dtype=np.uint8)
        if image.ndim != 3 or image.shape[2] not in (3, 4):
            raise ValueError(f"a texture is an (H, W, 3 or 4) image, got shape {image.shape}")
        object.__setattr__(self, "image", image)
        if not self.key:
            digest = hashlib.blake2b(image.tobytes(), digest_size=12).hexdigest()
            object.__setattr__(self, "key", "texture:" + digest)


def _mix(weight: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Blend colors a and b (sRGB in [0, 1]) by weight in [0, 1] to a uint8 image."""
    rgb = (1 - weight)[..., None] * np.asarray(a) + weight[..., None] * np.asarray(b)
    return np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8)


def checker(a: np.ndarray, b: np.ndarray, squares: int = 8, size: int = 256) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] * squares // size
    return _mix(((x + y) % 2).astype(float), a, b)


def stripes(
    a: np.ndarray, b: np.ndarray, count: int = 8, angle: float = 0.0, size: int = 256
) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / size
    t = np.radians(angle)
    phase = (x * np.cos(t) + y * np.sin(t)) * count
    return _mix((np.floor(phase * 2) % 2).astype(float), a, b)


def gradient(a: np.ndarray, b: np.ndarray, angle: float = 90.0, size: int = 256) -> np.ndarray:
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    t = np.radians(angle)
    along = x * np.cos(t) + y * np.sin(t)
    along = (along - along.min()) / max(float(np.ptp(along)), 1e-9)
    return _mix(along, a, b)


def noise(
    a: np.ndarray,
    b: np.ndarray,
    rng: np.random.Generator,
    scale: int = 8,
    octaves: int = 4,
    size: int = 256,
) -> np.ndarray:
    """Smooth value noise: random grids of rising resolution, bilinearly upsampled, summed."""
    total, weight = np.zeros((size, size)), 0.0
    for octave in range(octaves):
        cells = scale * 2**octave
        grid = rng.random((cells + 1, cells + 1))
        coords = np.linspace(0, cells, size, endpoint=False)
        i, f = coords.astype(int), coords - coords.astype(int)
        rows = grid[i] * (1 - f)[:, None] + grid[i + 1] * f[:, None]
        layer = rows[:, i] * (1 - f)[None, :] + rows[:, i + 1] * f[None, :]
        amplitude = 0.5**octave
        total, weight = total + amplitude * layer, weight + amplitude
    return _mix(total / weight, a, b)


PATTERNS = ("noise", "checker", "stripes", "gradient")


@dataclass
class ImageFolder:
    """The images of a folder (png, jpg), in name order, loaded once each."""

    folder: str
    _paths: list[str] = field(default_factory=list)
    _cache: dict[str, TextureImage] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from pathlib import Path

        paths = sorted(
            p for p in Path(self.folder).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg")
        )
        if not paths:
            raise ValueError(f"no .png or .jpg images in {self.folder}")
        self._paths = [str(p) for p in paths]

    def __len__(self) -> int:
        return len(self._paths)

    def get(self, index: int) -> TextureImage:
        from PIL import Image

        path = self._paths[index]
        if path not in self._cache:
            with Image.open(path) as image:
                self._cache[path] = TextureImage(np.asarray(image.convert("RGB")), source=path)
        return self._cache[path]
