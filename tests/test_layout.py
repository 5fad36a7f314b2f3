"""The house's shape: the face loads nothing heavy, and the wings import only downward."""

import subprocess
import sys
from pathlib import Path


def _modules_after(statement: str) -> set[str]:
    """The modules a fresh interpreter holds after running `statement`."""
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_importing_the_face_loads_no_renderer_and_no_runner():
    loaded = _modules_after("import simulator")
    heavy = {m for m in loaded if m.split(".")[0] in ("panda3d", "ray", "matplotlib")}
    assert not heavy, f"import simulator loads {sorted(heavy)}"
    private = {
        m
        for m in loaded
        if m.startswith(("simulator.run", "simulator.capture", "simulator.engine"))
    }
    assert not private, f"import simulator loads {sorted(private)}"
    assert "simulator.testing" not in loaded


def test_heavy_public_modules_load_on_first_use():
    loaded = _modules_after("import simulator\nsimulator.assets\nsimulator.testing")
    assert {"simulator.engine.assets", "simulator.testing", "panda3d.core"} <= loaded


def test_the_wings_keep_the_import_contract():
    """pyproject.toml's import-linter contracts: layers that follow the data flow."""
    lint_imports = Path(sys.executable).parent / "lint-imports"  # installed by the dev extra
    result = subprocess.run([str(lint_imports)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_wing_stands_in_the_import_contract():
    """A new subpackage must take its place in the layers, or the contract would not see it."""
    import tomllib

    root = Path(__file__).parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text())
    (layers,) = [c["layers"] for c in config["tool"]["importlinter"]["contracts"] if "layers" in c]
    named = {w.strip() for row in layers for w in row.split("|")}
    package = root / "simulator"
    wings = {f"simulator.{p.parent.name}" for p in package.glob("*/__init__.py")}
    wings |= {f"simulator.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"}
    assert wings == named
