"""`new_plugin` writes a package that installs, registers through its entry point and passes
its own tests; bad names and existing folders are refused without writing anything."""

import subprocess
import sys

import pytest

from simulator.plugin import scaffold
from simulator.plugin.host import PluginHost
from simulator.plugin.scaffold import new_plugin
from simulator.testing import installed_package


def test_the_package_installs_registers_and_passes_its_own_tests(tmp_path):
    package = new_plugin("hex_nuts", tmp_path / "plugins")
    assert package == tmp_path / "plugins" / "sim-hex_nuts"
    assert sorted(str(p.relative_to(package)) for p in package.rglob("*") if p.is_file()) == [
        "README.md",
        "pyproject.toml",
        "sim_hex_nuts/__init__.py",
        "tests/test_hex_nuts.py",
        "worlds/example.toml",
    ]
    assert (
        '[project.entry-points.sim]\nhex_nuts = "sim_hex_nuts"'
        in (package / "pyproject.toml").read_text()
    )
    with installed_package(package, tmp_path) as site:
        assert (site / "sim_hex_nuts" / "__init__.py").is_file()
        host = PluginHost()
        assert host.spawners.get("hex_nuts").plugin == "hex_nuts"
        assert host.randomizers.get("hex_nuts_tilt").plugin == "hex_nuts"
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=package,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "3 passed" in result.stdout
    assert "hex_nuts" not in PluginHost().spawners, "uninstalled after the block"
    assert "sim_hex_nuts" not in sys.modules


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "Hex-Nuts",
            "plugin name 'Hex-Nuts' is not valid: use lowercase letters, digits and single underscores, starting with a letter, at most 40 characters (it names the module sim_<name> and the entry point); did you mean 'hex_nuts'?",
        ),
        (
            "9lives",
            "plugin name '9lives' is not valid: use lowercase letters, digits and single underscores, starting with a letter, at most 40 characters (it names the module sim_<name> and the entry point); did you mean 'lives'?",
        ),
        (
            "",
            "plugin name '' is not valid: use lowercase letters, digits and single underscores, starting with a letter, at most 40 characters (it names the module sim_<name> and the entry point)",
        ),
        (
            "primitive",
            "plugin name 'primitive' clashes with sim's bundled spawner 'primitive'; pick another",
        ),
        (
            "lighting",
            "plugin name 'lighting' clashes with sim's bundled plugin 'sim_plugins.lighting'; pick another",
        ),
    ],
)
def test_bad_names_are_refused(tmp_path, name, message):
    with pytest.raises(ValueError) as error:
        new_plugin(name, tmp_path)
    assert str(error.value) == message
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_never_overwritten(tmp_path):
    (tmp_path / "sim-bolts").mkdir()
    (tmp_path / "sim-bolts" / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError) as error:
        new_plugin("bolts", tmp_path)
    assert str(error.value) == (
        f"{tmp_path / 'sim-bolts'} already exists; choose another name or --dir (nothing was overwritten)"
    )
    assert [p.name for p in (tmp_path / "sim-bolts").iterdir()] == ["mine.txt"]


def test_a_failed_write_leaves_nothing_behind(tmp_path, monkeypatch):
    monkeypatch.setitem(scaffold.FILES, "zz_broken.txt", "${undefined}")
    with pytest.raises(KeyError):
        new_plugin("bolts", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_sim_brings_what_the_package_needs_to_install_and_test_offline():
    """In a fresh venv holding only sim, `pip install --no-index --no-build-isolation -e .`
    builds the package with the venv's setuptools, which must have its own bdist_wheel
    (70.1+; a venv starts with an older one and no `wheel`), and the package's tests run on
    pytest (simulator.testing is a pytest plugin): sim itself requires both, outside extras."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    from simulator.testing import can_build_offline

    needs = {r.name: r for r in map(Requirement, requires("sim") or []) if r.marker is None}
    assert "70.0" not in needs["setuptools"].specifier and "70.1" in needs["setuptools"].specifier
    assert "pytest" in needs
    assert can_build_offline()
