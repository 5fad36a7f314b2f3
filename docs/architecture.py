"""Draws the house from its real imports: docs/images/architecture.png and the generated part of
docs/architecture.md (the wings, their modules and which wing imports which).

    python3 docs/architecture.py          # writes the picture and the Markdown section
    python3 docs/architecture.py --check  # only compares the Markdown (tests do this)

The wings' order is the import-linter layers contract in pyproject.toml, so the picture, the
contract CI enforces and the code cannot disagree: every arrow points down.
"""

from __future__ import annotations

import argparse
import ast
import sys
import textwrap
import tomllib
from collections import Counter
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "simulator"
DOC = ROOT / "docs" / "architecture.md"
PICTURE = ROOT / "docs" / "images" / "architecture.png"
BEGIN, END = "<!-- wings: begin (generated) -->", "<!-- wings: end -->"


def layers() -> list[list[str]]:
    """The wings, top layer first, as the import contract orders them."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [
        [w.strip().removeprefix("simulator.") for w in row.split("|")] for row in contract["layers"]
    ]


def wing_of(module: str) -> str:
    """`simulator.run.pool` -> `run`; `simulator.errors` -> `errors`."""
    return module.split(".")[1] if module.count(".") >= 1 else "face"


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (the face included)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(path: Path) -> list[str]:
    """The simulator modules a file imports, wherever in the file the import stands."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "simulator":  # the face's names, or submodules by name
                names += [
                    f"simulator.{a.name}"
                    for a in node.names
                    if PACKAGE.joinpath(a.name).exists()
                    or PACKAGE.joinpath(f"{a.name}.py").exists()
                ]
            elif node.module.startswith("simulator."):
                names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("simulator.")]
    return names


def wing_imports() -> Counter[tuple[str, str]]:
    """(importing wing, imported wing): number of import statements, between wings only."""
    edges: Counter[tuple[str, str]] = Counter()
    for name, path in modules().items():
        if name == "simulator":
            continue  # the face re-exports; it is drawn apart
        for target in imports(path):
            a, b = wing_of(name), wing_of(target)
            if a != b:
                edges[a, b] += 1
    return edges


def markdown() -> str:
    """The generated section: each wing with its modules, then which wing imports which. Only
    what the shape is made of (no line or import counts), so it changes when the shape does."""
    rows = ["| layer | wing | modules |", "| --- | --- | --- |"]
    for level, row in enumerate(layers(), 1):
        for wing in row:
            rows.append(f"| {level} | `{wing}` | {', '.join(members(wing))} |")
    imported: dict[str, list[str]] = {}
    for a, b in sorted(wing_imports()):
        imported.setdefault(a, []).append(f"`{b}`")
    arrows = [f"- `{a}` imports from {', '.join(bs)}" for a, bs in imported.items()]
    return "\n".join([BEGIN, "", *rows, "", *arrows, "", END])


def members(wing: str) -> list[str]:
    """The short names of a wing's modules (the wing's own name for a one-module wing)."""
    names = [n for n in modules() if wing_of(n) == wing and n != "simulator"]
    return [n.rsplit(".", 1)[-1] for n in names if n != f"simulator.{wing}"] or [wing]


def draw(path: Path) -> None:
    """Wings as boxes in their layers, top to bottom, each listing its modules, and an arrow
    per importing pair. Arrows into `errors` are left out: every wing raises sim's errors."""
    rows = layers()
    figure = Figure(figsize=(12, 1.25 * len(rows) + 0.5), dpi=100)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, 1)
    axes.set_ylim(-0.65, len(rows) - 0.35)
    axes.axis("off")
    centre: dict[str, tuple[float, float]] = {}
    for level, row in enumerate(rows):
        y = len(rows) - 1 - level
        for i, wing in enumerate(row):
            x = (i + 1) / (len(row) + 1)
            half = min(0.12, 0.45 / (len(row) + 1))
            centre[wing] = (x, y)
            axes.add_patch(
                FancyBboxPatch(
                    (x - half, y - 0.27),
                    2 * half,
                    0.54,
                    boxstyle="round,pad=0.01",
                    facecolor="#e8eef7",
                    edgecolor="#3b5b8c",
                    linewidth=1.2,
                    zorder=2,
                )
            )
            axes.text(
                x, y + 0.1, wing, ha="center", va="center", fontsize=12, weight="bold", zorder=3
            )
            listed = " ".join(members(wing))
            axes.text(
                x,
                y - 0.12,
                "\n".join(textwrap.wrap(listed, int(330 * half))),
                ha="center",
                va="center",
                fontsize=7.5,
                color="#333333",
                zorder=3,
            )
    for (a, b), count in sorted(wing_imports().items()):
        if b == "errors":
            continue
        (xa, ya), (xb, yb) = centre[a], centre[b]
        axes.add_patch(
            FancyArrowPatch(
                (xa, ya - 0.29),
                (xb, yb + 0.29),
                arrowstyle="-|>",
                mutation_scale=10,
                connectionstyle="arc3,rad=0.06",
                color="#555555",
                linewidth=0.5 + 0.25 * min(count, 8),
                alpha=0.5,
                zorder=1,
            )
        )
    axes.text(
        0.01,
        -0.55,
        "Each arrow: a wing importing from a wing below it (width: import statements); arrows "
        "into errors left out (every wing raises them). Drawn by docs/architecture.py from the "
        "code's imports.",
        fontsize=8,
        color="#555555",
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(figure).print_png(str(path))


def updated(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + markdown() + tail


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare the Markdown only")
    parser.add_argument("--picture", type=Path, default=PICTURE, help="where the PNG goes")
    args = parser.parse_args(argv)
    text = DOC.read_text()
    if args.check:
        if updated(text) != text:
            print(
                "docs/architecture.md is stale: run python3 docs/architecture.py", file=sys.stderr
            )
            return 1
        return 0
    DOC.write_text(updated(text))
    draw(args.picture)
    return 0


if __name__ == "__main__":
    sys.exit(main())
