"""Boxes and COCO run-length masks straight from the instance pass, in one sweep over its runs."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


def instance_boxes(instance: np.ndarray) -> dict[int, tuple[list[int], int]]:
    """{instance id: ([x, y, w, h], pixel count)} for every id present (background 0 left out).

    Works on the horizontal runs of equal ids (a few per object and row) rather than on every
    pixel: one comparison pass over the image finds them, and only they get sorted by id."""
    height, width = instance.shape
    if instance.size == 0:
        return {}
    start = np.empty((height, width), dtype=bool)  # where a run begins, row by row
    start[:, 0] = True
    np.not_equal(instance[:, 1:], instance[:, :-1], out=start[:, 1:])
    begin = np.flatnonzero(start)
    end = np.append(begin[1:], instance.size)  # runs never cross rows: each row starts one
    ids = instance.ravel()[begin]
    labeled = ids != 0
    if not labeled.any():
        return {}
    order = np.argsort(ids[labeled], kind="stable")  # by id, then by position
    ids, begin, end = ids[labeled][order], begin[labeled][order], end[labeled][order]
    first = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    last = np.append(first[1:], ids.size) - 1
    rows = begin // width
    x0 = np.minimum.reduceat(begin - rows * width, first)
    x1 = np.maximum.reduceat(end - rows * width, first)  # exclusive
    y0, y1 = rows[first], rows[last]
    counts = np.add.reduceat(end - begin, first)
    return {
        i: ([a, b, c - a, d - b + 1], n)
        for i, a, b, c, d, n in zip(
            ids[first].tolist(),
            x0.tolist(),
            y0.tolist(),
            x1.tolist(),
            y1.tolist(),
            counts.tolist(),
            strict=True,
        )
    }


def encode_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of a boolean mask, with `counts` as a string (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def encode_rles(instance: np.ndarray, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """{id: encode_rle(instance == id)} for every id asked for, in one pass over the image.

    An id that is not in the image gets the RLE of an empty mask."""
    height, width = instance.shape
    runs = runs_by_id(instance, ids)
    return {i: rle_from_runs(begin, end, height, width) for i, (begin, end) in runs.items()}


def runs_by_id(
    instance: np.ndarray, ids: Iterable[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{id: (starts, ends)} of the runs of that id in the image read column by column (COCO's
    order), as flat indices, ends exclusive; runs of one id are in order and never touch."""
    height, width = instance.shape
    wanted = [int(i) for i in ids]
    if instance.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return dict.fromkeys(wanted, (empty, empty))
    # Where a run begins, in column-major order: a change down a column, or from the bottom
    # of one column to the top of the next. Found in the image's own (row-major) layout, then
    # only those few places are put in column-major order.
    start = np.empty((height, width), dtype=bool)
    np.not_equal(instance[1:], instance[:-1], out=start[1:])
    start[0, 0] = True
    np.not_equal(instance[0, 1:], instance[-1, :-1], out=start[0, 1:])
    begin = np.flatnonzero(start)
    if begin.size > instance.size // 16:  # many runs: a transposed copy beats sorting them
        flat = instance.T.ravel()
        begin = np.flatnonzero(np.concatenate(([True], flat[1:] != flat[:-1])))
        values = flat[begin]
    else:
        rows, cols = np.divmod(begin, width)
        order = np.argsort(cols * height + rows)
        rows, cols = rows[order], cols[order]
        begin = cols * height + rows
        values = instance[rows, cols]
    end = np.append(begin[1:], instance.size)
    runs = {}
    if len(wanted) <= 32:  # a comparison per id is cheaper than sorting the runs by id
        for i in wanted:
            pick = np.flatnonzero(values == i)
            runs[i] = (begin[pick], end[pick])
        return runs
    order = np.argsort(values, kind="stable")  # by id, then by position
    values, begin, end = values[order], begin[order], end[order]
    for i in wanted:
        lo, hi = np.searchsorted(values, i, "left"), np.searchsorted(values, i, "right")
        runs[i] = (begin[lo:hi], end[lo:hi])
    return runs


# Pixels a window reads around an object's box: rasterization covers the pixels whose centres
# fall inside its triangles, all inside the box of its projected vertices; the margin keeps
# rounding at the box's edges well inside the window.
WINDOW_MARGIN = 2


def window(box: list[float], width: int, height: int) -> tuple[slice, slice]:
    """The rows and columns of a width x height image that hold every pixel of an object
    whose projected box is `box` ([x, y, w, h], pixel edges at integers), with a margin."""
    x, y, w, h = box
    left = min(max(math.floor(x) - WINDOW_MARGIN, 0), width)
    right = min(max(math.ceil(x + w) + WINDOW_MARGIN, left), width)
    top = min(max(math.floor(y) - WINDOW_MARGIN, 0), height)
    bottom = min(max(math.ceil(y + h) + WINDOW_MARGIN, top), height)
    return slice(top, bottom), slice(left, right)


def window_runs(
    pixels: np.ndarray, instance_id: int, top: int, left: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """`runs_by_id(image, [instance_id])[instance_id]` of an image of `height` rows where
    that id lies only inside `pixels`, the window of it whose top left pixel is (top, left)."""
    rows, columns = pixels.shape
    inside = np.zeros((columns, rows + 2), dtype=bool)  # column by column, a margin each end
    np.equal(pixels.T, instance_id, out=inside[:, 1:-1])
    # Where the mask changes down a column: a run's first pixel, then the pixel past its end.
    column, row = np.divmod(np.flatnonzero(inside[:, 1:] != inside[:, :-1]), rows + 1)
    edges = (column + left) * height + row + top
    begin, end = edges[0::2], edges[1::2]
    # A run that ends at the foot of a column and one that starts at the top of the next are
    # one run of the whole image (only where the window has all its rows).
    joined = np.flatnonzero(begin[1:] == end[:-1])
    if joined.size:
        begin, end = np.delete(begin, joined + 1), np.delete(end, joined)
    return begin, end


def rle_from_runs(begin: np.ndarray, end: np.ndarray, height: int, width: int) -> dict[str, Any]:
    """COCO compressed RLE of the mask made of the given column-major runs (see encode_rle)."""
    # Uncompressed COCO counts alternate zeros and ones, starting with zeros (maybe none) and
    # ending with the last run, whichever it is.
    edges = np.empty(2 * begin.size + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, height * width
    edges[1:-1:2], edges[2:-1:2] = begin, end
    counts = np.diff(edges)
    if counts.size > 1 and counts[-1] == 0:
        counts = counts[:-1]
    rle = mask_utils.frPyObjects({"counts": counts, "size": [height, width]}, height, width)
    return {"size": [height, width], "counts": rle["counts"].decode("ascii")}
