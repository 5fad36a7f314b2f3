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
