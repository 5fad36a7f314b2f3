"""examples/sim-pipes-lite, a third-party plugin package: installed with pip, sim finds it
through its entry point, its world renders with keypoints, and its own tests pass."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.plugin.host import PluginHost
from simulator.testing import installed_package, render_world

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "sim-pipes-lite"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The example installed for this module's tests, and removed after them however
    they end (see simulator.testing.installed_package)."""
    with installed_package(EXAMPLE, tmp_path_factory.mktemp("pipes-lite")) as site:
        yield site


def test_sim_finds_its_components_through_the_entry_point(installed):
    host = PluginHost()
    assert "pipes_lite" in host.plugin_names()
    assert host.spawners.get("lite_pipe").plugin == "pipes_lite"
    assert host.randomizers.get("wood_tone").plugin == "pipes_lite"
    assert Path(sys.modules["sim_pipes_lite"].__file__).is_relative_to(installed)


def test_its_world_renders_with_labeled_keypoints(installed, tmp_path):
    dataset = render_world(EXAMPLE / "worlds" / "pipes.toml", tmp_path / "pipes", frames=2)
    pipes = [o for o in dataset.objects if o["category"] == "lite_pipe"]
    assert pipes and {o["category"] for o in dataset.objects} == {"lite_pipe"}
    assert all([k["name"] for k in o["keypoints"]] == ["bowl", "heel", "mouthpiece"] for o in pipes)
    assert any(k["v"] == 2 for o in pipes for k in o["keypoints"])
    (category,) = dataset.coco["categories"]
    assert category["keypoints"] == ["bowl", "heel", "mouthpiece"]
    assert category["skeleton"] == [[1, 2], [2, 3]]
    assert dataset.manifest["keypoints"]["lite_pipe"]["names"] == ["bowl", "heel", "mouthpiece"]


def test_its_own_tests_pass(installed, tmp_path):
    copy = shutil.copytree(
        EXAMPLE, tmp_path / "sim-pipes-lite", ignore=shutil.ignore_patterns("__pycache__")
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^\d+ passed in ", result.stdout, re.M), result.stdout
