"""Find the line of a TOML path ("spawners", 1, "count") in a world file's text.

tomllib gives no positions, so this scans table headers and keys. It understands what world
files use: [tables], [[arrays of tables]], `key = value` and dotted keys, and returns the line
of the deepest part of the path it can find (an inline table's key resolves to its line).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-.\"' ]+?)\s*=")

Path = tuple[str | int, ...]


def _split_key(text: str) -> list[str]:
    return [part.strip().strip("\"'") for part in text.split(".")]


def _lines(text: str) -> list[tuple[int, Path]]:
    """(line number, full TOML path) for every header and key line, in file order."""
    found: list[tuple[int, Path]] = []
    table: Path = ()
    array_counts: dict[Path, int] = {}
    in_multiline = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count('"""') % 2 or line.count("'''") % 2:
            in_multiline = not in_multiline
            if not in_multiline:
                continue
        if in_multiline:
            continue
        header = _HEADER.match(line)
        if header:
            parts: Path = tuple(_split_key(header.group(2)))
            if header.group(1) == "[[":
                index = array_counts.get(parts, -1) + 1
                array_counts[parts] = index
                # Deeper arrays restart when their parent element changes.
                for key in list(array_counts):
                    if len(key) > len(parts) and key[: len(parts)] == parts:
                        del array_counts[key]
                parts = (*parts, index)
            table = parts
            found.append((number, table))
            continue
        assignment = _KEY.match(line)
        if assignment and not line.lstrip().startswith("#"):
            found.append((number, (*table, *_split_key(assignment.group(1)))))
    return found


def locate(text: str, path: Sequence[str | int]) -> int | None:
    """The line that best matches `path`: the longest matching prefix, first occurrence."""
    path = tuple(path)
    best: tuple[int, int] | None = None  # (matched length, line)
    for number, candidate in _lines(text):
        length = 0
        for a, b in zip(candidate, path, strict=False):
            if a != b:
                break
            length += 1
        whole = length == len(candidate) or length == len(path)
        if whole and length and (best is None or length > best[0]):
            best = (length, number)
    return best[1] if best else None


def format_path(path: Sequence[str | int]) -> str:
    """("spawners", 1, "count") -> "spawners[1].count"."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
