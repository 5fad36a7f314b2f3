"""docs/writing-plugins.md quotes the files of examples/sim-pipes-lite whole, so the code the
tutorial shows is the code that is tested. Each `<!-- include: PATH -->` line is followed by a
fenced block that must equal the file at PATH (from the repository root) exactly, and every
source file of the example is quoted. After editing the example, refresh the doc with
`python3 tests/test_docs_plugins.py`."""

import difflib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "writing-plugins.md"
EXAMPLE = ROOT / "examples" / "sim-pipes-lite"
INCLUDE = re.compile(
    r"^<!-- include: (?P<path>\S+) -->\n```(?P<lang>\w*)\n(?P<code>.*?)^```$", re.M | re.S
)
LANGUAGES = {".py": "python", ".toml": "toml"}


def quoted() -> dict[str, str]:
    """Path -> the code block quoting it, for every include in the doc."""
    blocks: dict[str, str] = {}
    for match in INCLUDE.finditer(DOC.read_text(encoding="utf-8")):
        assert match["path"] not in blocks, f"{match['path']} is quoted twice"
        assert match["lang"] == LANGUAGES[Path(match["path"]).suffix], match["path"]
        blocks[match["path"]] = match["code"]
    return blocks


def sources() -> list[str]:
    """The example's source files, as paths from the repository root."""
    return sorted(
        str(path.relative_to(ROOT))
        for path in EXAMPLE.rglob("*")
        if path.suffix in LANGUAGES and "__pycache__" not in path.parts
    )


@pytest.mark.parametrize("path", sorted(quoted()))
def test_quoted_file_is_the_file(path):
    code, actual = quoted()[path], (ROOT / path).read_text(encoding="utf-8")
    diff = "".join(
        difflib.unified_diff(
            code.splitlines(keepends=True), actual.splitlines(keepends=True), "doc", path, n=1
        )
    )
    assert code == actual, (
        f"docs/writing-plugins.md quotes an outdated {path}; run "
        f"`python3 tests/test_docs_plugins.py` to refresh it:\n{diff}"
    )


def test_every_source_file_of_the_example_is_quoted():
    assert sorted(quoted()) == sources()


def test_every_include_marker_has_its_block():
    assert DOC.read_text(encoding="utf-8").count("<!-- include:") == len(quoted())


def refresh() -> None:
    """Rewrite every quoted block of the doc from its file."""

    def block(match: re.Match[str]) -> str:
        code = (ROOT / match["path"]).read_text(encoding="utf-8")
        return f"<!-- include: {match['path']} -->\n```{match['lang']}\n{code}```"

    DOC.write_text(INCLUDE.sub(block, DOC.read_text(encoding="utf-8")), encoding="utf-8")


if __name__ == "__main__":
    refresh()
    sys.exit(0)
