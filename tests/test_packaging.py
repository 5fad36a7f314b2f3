"""What `pip install .` ships: every module of the source tree is inside the wheel."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_the_wheel_holds_every_module_of_the_source_tree(tmp_path):
    # Built from a copy: setuptools reuses a build/ folder it finds, which would hide a package
    # missing from pyproject.toml behind files an earlier build left there.
    source_tree = tmp_path / "source"
    source_tree.mkdir()
    for name in ("simulator", "plugins", "worlds"):
        shutil.copytree(
            ROOT / name, source_tree / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, source_tree / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(source_tree)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("sim-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    # plugins/ installs as sim_plugins (pyproject's package-dir), simulator/ as itself.
    source = [p.relative_to(ROOT).as_posix() for p in (ROOT / "simulator").rglob("*.py")]
    source += [f"sim_plugins/{p.name}" for p in (ROOT / "plugins").glob("*.py")]
    # worlds/ installs as sim_worlds, with the assets its worlds name.
    worlds = ROOT / "worlds"
    source += [f"sim_worlds/{p.relative_to(worlds).as_posix()}" for p in worlds.glob("*.toml")]
    source += [
        f"sim_worlds/{p.relative_to(worlds).as_posix()}"
        for p in (worlds / "parts").rglob("*")
        if p.is_file() and p.suffix != ".py"
    ]
    missing = sorted(set(source) - shipped)
    assert not missing, f"the wheel lacks {missing} (list the package in pyproject.toml)"
    assert any(name.endswith("dist-info/licenses/LICENSE") for name in shipped), "no LICENSE"
