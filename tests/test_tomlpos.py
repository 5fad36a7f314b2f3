"""World-file error lines stay right after the TOML that trips a line scanner: multi-line
basic and literal strings (holding text that looks like headers and keys), `'''` strings,
multi-line arrays, inline tables, arrays of tables and dotted keys. The expected line is
found by searching the file for a marker, never taken from the code under test."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.world.tomlpos import locate

HARD = """\
[world]
name = "hard"
frames = 2

[camera]
resolution = [
    64,   # width
    48,   # height
]

[[spawners]]
type = "primitive"
# a multi-line basic string that holds a header, a key and an odd number of quotes
category = DQ3
[camera]
fov = 10 " SQ3 "
DQ3
shape = "box"
size = { uniform = [0.5, 1.0] }   # an inline table
color = [
    0.2,
    { uniform = [0, 1] },
    0.4,
]

[[spawners]]
type = "primitive"
category = SQ3one SQ3 # a literal string on one line: a scanner toggles here

[[spawners]]
type = "primitive"
category = SQ3
[[spawners]]
type = "not a spawner"
SQ3
shape = "sphere"
""".replace("DQ3", '"""').replace("SQ3", "'''")


def line_of(text: str, marker: str) -> int:
    """The 1-based line of the one line holding `marker`."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def sim(tmp_path, text: str) -> str:
    (tmp_path / "world.toml").write_text(text)
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "world.toml")])
    assert result.exit_code == 2, result.output
    return re.sub(r"\s+", " ", result.output)


@pytest.mark.parametrize(
    ("tail", "marker", "where"),
    [
        ("[output]\nimage_fromat = 'png'\n", "image_fromat", "output.image_fromat"),
        ("shpe = 'box'\n", "shpe", r"spawners\[2\]\.shpe"),
        ("count = 'many'\n", "count =", r"spawners\[2\]\.count"),
        ("[[randomizers]]\ntype = 'colour'\n", "'colour'", r"randomizers\[0\]\.type"),
        ("[plugins]\npaths.extra = 1\n", "paths.extra", r"plugins\.paths"),
    ],
)
def test_an_error_after_the_hard_parts_names_its_own_line(tmp_path, tail, marker, where):
    text = HARD + tail
    assert f"world.toml:{line_of(text, marker)}: " in sim(tmp_path, text)
    assert re.search(where, sim(tmp_path, text))


def test_errors_inside_multi_line_arrays_name_the_item_line(tmp_path):
    text = HARD.replace("    48,   # height", "    0,    # height")
    assert f"world.toml:{line_of(text, '# height')}: camera.resolution[1]" in sim(tmp_path, text)
    text = HARD.replace("    0.4,", "    4.0,")  # the plugin names the whole colour
    assert f"world.toml:{line_of(text, 'color = [')}: spawners[0].color" in sim(tmp_path, text)


ARRAYS = """\
[[spawners]]
type = "a"
[[spawners.parts]]
q = 1
[[spawners]]
type = "b"
params."x y".z = 1   # a dotted key with a quoted part
[[spawners.parts]]
q = 2
[[spawners.parts]]
q = 3
[spawners.parts.inner]
r = [1, [2, 3]]
"""


@pytest.mark.parametrize(
    ("path", "marker"),
    [
        (("spawners", 0, "type"), '"a"'),
        (("spawners", 0, "parts", 0, "q"), "q = 1"),
        (("spawners", 1), "[[spawners]]\ntype"),
        (("spawners", 1, "params", "x y", "z"), "params."),
        (("spawners", 1, "params"), "params."),
        (("spawners", 1, "parts", 0, "q"), "q = 2"),
        (("spawners", 1, "parts", 1, "q"), "q = 3"),
        (("spawners", 1, "parts", 1, "inner", "r", 1, 0), "r = "),
        (("spawners", 1, "parts", 1, "inner"), "[spawners.parts.inner]"),
        (("spawners", 1, "parts", 1, "missing"), "q = 3"),
    ],
)
def test_arrays_of_tables_number_their_elements_per_parent(path, marker):
    if "\n" in marker:  # the second [[spawners]] header: the one followed by type = "b"
        expected = ARRAYS[: ARRAYS.index('type = "b"')].count("\n")
    elif path[-1] == "missing":  # an unknown key falls back to its table's header
        expected = line_of(ARRAYS, "q = 3") - 1
    else:
        expected = line_of(ARRAYS, marker)
    assert locate(ARRAYS, path) == expected


def test_a_path_the_file_lacks_has_no_line():
    assert locate(ARRAYS, ("camera", "fov")) is None
    assert locate("", ("world",)) is None
