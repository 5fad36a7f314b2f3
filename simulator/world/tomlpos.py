"""Find the line of a TOML path ("spawners", 1, "count") in a world file's text.

tomllib gives no positions, and a line scanner loses its place in multi-line strings and
arrays, so the text is parsed by tree-sitter's TOML grammar, whose syntax tree keeps the
position of every node. Walking that tree with TOML's own rules (a `[[header]]` appends to
its array, deeper headers land in the array's last element, dotted keys and inline tables
nest) gives the line of every header, key and array item; `locate` returns the line of the
deepest part of a path it finds.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator, Sequence

import tree_sitter
import tree_sitter_toml

Path = tuple[str | int, ...]

_PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_toml.language()))
_KEYS = ("bare_key", "quoted_key", "dotted_key")
_PUNCTUATION = ("[", "]", ",", "comment")


def _key(node: tree_sitter.Node) -> Path:
    """A key node's parts, decoded by tomllib itself (quotes, escapes, spaces around dots)."""
    text = (node.text or b"").decode("utf-8")
    parts: list[str | int] = []
    value = tomllib.loads(f"{text} = 0")
    while isinstance(value, dict):
        (name, value), *_ = value.items()
        parts.append(name)
    return tuple(parts)


def _value(node: tree_sitter.Node, path: Path) -> Iterator[tuple[int, Path]]:
    """Lines inside a value: an array's items by index, an inline table's keys."""
    if node.type == "array":
        items = [c for c in node.children if c.type not in _PUNCTUATION]
        for index, item in enumerate(items):
            yield item.start_point.row + 1, (*path, index)
            yield from _value(item, (*path, index))
    elif node.type == "inline_table":
        for pair in node.children:
            if pair.type == "pair":
                yield from _pair(pair, path)


def _pair(node: tree_sitter.Node, table: Path) -> Iterator[tuple[int, Path]]:
    key = next(c for c in node.children if c.type in _KEYS)
    path = (*table, *_key(key))
    yield node.start_point.row + 1, path
    after = [c for c in node.children if c.end_byte > key.end_byte and c.type != "="]
    if after:
        yield from _value(after[0], path)


class _Tables:
    """Resolves header keys to full paths, numbering the elements of arrays of tables."""

    def __init__(self) -> None:
        self.last: dict[Path, int] = {}  # full path of each array of tables -> last index

    def resolve(self, parts: Path, append: bool) -> Path:
        path: Path = ()
        for depth, part in enumerate(parts):
            path = (*path, part)
            if append and depth == len(parts) - 1:
                self.last[path] = self.last.get(path, -1) + 1
            if path in self.last:
                path = (*path, self.last[path])
        return path


@functools.lru_cache(maxsize=8)
def _lines(text: str) -> tuple[tuple[int, Path], ...]:
    """(line number, full TOML path) for every header, key and array item, in file order."""
    tree = _PARSER.parse(text.encode("utf-8"))
    tables = _Tables()
    found: list[tuple[int, Path]] = []
    for node in tree.root_node.children:
        if node.type == "pair":
            found += _pair(node, ())
        elif node.type in ("table", "table_array_element"):
            header = next((c for c in node.children if c.type in _KEYS), None)
            if header is None:
                continue
            table = tables.resolve(_key(header), node.type == "table_array_element")
            found.append((node.start_point.row + 1, table))
            for pair in node.children:
                if pair.type == "pair":
                    found += _pair(pair, table)
    return tuple(found)


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
