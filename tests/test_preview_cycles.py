"""`sim preview` of a world whose RGB is path-traced (`[render] renderer = "cycles"`).

The preview is for tuning at interactive speed: it draws such a world with the rasterizer,
says once (stderr and the HUD) that the dataset is path-traced, and `p` path-traces the shown
frame in a process of its own, exactly as `sim run` renders it. Under Xvfb, as
tests/test_preview.py; the window's pixels are compared with the images two `sim run`s wrote
(the world as it is, and rasterized). Needs the cycles extra; CI installs it.
"""

from __future__ import annotations

import importlib.util
import textwrap

import numpy as np
import pytest
from conftest import SMALL_WORLD
from PIL import Image
from test_preview import Window, display, enlarged  # noqa: F401 (display: the fixture)

from simulator.preview.keys import ViewState, handle
from simulator.preview.traced import note, rasterized
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

CYCLES_WORLD = (
    SMALL_WORLD
    + """
[render]
renderer = "cycles"
samples = 4

[output]
image_format = "png"
"""
)


def test_p_asks_for_a_path_traced_frame():
    assert handle(ViewState(index=0, rate=1.0, frames=4), "p") == "trace"


def test_the_preview_draws_a_cycles_world_rasterized(write_world):
    world = load_world(write_world(textwrap.dedent(CYCLES_WORLD)))
    drawn = rasterized(world)
    assert (world.render.renderer, drawn.render.renderer) == ("cycles", "panda3d")
    assert drawn.render.samples == 4 and drawn.camera == world.camera
    assert "Cycles" in note(world) and "press p" in note(world)


@pytest.mark.skipif(
    importlib.util.find_spec("bpy") is None,
    reason="the cycles extra (pip install -e '.[cycles]')",
)
def test_a_cycles_world_is_shown_rasterized_and_path_traced_on_p(display, write_world, tmp_path):  # noqa: F811
    path = write_world(textwrap.dedent(CYCLES_WORLD))
    world = load_world(path)
    run(world, RunOptions(tmp_path / "traced", frames=1))
    run(rasterized(world), RunOptions(tmp_path / "raster", frames=1))
    traced, raster = (
        np.asarray(Image.open(tmp_path / kind / "images/000000.png"))
        for kind in ("traced", "raster")
    )
    assert not np.array_equal(traced, raster)
    saved = tmp_path / "saved"
    window = Window.preview(
        display, path, tmp_path, "--rate", "0", "--scale", "4", "--save-dir", str(saved)
    )
    try:
        window.key("o")  # overlays off: the frame's RGB alone
        window.shows(enlarged(raster), "frame 0 drawn by the rasterizer")
        window.key("p")
        window.wait_for(
            lambda canvas: np.array_equal(window.frame(canvas), enlarged(traced)),
            "frame 0 path-traced by Cycles",
            seconds=180,
        )
        window.key("s")  # saves the path-traced image it shows
        window.wait_for(lambda _: (saved / "small-000000.png").is_file(), "the saved frame")
        assert np.array_equal(np.asarray(Image.open(saved / "small-000000.png")), traced)
        window.key("Right")  # the next frame: rasterized again
        window.wait_for(
            lambda canvas: not np.array_equal(window.frame(canvas), enlarged(traced)),
            "frame 1",
        )
        window.key("q")
        assert window.process.wait(timeout=60) == 0
        lines = window.stderr().splitlines()
        assert lines.count(note(world)) == 1
        assert "Traceback" not in window.stderr() and "error" not in window.stderr()
    finally:
        window.close()
