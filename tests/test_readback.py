"""Render targets read with glGetTextureImage equal Panda3D's own read-back, bit for bit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from conftest import SMALL_WORLD

from simulator.capture.pipeline import Pipeline, host_for
from simulator.engine.readback import Readback
from simulator.errors import RenderError
from simulator.world.load import load_world


def _scenes(write_world, count: int = 3):
    world = load_world(write_world())
    pipeline = Pipeline(world, host_for(world))
    return [pipeline.build_scene(index) for index in range(count)]


def test_every_target_reads_the_same_directly_and_through_panda3d(engine, write_world):
    readback = engine._readback
    assert readback.direct  # Mesa's llvmpipe and GPU drivers have OpenGL 4.5
    targets = engine._targets
    for scene in _scenes(write_world):
        engine.render(scene)
        first = scene.entities[0].instance_id
        engine.render_alone([[first]])
        for texture, dtype, channels in [
            (targets.color, np.uint8, 3),
            (targets.color, np.uint8, 4),
            (targets.label, np.float32, 4),
            (targets.normal, np.float32, 3),
            (targets.solo, np.float32, 1),
        ]:
            direct = readback.read_direct(texture, np.dtype(dtype), channels).copy()
            panda = readback.read_panda(texture, dtype, channels)
            assert direct.shape == panda.shape == (120, 160, channels)
            assert np.array_equal(direct, panda), texture.get_name()
        solo = readback.read_direct(targets.solo, np.dtype(np.float32), 1)[:, :, 0]
        assert set(np.unique(solo)) <= {0.0, float(first)}
        assert (solo == first).any()


def test_passes_are_identical_without_the_direct_read(engine, write_world):
    direct = engine._readback
    try:
        for scene in _scenes(write_world):
            engine._readback = direct
            fast = engine.render(scene)
            engine._readback = Readback(engine._engine, engine._gsg, direct=False)
            slow = engine.render(scene)
            for name in ("color", "instance", "depth", "distance", "normal"):
                assert np.array_equal(getattr(fast, name), getattr(slow, name)), name
            assert (fast.instance > 0).any() and fast.color.any()
    finally:
        engine._readback = direct


def test_a_direct_read_that_disagrees_once_falls_back_for_good(engine, write_world, monkeypatch):
    engine.render(_scenes(write_world, 1)[0])
    readback = Readback(engine._engine, engine._gsg)
    assert readback.direct
    texture = engine._targets.label
    expected = readback.read_panda(texture, np.float32, 4)
    monkeypatch.setattr(readback, "read_direct", lambda *args: np.zeros_like(expected))
    assert np.array_equal(readback.read(texture, np.float32, 4), expected)
    assert not readback.direct
    assert np.array_equal(readback.read(texture, np.float32, 4), expected)


ODD_SIZE = """
import sys
import numpy as np
from simulator.engine import Engine
from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import load_world

world = load_world(sys.argv[1])
engine = Engine(161, 119)
engine.render(Pipeline(world, host_for(world)).build_scene(0))
readback = engine._readback
for texture, dtype, channels in [
    (engine._targets.color, np.uint8, 3),
    (engine._targets.label, np.float32, 4),
]:
    direct = readback.read_direct(texture, np.dtype(dtype), channels).copy()
    assert direct.shape == (119, 161, channels)
    assert np.array_equal(direct, readback.read_panda(texture, dtype, channels)), texture
assert readback.direct
print("ok")
"""


def test_odd_sizes_read_directly(write_world):
    """Rows of 3-byte pixels whose length is not a multiple of 4 (OpenGL's default alignment).

    In a process of its own: in one process, after an engine of another size has rendered,
    the shared test engine's frame pass uses that engine's vertical field of view (its plane
    depth stays right, its ray distance does not). Found here, not yet understood. `sim run`
    has one engine per process; the preview keeps its old engine when a reloaded world fails
    to render, the one place where two engines of different sizes take turns."""
    world = write_world(SMALL_WORLD.replace("[160, 120]", "[161, 119]"))
    result = subprocess.run(
        [sys.executable, "-c", ODD_SIZE, str(world)], capture_output=True, text=True
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_a_direct_read_that_fails_falls_back_for_good(engine, write_world, monkeypatch):
    engine.render(_scenes(write_world, 1)[0])
    readback = Readback(engine._engine, engine._gsg)
    texture = engine._targets.color
    expected = readback.read_panda(texture, np.uint8, 3)

    def fail(*args):
        raise RenderError("glGetTextureImage failed")

    monkeypatch.setattr(readback, "read_direct", fail)
    assert np.array_equal(readback.read(texture, np.uint8, 3), expected)
    assert not readback.direct


def test_a_window_reads_the_same_pixels_as_the_whole_target(engine, write_world):
    engine.render(_scenes(write_world, 1)[0])
    readback = Readback(engine._engine, engine._gsg)
    for texture, dtype, channels in [
        (engine._targets.color, np.uint8, 3),
        (engine._targets.label, np.float32, 4),
    ]:
        whole = readback.read_panda(texture, dtype, channels)
        for rows, columns in [(slice(0, 120), slice(0, 160)), (slice(7, 93), slice(31, 32))]:
            # the first read of a target is checked against Panda3D's, windows after it direct
            window = readback.read_window(texture, dtype, channels, rows, columns)
            assert np.array_equal(window, whole[rows, columns]), texture.get_name()
        window = readback.read_window(texture, dtype, channels, slice(119, 120), slice(5, 150))
        assert np.array_equal(window, whole[119:120, 5:150])
    assert readback.direct
