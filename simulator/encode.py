"""Image encodings of the passes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

DEPTH_SCALE = 1000.0  # depth PNGs hold millimetres
DEPTH_MAX = 65535  # the largest depth a 16-bit PNG can hold: 65.535 m


def color_bytes(color: np.ndarray, image_format: str, jpeg_quality: int = 95) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(color, "RGB")
    if image_format == "jpg":
        image.save(buffer, "JPEG", quality=jpeg_quality)
    else:
        image.save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def png16_bytes(values: np.ndarray) -> bytes:
    """A 16-bit grayscale PNG of non-negative integers below 65536."""
    if values.size and int(values.max()) > 65535:
        raise ValueError("values do not fit a 16-bit PNG")
    buffer = io.BytesIO()
    Image.fromarray(values.astype(np.uint16)).save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()


def depth_millimetres(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint16 millimetres; background (0) stays 0, beyond 65.535 m saturates."""
    return np.clip(np.rint(depth * DEPTH_SCALE), 0, DEPTH_MAX).astype(np.uint16)


def read_png16(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image, dtype=np.uint16)


def npy_bytes(values: np.ndarray) -> bytes:
    """float32 .npy (numpy.load reads it)."""
    buffer = io.BytesIO()
    np.save(buffer, values.astype(np.float32), allow_pickle=False)
    return buffer.getvalue()


def normals_png_bytes(normal: np.ndarray) -> bytes:
    """8-bit RGB PNG of unit normals as round((n + 1) / 2 * 255); background (0, 0, 0)."""
    background = ~normal.any(axis=2)
    rgb = np.clip(np.rint((normal + 1.0) * 127.5), 0, 255).astype(np.uint8)
    rgb[background] = 0
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, "PNG", compress_level=1)
    return buffer.getvalue()
