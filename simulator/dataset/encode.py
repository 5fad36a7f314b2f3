"""Image encodings of the passes.

The PNGs are written here rather than by Pillow: every scanline gets PNG filter type 2 (Up,
each byte minus the byte above it), computed in one vectorised numpy pass, and the filtered
bytes are deflated by zlib at level 1. Pillow instead tries all five filters on every row to
pick one (its adaptive choice), which costs more than the deflate itself; the label images
(flat id regions, smooth depth) compress as well or better with Up alone, so the files are no
larger and take a third to a half of the time. The bytes depend only on the input array (and the
zlib build), so encoding is deterministic.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import numpy as np
from PIL import Image

DEPTH_SCALE = 1000.0  # depth PNGs hold millimetres
DEPTH_MAX = 65535  # the largest depth a 16-bit PNG can hold: 65.535 m

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_FILTER_UP = 2
_PNG_GRAY = 0  # IHDR colour types
_PNG_RGB = 2
_ZLIB_LEVEL = 1


def color_bytes(color: np.ndarray, image_format: str, jpeg_quality: int = 95) -> bytes:
    """An (H, W, 3) uint8 RGB image as "jpg" (at `jpeg_quality`) or "png" file bytes: how
    every image of a dataset is written (public as `simulator.encode_image`)."""
    if image_format == "jpg":
        buffer = io.BytesIO()
        Image.fromarray(color, "RGB").save(buffer, "JPEG", quality=jpeg_quality)
        return buffer.getvalue()
    return _png_rgb8(color)


def png16_bytes(values: np.ndarray) -> bytes:
    """A 16-bit grayscale PNG of non-negative integers below 65536."""
    if values.size and int(values.max()) > 65535:
        raise ValueError("values do not fit a 16-bit PNG")
    if values.ndim != 2:
        raise ValueError(f"a 16-bit PNG needs a 2-D array, not shape {values.shape}")
    # PNG stores 16-bit samples big-endian; the filter works on those bytes.
    rows = values.astype(">u2", order="C").view(np.uint8)
    return _png(rows, values.shape[1], bit_depth=16, color_type=_PNG_GRAY)


def png8_bytes(values: np.ndarray) -> bytes:
    """An 8-bit grayscale PNG of a (H, W) uint8 array."""
    if values.ndim != 2 or values.dtype != np.uint8:
        raise ValueError(f"an 8-bit PNG needs (H, W) uint8, not {values.dtype} {values.shape}")
    return _png(values, values.shape[1], bit_depth=8, color_type=_PNG_GRAY)


KITTI_SCALE = 64.0  # KITTI flow PNGs: value = flow x 64 + 2**15
KITTI_ZERO = 2**15


def kitti_flow_bytes(vectors: np.ndarray, valid: np.ndarray) -> bytes:
    """KITTI's optical flow PNG: 16-bit RGB, R and G the flow's u and v as
    flow x 64 + 2**15 (rounded, clipped to 16 bits), B 1 where the flow is valid, else all 0."""
    encoded = np.rint(vectors.astype(np.float64) * KITTI_SCALE + KITTI_ZERO)
    rgb = np.zeros((*valid.shape, 3), np.uint16)
    rgb[..., :2] = np.clip(encoded, 0, 65535).astype(np.uint16)
    rgb[..., 2] = valid
    rgb[~valid.astype(bool)] = 0
    rows = rgb.astype(">u2", order="C").view(np.uint8)
    return _png(rows, rgb.shape[1], bit_depth=16, color_type=_PNG_RGB)


def depth_millimetres(depth: np.ndarray) -> np.ndarray:
    """Metres -> uint16 millimetres; background (0) stays 0, beyond 65.535 m saturates.

    Rounds half to even (np.rint), in the input's float precision."""
    millimetres = np.multiply(depth, DEPTH_SCALE)
    np.rint(millimetres, out=millimetres)
    np.clip(millimetres, 0, DEPTH_MAX, out=millimetres)
    return millimetres.astype(np.uint16)


def read_png16(path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image, dtype=np.uint16)


def npy_bytes(values: np.ndarray) -> bytes:
    """float32 .npy (numpy.load reads it)."""
    buffer = io.BytesIO()
    np.save(buffer, values.astype(np.float32), allow_pickle=False)
    return buffer.getvalue()


# A fixed timestamp for the members of an .npz (numpy.savez stamps the time of writing, so
# the same arrays would give other bytes on every run): zip's earliest date.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An uncompressed .npz of named arrays (numpy.load reads it), each kept in its dtype;
    the bytes depend only on the arrays and their order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, values in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(values), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(name + ".npy", _ZIP_TIME), member.getvalue())
    return buffer.getvalue()


def normals_png_bytes(normal: np.ndarray) -> bytes:
    """8-bit RGB PNG of unit normals as round((n + 1) / 2 * 255); background (0, 0, 0)."""
    # A pixel is background when all three components are 0 (NaN counts as set, -0.0 as zero,
    # as in normal.any(axis=2), which is several times slower: a reduction over a 3-long axis).
    nonzero = (normal != 0).view(np.uint8)
    foreground = nonzero[..., 0] | nonzero[..., 1] | nonzero[..., 2]
    # (n + 1) * 127.5, rounded and clipped in place: the same float ops in the same precision
    # as the one-line expression, without its extra full-size temporaries.
    scaled = np.add(normal, 1.0)
    scaled *= 127.5
    np.rint(scaled, out=scaled)
    np.clip(scaled, 0, 255, out=scaled)
    rgb = scaled.astype(np.uint8)
    rgb *= np.repeat(foreground, 3).reshape(rgb.shape)  # a contiguous mask multiplies fastest
    return _png_rgb8(rgb)


def _png_rgb8(rgb: np.ndarray) -> bytes:
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"an RGB PNG needs an (H, W, 3) uint8 array, not {rgb.dtype} {rgb.shape}")
    return _png(rgb, rgb.shape[1], bit_depth=8, color_type=_PNG_RGB)


def _png(pixels: np.ndarray, width: int, bit_depth: int, color_type: int) -> bytes:
    """A PNG of `pixels`, uint8 whose first axis is the rows (top first) and whose remaining
    axes hold each row's sample bytes in PNG order."""
    height = pixels.shape[0]
    if height == 0 or width == 0:
        raise ValueError("cannot write empty image")
    rows = pixels.reshape(height, -1)
    scanlines = np.empty((height, 1 + rows.shape[1]), np.uint8)
    scanlines[:, 0] = _PNG_FILTER_UP
    scanlines[0, 1:] = rows[0]  # the row above the first counts as zeros
    np.subtract(rows[1:], rows[:-1], out=scanlines[1:, 1:])  # uint8: modulo 256, as PNG
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"".join(
        (
            _PNG_SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(scanlines.data, _ZLIB_LEVEL)),
            _chunk(b"IEND", b""),
        )
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return b"".join((struct.pack(">I", len(data)), kind, data, struct.pack(">I", crc)))
