"""Testing sim plugins: component checks, a pytest fixture, and throwaway package installs.

    from simulator.testing import check_randomizer, check_spawner

    def test_my_spawner():
        check_spawner(MyPipes, {"stem_length": {"uniform": [0.1, 0.2]}})

    def test_my_randomizer():
        check_randomizer(MyTint)

`check_spawner` and `check_randomizer` build a small world around one component, render a
few frames at 96 x 72 and raise `AssertionError`, naming the component, when it breaks a
rule every plugin must follow (reproducible frames, declared categories and keypoints,
finite poses, labels inside the image). They return what they built for further asserts.

With `pytest_plugins = ["simulator.testing"]` in a test module (or a top-level conftest.py)
a test can ask for the `sim_world` fixture, which renders a world file with plugin modules
registered for that test only:

    def test_example_world(sim_world):
        dataset = sim_world("worlds/example.toml", my_plugin)
        assert dataset.objects

Only that fixture needs pytest, and imports it when pytest loads this module as a plugin.
The package's modules: `checks` (one rule each), `checker` (`check_spawner`,
`check_randomizer`), `subject` (a component in its small world), `worlds` (`render_world`,
`world_from`, `read_dataset`), `fixtures` (`sim_world`), `install` (`installed_package`).
PYTEST_DONT_REWRITE: this module raises its own AssertionErrors, and is often imported before
pytest loads it as a plugin.
"""

from simulator.testing.checker import ComponentReport, check_randomizer, check_spawner
from simulator.testing.fixtures import WorldRenderer as WorldRenderer
from simulator.testing.fixtures import pytest_configure as pytest_configure  # pytest's hook
from simulator.testing.fixtures import sim_world_renderer
from simulator.testing.install import can_build_offline, installed_package
from simulator.testing.worlds import Dataset, read_dataset, render_world, world_from

__all__ = [
    "ComponentReport",
    "Dataset",
    "can_build_offline",
    "check_randomizer",
    "check_spawner",
    "installed_package",
    "read_dataset",
    "render_world",
    "sim_world_renderer",
    "world_from",
]
