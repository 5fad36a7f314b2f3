"""Convex decomposition of concave meshes (V-HACD, through `vhacdx`), cached on disk.

A bowl's convex hull is a solid dome: a ball dropped into it rests on its rim. Split into
convex parts, the bowl holds the ball. Decomposition takes seconds, so its result is kept in
memory and on disk, keyed by the mesh's content (vertices and triangles, not its name) and the
decomposition's parameters: a second run, in any process, reads the parts back. The cache
folder is `$SIM_CACHE_DIR/collision`, else `~/.cache/sim/collision`, held under
`$SIM_CACHE_LIMIT` (simulator.disk_cache); files are written atomically, so processes sharing
the folder never read half a file.

Decomposition runs in the mesh's own frame, unscaled: a convex part stays convex under any
scale, so one decomposition serves every size of the object. V-HACD voxelises the solid, so
it needs a closed (watertight) mesh; an open one is refused with a message (the "auto" shape
falls back to the hull instead, see plugins/collision.py).
"""

from __future__ import annotations

import hashlib
import io
import sys
import time
from pathlib import Path

import numpy as np
import trimesh
import vhacdx

from simulator import TriangleMesh, disk_cache

VERSION = "vhacdx-1"  # part of every cache key: bump when the way parts are made changes

SLOW = 2.0  # seconds: a decomposition that takes longer is reported on stderr
_memory: dict[tuple[str, int, int], list[np.ndarray]] = {}  # by mesh key: no hashing per frame
runs = 0  # decompositions computed in this process (not read back): tests count them


def cache_dir() -> Path:
    """Where decompositions are kept across runs (simulator.disk_cache)."""
    return disk_cache.folder("collision")


def content_key(mesh: TriangleMesh, max_parts: int, resolution: int) -> str:
    """A digest of the geometry and the parameters: equal keys, equal parts."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(mesh.vertices.tobytes())
    digest.update(mesh.triangles.tobytes())
    digest.update(f"{VERSION}|{max_parts}|{resolution}".encode())
    return digest.hexdigest()


def solid(mesh: TriangleMesh) -> trimesh.Trimesh:
    """The mesh as trimesh sees it, vertices welded across texture seams."""
    return trimesh.Trimesh(mesh.vertices, mesh.triangles, process=True)


def is_closed(mesh: TriangleMesh) -> bool:
    """Watertight once seams are welded: every edge shared by exactly two triangles."""
    return bool(solid(mesh).is_watertight)


def convex_parts(mesh: TriangleMesh, max_parts: int, resolution: int) -> list[np.ndarray]:
    """Points of each convex part, in the mesh's frame: from memory (by the mesh's key, which
    names its geometry), disk (by a digest of the geometry), or V-HACD."""
    known = (mesh.key, max_parts, resolution)
    if known in _memory:
        return _memory[known]
    key = content_key(mesh, max_parts, resolution)
    path = cache_dir() / f"{key}.npz"
    parts = _read(path)
    if parts is not None:
        disk_cache.used(path)
    else:
        began = time.perf_counter()
        parts = _decompose(mesh, max_parts, resolution)
        buffer = io.BytesIO()
        np.savez(buffer, *parts)
        disk_cache.store("collision", path.name, buffer.getvalue())
        seconds = time.perf_counter() - began
        if seconds >= SLOW:
            print(
                f"note: decomposed {mesh.key} ({len(mesh.triangles):,} triangles) into "
                f"{len(parts)} convex parts in {seconds:.1f} s; cached in {cache_dir()}",
                file=sys.stderr,
            )
    _memory[known] = parts
    return parts


def _read(path: Path) -> list[np.ndarray] | None:
    """Parts from a cache file; a missing or unreadable one is recomputed (and rewritten)."""
    try:
        with np.load(path) as data:
            return [data[f"arr_{i}"] for i in range(len(data.files))]
    except (OSError, ValueError, KeyError):
        return None


def _decompose(mesh: TriangleMesh, max_parts: int, resolution: int) -> list[np.ndarray]:
    global runs
    welded = solid(mesh)
    if not welded.is_watertight:
        raise ValueError(
            f"mesh {mesh.key} is not closed (watertight), so it cannot be decomposed into "
            'convex parts: use shape = "hull" (or "auto", which falls back to the hull)'
        )
    runs += 1
    hulls = vhacdx.compute_vhacd(
        np.asarray(welded.vertices, np.float64),
        np.asarray(welded.faces, np.uint32),
        maxConvexHulls=max_parts,
        resolution=resolution,
        asyncACD=False,  # one thread: the same parts on every machine and run
    )
    return [np.asarray(points, np.float64) for points, _ in hulls if len(points) >= 4]
