"""Files written whole or not at all: write a temporary beside the file, then rename it.

Every file of a dataset goes through here, the pass images of each frame as much as a writer's
merged files, so that a run stopped at any moment (Ctrl-C, an exception, a killed worker)
never leaves half a file under a final name: a reader finds the old file, or none, or the
new one whole. The temporary is `.<name>.part` in the same folder (a rename is atomic only
within one file system) and is removed when the write raises; only a process killed
mid-write leaves one behind, hidden, and the next write of that file replaces it.

The rename is atomic, not durable: nothing is fsynced, since a sync per pass file would cost
more than rendering the frame, and a power cut is survived by `sim run --resume` redoing the
unfinished shards. `atomicwrites`, the library for this, is archived; os.replace is the
standard library's atomic rename on POSIX and Windows alike.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, Literal, TextIO, overload

PathLike = str | os.PathLike[str]


def part_path(path: PathLike) -> Path:
    """The temporary that becomes `path`: hidden, in the same folder."""
    path = Path(path)
    return path.with_name(f".{path.name}.part")


def atomic_write(path: PathLike, data: bytes | str) -> None:
    """Write `data` (str as UTF-8) to `path` whole or not at all, making its folder if
    missing."""
    with atomic_open(path, "wb") as out:
        out.write(data.encode() if isinstance(data, str) else data)


def atomic_link(source: PathLike, path: PathLike) -> None:
    """Make `path` a hard link to the existing file `source`, whole or not at all (linked as
    the temporary, then renamed over whatever `path` was), making its folder if missing.

    Formats that want the frames' images in a folder of their own (a split per folder, a
    `JPEGImages/`) get them without a second copy on disk; where the file system has no hard
    links the file is copied instead, so the bytes at `path` are the same either way."""
    temporary = part_path(path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    temporary.unlink(missing_ok=True)
    try:
        try:
            os.link(source, temporary)
        except OSError:
            if not Path(source).is_file():
                raise
            shutil.copyfile(source, temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@overload
def atomic_open(
    path: PathLike, mode: Literal["w"] = "w", encoding: str = "utf-8"
) -> AbstractContextManager[TextIO]: ...
@overload
def atomic_open(
    path: PathLike, mode: Literal["wb"], encoding: str = "utf-8"
) -> AbstractContextManager[BinaryIO]: ...
def atomic_open(
    path: PathLike, mode: str = "w", encoding: str = "utf-8"
) -> AbstractContextManager[IO[Any]]:
    """A file to stream into (text "w" in `encoding`, or binary "wb") that appears at `path`
    whole when the `with` block ends, and not at all if the block raises."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes a new file: mode 'w' or 'wb', not {mode!r}")
    return _replacing(Path(path), mode, None if mode == "wb" else encoding)


@contextmanager
def _replacing(path: Path, mode: str, encoding: str | None) -> Iterator[IO[Any]]:
    temporary = part_path(path)
    stream = _open_making_folder(temporary, mode, encoding)
    try:
        with stream:
            yield stream
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _open_making_folder(path: Path, mode: str, encoding: str | None) -> IO[Any]:
    """Open `path`, making its folder only when the open finds it missing: one mkdir for a
    folder's first file, not two system calls before every file of every frame."""
    try:
        return path.open(mode, encoding=encoding)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open(mode, encoding=encoding)
