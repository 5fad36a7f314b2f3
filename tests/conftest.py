from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from small_frames import HEIGHT, WIDTH

from simulator.engine import Engine

SMALL_WORLD = """
[world]
name = "small"
seed = 11
frames = 4

[camera]
resolution = [160, 120]

[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "torus"] }
count = { range = [2, 4] }

[[spawners]]
type = "model"
model = "teapot"
category = "teapot"

[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20

[[randomizers]]
type = "position"
targets = ["primitive", "teapot"]

[[randomizers]]
type = "color"

[[randomizers]]
type = "camera_orbit"
"""


@pytest.fixture(scope="module")
def small() -> Engine:
    """A 64 x 48 engine (tests/small_frames.py), one per test module that asks for it."""
    engine = Engine(WIDTH, HEIGHT)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def engine() -> Engine:
    """One small offscreen engine shared by the rendering tests."""
    engine = Engine(160, 120)
    yield engine
    engine.close()


@pytest.fixture
def write_world(tmp_path: Path):
    """Write a world file from TOML text into a fresh directory; returns its path."""

    def write(text: str = SMALL_WORLD, name: str = "world.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return write
