"""sim's disk cache: work worth keeping across runs (prefiltered environment light, convex
decompositions), one folder per kind under `$SIM_CACHE_DIR` (else `~/.cache/sim`).

Every file is written atomically, so processes that share the folder never read half a file,
and each kind's folder is held under a budget: after a file is stored, the least recently
used files of that kind (by the later of access and modification time; a read sets the access
time and leaves the modification time, which says when the work was done) are deleted until the
folder is within `$SIM_CACHE_LIMIT` (bytes, or with a K, M or G suffix; default 2G per
kind). A run over hundreds of HDR maps or a big model library thus keeps its most recent
work, and never fills the disk. A file deleted while another process reads it is read to the
end (POSIX keeps an open file); one deleted before it is read is computed again.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

from simulator.dataset.atomic import atomic_write

DEFAULT_LIMIT = 2 << 30  # bytes per kind
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}


def folder(kind: str) -> Path:
    """The cache folder of one kind of work ("ibl", "collision")."""
    return Path(os.environ.get("SIM_CACHE_DIR") or Path.home() / ".cache" / "sim") / kind


def limit() -> int:
    """The budget of each kind's folder, in bytes, from `$SIM_CACHE_LIMIT`."""
    text = os.environ.get("SIM_CACHE_LIMIT", "").strip().upper().removesuffix("B")
    if not text:
        return DEFAULT_LIMIT
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMG]?)", text)
    if match is None:
        raise ValueError(
            f"SIM_CACHE_LIMIT={os.environ['SIM_CACHE_LIMIT']!r}: give bytes, or a number "
            "with K, M or G (e.g. 500M)"
        )
    return int(float(match[1]) * _UNITS[match[2]])


def store(kind: str, name: str, data: bytes) -> Path:
    """Write one cache file atomically, then trim the kind's folder to the budget (the file
    just written is kept, whatever its size)."""
    path = folder(kind) / name
    atomic_write(path, data)
    trim(kind, keep=path)
    return path


def used(path: Path) -> None:
    """Mark a cache file as just used (read): the last to be trimmed. Its modification time
    is kept: it says when the file was computed (ibl.prefiltered_since reads it)."""
    with contextlib.suppress(OSError):  # gone, or a read-only cache: it is only a hint
        os.utime(path, ns=(time.time_ns(), path.stat().st_mtime_ns))


def trim(kind: str, keep: Path | None = None) -> int:
    """Delete the least recently used files of `kind` until its folder is within the budget;
    returns how many were deleted."""
    entries = []
    for path in folder(kind).glob("*"):
        if path.name.startswith("."):  # another process's file being written
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        entries.append((max(stat.st_atime, stat.st_mtime), path.name, stat.st_size, path))
    total, budget, deleted = sum(e[2] for e in entries), limit(), 0
    for _, _, size, path in sorted(entries):  # oldest first; names break ties: same order
        if total <= budget:
            break
        if keep is not None and path == keep:
            continue
        with contextlib.suppress(OSError):  # another process trimmed it first
            path.unlink()
        total -= size
        deleted += 1
    return deleted
