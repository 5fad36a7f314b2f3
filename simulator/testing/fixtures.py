"""The `sim_world` pytest fixture: render a world with plugin objects, for one test.

`pytest_configure` is a pytest hook: pytest runs it when a test suite names
`simulator.testing` in `pytest_plugins`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from simulator.testing.worlds import RESOLUTION, Dataset, render_world


class WorldRenderer(Protocol):
    """What the `sim_world` fixture gives a test."""

    def __call__(
        self,
        world: Path | str | Mapping[str, Any],
        *plugins: object,
        frames: int = 2,
        resolution: tuple[int, int] | None = RESOLUTION,
        seed: int | None = None,
    ) -> Dataset: ...


def sim_world_renderer(rootpath: Path, tmp_path: Path) -> WorldRenderer:
    """What the `sim_world` fixture gives a test: `render(world, *plugins, frames=2)`
    renders into a new folder under `tmp_path`; a relative world path is taken from
    `rootpath` (the project's root), else from the current directory."""
    runs = itertools.count()

    def render(
        world: Path | str | Mapping[str, Any],
        *plugins: object,
        frames: int = 2,
        resolution: tuple[int, int] | None = RESOLUTION,
        seed: int | None = None,
    ) -> Dataset:
        if isinstance(world, (str, Path)) and not Path(world).is_absolute():
            rooted = rootpath / world
            world = rooted if rooted.exists() else Path(world)
        out = tmp_path / f"sim-world-{next(runs)}"
        return render_world(world, out, *plugins, frames=frames, resolution=resolution, seed=seed)

    return render


FIXTURES = "simulator.testing.fixtures"


def pytest_configure(config: Any) -> None:
    """pytest hook, run when a test suite names this module in `pytest_plugins`: adds the
    `sim_world` fixture. (pytest is imported here, so that importing simulator.testing
    never needs it.)"""
    import pytest

    class Fixtures:
        @pytest.fixture
        def sim_world(self, request: Any, tmp_path: Path) -> WorldRenderer:
            """Render a world with plugin modules registered for this call only:
            `sim_world("worlds/example.toml", my_plugin, frames=2)` returns a `Dataset`.
            Relative world paths are taken from the project's root; frames are 96 x 72
            unless `resolution` says otherwise."""
            return sim_world_renderer(Path(request.config.rootpath), tmp_path)

    if not config.pluginmanager.has_plugin(FIXTURES):
        config.pluginmanager.register(Fixtures(), FIXTURES)
