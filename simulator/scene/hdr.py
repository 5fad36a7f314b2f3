"""HDR environment maps read from files: Radiance `.hdr` (through OpenCV) and OpenEXR `.exr`
(through the official OpenEXR bindings), equirectangular, into an `Environment`.

sim writes no image parser: OpenCV decodes RGBE, OpenEXR decodes half and float channels.
Renderers need no 8k map (the prefiltered light is 128 pixels high, a background a few
hundred), so `read_environment` can shrink a map on the way in, by area averaging: each
output pixel is the mean radiance over its solid angle, so the light a map sheds is kept.
Anything wrong with a file is one `WorldError` naming it, what is wrong and the fix.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import cv2
import numpy as np
import OpenEXR

from simulator.errors import WorldError
from simulator.scene.environment import Environment, solid_angles

SUFFIXES = (".hdr", ".exr")
_RESOLUTION = re.compile(r"^(?P<name>.+)_(?P<k>\d+)k$", re.IGNORECASE)  # Poly Haven's "_2k"


def read_environment(path: str | Path, height: int | None = None) -> Environment:
    """The map at `path` as an environment, shrunk to `height` rows (twice as many columns)
    when given and smaller than the file's. Read once per file content (path, modification
    time, size) and height; the environment's key is derived from its pixels."""
    file = Path(path).resolve()
    if file.suffix.lower() not in SUFFIXES:
        raise WorldError(
            f"unknown environment map extension {file.suffix!r}",
            file=file,
            hint="expected a Radiance .hdr or an OpenEXR .exr file",
        )
    if height is not None and (type(height) is not int or height < 1):
        raise WorldError(f"height {height!r} is not a positive whole number of rows", file=file)
    try:
        stat = file.stat()
    except OSError:
        raise WorldError("environment map not found", file=file) from None
    return _read(str(file), stat.st_mtime_ns, stat.st_size, height)


def environment_files(folder: str | Path) -> list[Path]:
    """The HDR maps (.hdr, .exr) in `folder` and its sub-folders one level down, sorted, so
    that a Poly Haven download works as it is (`name_2k.hdr`, `name_4k.exr`, or
    `name/name_2k.hdr`). Where one map is there at several resolutions (the `_<n>k` tag, of
    either format), the smallest of at least 1k is kept: enough for the prefiltered light
    and a background, and the quickest to read; at equal resolution the .hdr, and an untagged
    file only when no tagged one of that name is there. Hidden files are skipped."""
    root = Path(folder)
    if not root.is_dir():
        raise WorldError("environment folder not found", file=root, hint="name a folder of maps")
    found = [
        p
        for p in [*root.iterdir(), *(q for d in root.iterdir() if d.is_dir() for q in d.iterdir())]
        if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
    ]
    if not found:
        raise WorldError(
            "no environment maps in this folder",
            file=root,
            hint="put equirectangular .hdr or .exr files in it, or in its sub-folders",
        )
    maps: dict[str, list[Path]] = {}
    for p in found:
        maps.setdefault(map_name(p), []).append(p)
    return sorted(min(versions, key=_preference) for versions in maps.values())


def map_name(path: Path) -> str:
    """A map's name in its folder: its file name without the extension and Poly Haven's
    resolution tag, lower case (`Sunset_2k.hdr` and `sunset/sunset_4k.exr` are "sunset")."""
    match = _RESOLUTION.match(path.stem)
    return (match["name"] if match else path.stem).lower()


def _preference(path: Path) -> tuple[bool, int, bool, str]:
    """Sorts first the version to keep: tagged at least 1k, smallest, .hdr, then by name."""
    match = _RESOLUTION.match(path.stem)
    k = int(match["k"]) if match else 0
    return (k < 1, k, path.suffix.lower() != ".hdr", str(path))


def resample(image: np.ndarray, height: int) -> np.ndarray:
    """An equirectangular image (h, 2h, 3) at (height, 2 height, 3) by exact area averaging:
    each row weighted by the solid angle it covers, so the integral of radiance over the
    sphere is kept. Exact 2x box steps first (cheap, float32), then one resize through
    cumulative integrals (either way, up or down)."""
    image = np.asarray(image, np.float32)
    while image.shape[0] >= 2 * height and image.shape[0] % 2 == 0:
        w = solid_angles(image.shape[0]).astype(np.float32)[:, :, None]
        rows = (image[0::2] * w[0::2] + image[1::2] * w[1::2]) / (w[0::2] + w[1::2])
        image = (rows[:, 0::2] + rows[:, 1::2]) * np.float32(0.5)
    if image.shape[0] != height:
        image = _area(image, _row_edges(image.shape[0]), _row_edges(height), axis=0)
        image = _area(image, _column_edges(image.shape[1]), _column_edges(2 * height), axis=1)
    return np.ascontiguousarray(image, np.float32)


