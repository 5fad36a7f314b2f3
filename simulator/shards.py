"""Shards: a run's frames cut into fixed consecutive ranges, each written whole or not at all.

Shard boundaries depend only on the run's start and frame count, never on how many workers
render them, and writers' parts are merged in shard order, so the dataset's bytes are the
same whatever the worker count. A shard is done when its marker file exists, written after
everything else of the shard: a run killed at any moment resumes by redoing the shards that
have no marker.

    <root>/.sim/shards/000003/<writer name>/...   a writer's part of shard 3
    <root>/.sim/shards/000003/done                the marker: frames and objects written,
                                                  frames skipped (--skip-failed-frames)
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARD_SIZE = 50
STATE = ".sim"


@dataclass(frozen=True)
class Shard:
    index: int
    start: int
    stop: int  # exclusive

    @property
    def frames(self) -> range:
        return range(self.start, self.stop)


def plan(start: int, count: int, size: int = SHARD_SIZE) -> list[Shard]:
    """The shards of frames [start, start + count)."""
    return [
        Shard(i, s, min(s + size, start + count))
        for i, s in enumerate(range(start, start + count, size))
    ]


def directory(root: Path, shard: Shard) -> Path:
    return root / STATE / "shards" / f"{shard.index:06d}"


def part(root: Path, shard: Shard, writer_key: str) -> Path:
    return directory(root, shard) / writer_key


def is_done(root: Path, shard: Shard) -> bool:
    return (directory(root, shard) / "done").is_file()


def begin(root: Path, shard: Shard) -> None:
    """Start (or restart) a shard from nothing."""
    shutil.rmtree(directory(root, shard), ignore_errors=True)
    directory(root, shard).mkdir(parents=True)


def finish(root: Path, shard: Shard, objects: int, skipped: list[dict[str, Any]]) -> None:
    """Mark a shard done, with what it wrote: the marker is the shard's last file."""
    result = {"frames": len(shard.frames) - len(skipped), "objects": objects, "skipped": skipped}
    marker = directory(root, shard) / ".done.part"
    marker.write_text(json.dumps(result))
    os.replace(marker, directory(root, shard) / "done")


def result(root: Path, shard: Shard) -> dict[str, Any]:
    """What a done shard wrote: {"frames", "objects", "skipped"}."""
    return json.loads((directory(root, shard) / "done").read_text())


def clear(root: Path) -> None:
    shutil.rmtree(root / STATE, ignore_errors=True)