def _row_edges(height: int) -> np.ndarray:
    """Row edges as the fraction of the sphere's solid angle above them (0 at the zenith)."""
    return (1 - np.sin(np.pi * (0.5 - np.arange(height + 1) / height))) / 2


def _column_edges(width: int) -> np.ndarray:
    return np.arange(width + 1) / width


def _area(image: np.ndarray, src: np.ndarray, dst: np.ndarray, axis: int) -> np.ndarray:
    """Mean of a piecewise-constant image over each [dst[k], dst[k+1]) along `axis`, given
    its cells' edges `src` (both increasing, same span): differences of its integral."""
    values = np.moveaxis(image, axis, 0).astype(np.float64)
    steps = np.cumsum(values * np.diff(src)[:, None, None], axis=0)
    integral = np.concatenate([np.zeros_like(values[:1]), steps])
    cell = np.clip(np.searchsorted(src, dst, side="right") - 1, 0, len(values) - 1)
    at = integral[cell] + values[cell] * (dst - src[cell])[:, None, None]
    out = (at[1:] - at[:-1]) / np.diff(dst)[:, None, None]
    return np.moveaxis(out, 0, axis).astype(np.float32)


@functools.lru_cache(maxsize=8)
def _read(path: str, mtime_ns: int, size: int, height: int | None) -> Environment:
    image = _read_exr(path) if path.lower().endswith(".exr") else _read_hdr(path)
    _check(image, path)
    if height is not None and height < image.shape[0]:
        image = resample(image, height)
    env = Environment(image, source=path)
    env.image.flags.writeable = False  # one read shared by every caller
    return env


def _read_hdr(path: str) -> np.ndarray:
    # OpenCV before 4.12 (the one numpy < 2 gets, as Blender's bpy needs) has no logging
    # module: its reader says nothing on a bad file there anyway.
    logging = getattr(cv2.utils, "logging", None)
    level = logging.getLogLevel() if logging is not None else None
    if logging is not None:
        logging.setLogLevel(logging.LOG_LEVEL_SILENT)  # our message instead
    try:
        bgr = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    finally:
        if logging is not None:
            logging.setLogLevel(level)
    if bgr is None:
        raise WorldError(
            "cannot read this Radiance .hdr file: it is corrupt, truncated or not an RGBE image",
            file=path,
            hint="download or export it again",
        )
    if bgr.dtype != np.float32 or bgr.ndim != 3 or bgr.shape[2] != 3:
        raise WorldError(
            f"this .hdr file holds a {bgr.dtype} image, not Radiance RGB radiance",
            file=path,
            hint="export it as a Radiance RGBE (.hdr) or OpenEXR (.exr) image",
        )
    return np.ascontiguousarray(bgr[:, :, ::-1])


def _read_exr(path: str) -> np.ndarray:
    try:
        channels = OpenEXR.File(path).channels()
    except Exception:  # the bindings raise RuntimeError ("Unable to open"), or others
        raise WorldError(
            "cannot read this OpenEXR file: it is corrupt, truncated or not an OpenEXR image",
            file=path,
            hint="download or export it again",
        ) from None
    for name in ("RGB", "RGBA"):
        if name in channels:
            return np.asarray(channels[name].pixels[:, :, :3], np.float32)
    if all(c in channels for c in "RGB"):
        return np.stack([np.asarray(channels[c].pixels, np.float32) for c in "RGB"], axis=-1)
    raise WorldError(
        "this OpenEXR file has no R, G and B channels (it has: "
        + ", ".join(sorted(channels))
        + ")",
        file=path,
        hint="an environment map is an RGB image; export its colour layer",
    )


def _check(image: np.ndarray, path: str) -> None:
    h, w = image.shape[:2]
    if w != 2 * h:
        raise WorldError(
            f"the map is {w}x{h} pixels: an equirectangular (latitude-longitude) map is twice "
            "as wide as high",
            file=path,
            hint="use a 2:1 equirectangular map, e.g. 2048x1024",
        )
    bad = int(np.count_nonzero(~np.isfinite(image)))
    if bad:
        raise WorldError(
            f"the map has {bad} NaN or infinite values",
            file=path,
            hint="export it again with finite radiance everywhere",
        )
    if image.min() < 0:
        raise WorldError(
            f"the map has negative values (down to {float(image.min()):g}): radiance is never "
            "negative",
            file=path,
            hint="export it again with negatives clamped to 0",
        )
