"""`sim preview`: the window shows what `sim run` captures, with its labels, live.

The window tests start Xvfb on a free display (`Xvfb -displayfd`), run the preview as a
subprocess with DISPLAY set for it alone, press keys with xdotool and read the X screen back
with Pillow (XCB). They need the `Xvfb` and `xdotool` binaries (.ci/run installs them): a
machine without Xvfb skips them, except in CI (CI set), where that fails.

`python3 tests/test_preview.py docs/images/preview.png` makes the docs' screenshot.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageGrab

from simulator.capture.frame import Renderer
from simulator.dataset.encode import read_png16
from simulator.preview.keys import Orbit, ViewState, handle
from simulator.preview.main import NO_DISPLAY, preview_main
from simulator.preview.view import ERROR_RED, FREE_VIEW, HUD_HEIGHT, layout, turbo
from simulator.preview.watch import Watcher
from simulator.report.overlay import instance_color
from simulator.run.runner import RunOptions, run
from simulator.scene.scene import CameraState
from simulator.world.load import load_world

ROOT = Path(__file__).parent.parent
SCALE = 4
PLUGIN = """
from simulator import hookimpl

@hookimpl
def sim_register_spawners(register):
    pass
"""

# --- without a window: keys, view state, layout, reload polling --------------------------


def test_typed_digits_and_enter_jump_to_a_frame():
    state = ViewState(index=3, rate=1.0, frames=10)
    for key in ["1", "2", "backspace", "7"]:
        assert handle(state, key) is None
    assert state.typed == "17" and state.index == 3
    handle(state, "enter")
    assert state.index == 17 and state.typed is None
    handle(state, "4")
    handle(state, "escape")  # cancels the typing, does not quit
    assert state.index == 17 and state.typed is None
    assert handle(state, "escape") == "quit"


def test_step_toggle_cycle_and_rate_keys():
    state = ViewState(index=0, rate=2.0, frames=10)
    handle(state, "arrow_left")
    assert state.index == 0  # never below frame 0
    handle(state, "arrow_right")
    handle(state, ".")
    assert state.index == 2
    handle(state, "space")
    assert state.paused
    handle(state, "b")
    assert "boxes" not in state.overlays
    handle(state, "o")
    assert not state.overlays
    handle(state, "o")
    assert state.overlays == {"masks", "keypoints"}
    assert [handle(state, "v") or state.shown_pass for _ in range(4)] == [
        "semantic",
        "depth",
        "normals",
        "color",
    ]
    handle(state, "]")
    assert state.rate == 4.0
    state.rate = 1 / 64
    handle(state, "[")
    assert state.rate == 0.0  # stepping on keys only
    handle(state, "]")
    assert state.rate == 1.0
    assert handle(state, "s") == "save"


def test_free_view_starts_at_the_capture_camera_and_orbits():
    camera = CameraState(160, 120, position=np.array([3.0, -4.0, 2.0]), target=np.zeros(3))
    state = ViewState(index=0, rate=0, frames=1)
    handle(state, "f", camera)
    assert state.orbit is not None
    assert np.allclose(state.orbit.position(), camera.position)
    assert np.allclose(state.orbit.camera(camera).cam_to_world(), camera.cam_to_world())
    handle(state, "arrow_left", camera)  # orbits in the free view instead of stepping
    assert state.index == 0 and not np.allclose(state.orbit.position(), camera.position)
    handle(state, "page_up", camera)
    assert state.orbit.distance < np.linalg.norm(camera.position)
    handle(state, "f", camera)
    assert state.orbit is None


def test_orbit_pan_moves_the_target_across_the_view():
    orbit = Orbit.from_camera(CameraState(4, 3, position=np.array([0.0, -5.0, 0.0])))
    orbit.pan(0.1, 0.0)  # to the right of a camera looking along +y: +x
    assert np.allclose(orbit.target, [0.5, 0.0, 0.0])


def test_layout_prefers_whole_enlargements_and_leaves_room_for_the_hud():
    where = layout((700, 500), (160, 120))
    assert where.scale == 3.0 and (where.image_width, where.image_height) == (480, 360)
    assert where.x == (700 - 480) // 2 and where.y + where.image_height <= 500 - HUD_HEIGHT
    assert layout((320, 100 + HUD_HEIGHT), (640, 480)).scale < 1


def test_turbo_runs_from_blue_to_red():
    blue, red = turbo(np.array([0.15, 0.9]))
    assert blue[2] > 2 * blue[0] and red[0] > 2 * red[2]


def test_watcher_reports_a_change_once_it_has_settled(tmp_path):
    path = tmp_path / "world.toml"
    path.write_text("a")
    watcher = Watcher([path, tmp_path / "missing.py"])
    assert not watcher.changed(10.0)
    path.write_text("bb")
    assert not watcher.changed(10.2)  # seen, not settled yet
    assert watcher.changed(10.5)
    assert not watcher.changed(10.8)  # reported once


def test_without_a_display_one_line_says_so_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    result = subprocess.run(
        [sys.executable, "-m", "simulator.preview", str(tmp_path / "none.toml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [NO_DISPLAY]
    assert "display" in NO_DISPLAY and "xvfb-run" in NO_DISPLAY


def test_preview_main_checks_the_display_first(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("DISPLAY", raising=False)
    assert preview_main(tmp_path / "none.toml") == 2
    assert capsys.readouterr().err.strip() == NO_DISPLAY


# --- in a window, under Xvfb ---------------------------------------------------------------


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    """A fresh Xvfb on a display number it picks itself."""
    if shutil.which("Xvfb") is None and not os.environ.get("CI"):
        pytest.skip("Xvfb is not installed (apt-get install xvfb xdotool)")
    for tool in ("Xvfb", "xdotool"):
        assert shutil.which(tool), f"{tool} is missing: .ci/run installs xvfb and xdotool"
    with xvfb() as name:
        yield name


@contextlib.contextmanager
def xvfb() -> Iterator[str]:
    """Run Xvfb on the first free display; yields its name (":N")."""
    read, write = os.pipe()
    # -noreset: no server reset, refusing clients meanwhile, each time the last client leaves
    options = ["-screen", "0", "1024x768x24", "-nolisten", "tcp", "-noreset"]
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write), *options],
        pass_fds=(write,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write)
    try:  # the read end stays open while the server runs: it may write there again
        ready, _, _ = select.select([read], [], [], 20)
        number = os.read(read, 64).decode().strip() if ready else ""
        if not number:
            raise RuntimeError("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        os.close(read)


class Window:
    """A window on `display`, found by its title, and the process showing it: keys in,
    screen pixels out. `preview` starts a `sim preview` process."""

    def __init__(
        self, display: str, title: str, process: subprocess.Popen[str], logs: Path
    ) -> None:
        self.display, self.process, self.logs = display, process, logs
        self.env = {**os.environ, "DISPLAY": display}
        self.id = self._find(title)
        geometry = dict(
            line.split("=", 1)
            for line in self._xdotool("getwindowgeometry", "--shell", self.id).split()
        )
        self.x, self.y = int(geometry["X"]), int(geometry["Y"])
        self.width, self.height = int(geometry["WIDTH"]), int(geometry["HEIGHT"])

    @classmethod
    def preview(cls, display: str, world: Path, logs: Path, *options: str) -> Window:
        command = [sys.executable, "-m", "simulator.preview", str(world), *options]
        env = {**os.environ, "DISPLAY": display}
        with (logs / "out.txt").open("w") as out, (logs / "err.txt").open("w") as err:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        return cls(display, "^sim preview", process, logs)

    def _xdotool(self, *args: str) -> str:
        result = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=20
        )
        return result.stdout

    def _find(self, title: str) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = self._xdotool("search", "--name", title).split()
            if found:
                return found[0]
            assert self.process.poll() is None, self.stderr()
            time.sleep(0.1)
        raise AssertionError(f"no window {title!r} appeared\n{self.stderr()}")

    def stderr(self) -> str:
        log = self.logs / "err.txt"
        return log.read_text() if log.is_file() else ""

    def key(self, *keys: str) -> None:
        self._xdotool("key", "--window", self.id, *keys)

    def canvas(self) -> np.ndarray:
        """The window's pixels, read from the X screen."""
        screen = np.asarray(ImageGrab.grab(xdisplay=self.display).convert("RGB"))
        return screen[self.y : self.y + self.height, self.x : self.x + self.width]

    def frame(self, canvas: np.ndarray | None = None) -> np.ndarray:
        """The part of the window showing the frame (of the 160 x 120 small world)."""
        where = layout((self.width, self.height), (160, 120))
        canvas = self.canvas() if canvas is None else canvas
        return canvas[where.y : where.y + where.image_height, where.x : where.x + where.image_width]

    def wait_for(
        self, check: Callable[[np.ndarray], bool], what: str, seconds: float = 10
    ) -> float:
        """Poll the screen until `check(canvas)`; returns how long that took."""
        began = time.monotonic()
        while time.monotonic() - began < seconds:
            if check(self.canvas()):
                return time.monotonic() - began
            assert self.process.poll() is None, f"the preview exited:\n{self.stderr()}"
            time.sleep(0.05)
        Image.fromarray(self.canvas()).save(self.logs / "timeout.png")
        raise AssertionError(f"timed out waiting for {what}\n{self.stderr()}")

    def shows(self, expected: np.ndarray, what: str) -> None:
        self.wait_for(lambda canvas: np.array_equal(self.frame(canvas), expected), what)

    def close(self) -> int:
        if self.process.poll() is None:
            self.process.kill()
        return self.process.wait(timeout=10)


def enlarged(image: np.ndarray) -> np.ndarray:
    return image.repeat(SCALE, axis=0).repeat(SCALE, axis=1)


def outline_share(
    frame: np.ndarray, box: list[int], color: tuple[int, int, int], scale: float = SCALE
) -> float:
    """How much of a box's left and right edges (in window pixels) has `color`."""
    x, y, w, h = (round(v * scale) for v in box)
    edges = np.concatenate([frame[y : y + h, x], frame[y : y + h, x + w - 1]])
    return float((edges == color).all(axis=1).mean())


@pytest.fixture
def dataset_world(write_world, tmp_path) -> tuple[Path, Path]:
    """The small world with a local plugin, and frames 0-2 of it as `sim run` writes them
    (PNG images, so the window can be compared pixel for pixel)."""
    (tmp_path / "local.py").write_text(PLUGIN)
    world = write_world()
    extra = '\n[output]\nimage_format = "png"\n\n[plugins]\npaths = ["local.py"]\n'
    world.write_text(world.read_text() + extra)
    run(load_world(world), RunOptions(tmp_path / "dataset", frames=3))
    return world, tmp_path / "dataset"


def test_the_window_shows_captured_frames_labels_steps_saves_and_reloads(
    display, dataset_world, tmp_path
):
    world, dataset = dataset_world
    records = [json.loads(line) for line in (dataset / "frames.jsonl").read_text().splitlines()]
    image = [np.asarray(Image.open(dataset / f"images/{i:06d}.png")) for i in range(3)]
    saved = tmp_path / "saved"
    options = ["--rate", "0", "--scale", "4", "--save-dir", str(saved)]
    window = Window.preview(display, world, tmp_path, *options)
    try:
        assert (window.width, window.height) == (640, 480 + HUD_HEIGHT)

        def boxes_drawn(canvas: np.ndarray) -> bool:  # where frame 0's record says
            frame = window.frame(canvas)
            shares = [
                outline_share(frame, o["bbox"], instance_color(o["instance_id"]))
                for o in records[0]["objects"]
            ]
            return bool(shares) and min(shares) > 0.6

        window.wait_for(boxes_drawn, "frame 0's boxes")

        window.key("o")  # overlays off: exactly the image `sim run` wrote
        window.shows(enlarged(image[0]), "frame 0 as captured")

        window.key("m")  # instance masks alone: tinted where the instance pass says
        instance = enlarged(read_png16(dataset / records[0]["files"]["instance"]))
        tinted = enlarged(image[0]).astype(np.float32)
        for obj in records[0]["objects"]:
            mask = instance == obj["instance_id"]
            tinted[mask] = 0.6 * tinted[mask] + 0.4 * np.array(instance_color(obj["instance_id"]))
        window.wait_for(
            lambda c: (
                np.abs(window.frame(c).astype(int) - tinted.clip(0, 255).astype(int)).max() <= 1
            ),
            "frame 0 with its masks",
        )
        window.key("m", "Right")
        window.shows(enlarged(image[1]), "frame 1 after a step")
        window.key("Left")
        window.shows(enlarged(image[0]), "frame 0 after a step back")
        window.key("2", "Return")
        window.shows(enlarged(image[2]), "frame 2 after typing 2 Enter")

        window.key("s")
        name = "small-000002"
        window.wait_for(lambda _: (saved / f"{name}.json").is_file(), "the saved frame")
        assert np.array_equal(np.asarray(Image.open(saved / f"{name}.png")), image[2])
        record = json.loads((saved / f"{name}.json").read_text())
        assert {**record, "files": None} == {**records[2], "files": None}
        assert (saved / f"{name}-view.png").is_file()

        window.key("f", "Left")  # free view: another camera, framed in orange
        window.wait_for(
            lambda c: (
                (window.frame(c)[1, 1] == FREE_VIEW).all()
                and not np.array_equal(window.frame(c)[8:-8, 8:-8], enlarged(image[2])[8:-8, 8:-8])
            ),
            "the free view",
        )
        window.key("f")  # the capture camera again, nothing of it changed
        window.shows(enlarged(image[2]), "frame 2 again after the free view")

        def banner(canvas: np.ndarray) -> bool:
            return bool((canvas[2:6, :] == ERROR_RED).all(axis=2).mean() > 0.8)

        def banner_gone(canvas: np.ndarray) -> bool:
            return not banner(canvas) and np.array_equal(window.frame(canvas), enlarged(image[2]))

        good = world.read_text()
        world.write_text(good + "\n[camera\n")  # a broken edit
        assert window.wait_for(banner, "the error banner") < 5  # typically 0.3-0.6 s
        below = window.frame()[120:]  # the last good world still shows under the banner
        assert np.array_equal(below, enlarged(image[2])[120:])
        world.write_text(good)
        window.wait_for(banner_gone, "the reloaded world")

        plugin = world.parent / "local.py"
        plugin.write_text(PLUGIN + "\nraise RuntimeError('broken plugin')\n")
        window.wait_for(banner, "the plugin's error")
        plugin.write_text(PLUGIN)
        window.wait_for(banner_gone, "the reloaded plugin")

        window.key("q")
        assert window.process.wait(timeout=20) == 0
        assert "Traceback" not in window.stderr() and "error" not in window.stderr()
    finally:
        window.close()


def test_screenshot_option_saves_the_window_and_exits(display, write_world, tmp_path):
    shot = tmp_path / "shot.png"
    options = ["--scale", "4", "--screenshot", str(shot)]
    result = subprocess.run(
        [sys.executable, "-m", "simulator.preview", str(write_world()), *options],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    picture = np.asarray(Image.open(shot))
    assert picture.shape == (480 + HUD_HEIGHT, 640, 3)
    assert (picture[-HUD_HEIGHT + 2 :, -20:] == 0).all()  # the HUD's black strip, its right end


LIVE = """
import sys
from simulator.preview.live import LiveWindow
from simulator.capture.frame import Renderer
from simulator.world.load import load_world

renderer = Renderer(load_world(sys.argv[1]))
live = LiveWindow("sim run: small", (160, 120))
for index in range(3):
    live.show(renderer.frame(index))
print("shown", flush=True)
sys.stdin.readline()
live.close()
renderer.close()
"""


def test_sim_run_can_show_each_captured_frame_in_a_live_window(display, write_world, tmp_path):
    world = write_world()
    child = subprocess.Popen(
        [sys.executable, "-c", LIVE, str(world)],
        env={**os.environ, "DISPLAY": display},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "shown\n"
        window = Window(display, "^sim run: small", child, tmp_path)
        renderer = Renderer(load_world(world))
        records = [o.record() for o in renderer.frame(2).objects]
        renderer.close()
        scale = layout((window.width, window.height), (160, 120)).scale

        def frame_2_boxes(canvas: np.ndarray) -> bool:
            frame = window.frame(canvas)
            shares = [
                outline_share(frame, o["bbox"], instance_color(o["instance_id"]), scale)
                for o in records
            ]
            return bool(shares) and min(shares) > 0.6

        window.wait_for(frame_2_boxes, "frame 2 with its boxes")
        _, err = child.communicate("\n", timeout=20)
        assert child.returncode == 0, err
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()


def make_docs_screenshot(target: Path) -> None:
    """The tabletop world's frame 3 with 3D boxes, as the preview window shows it."""
    logs = Path(tempfile.mkdtemp(prefix="sim-preview-docs-"))
    with xvfb() as name:
        world = ROOT / "worlds/tabletop.toml"
        window = Window.preview(name, world, logs, "--rate", "0", "--start", "3")
        try:
            time.sleep(1.0)
            window.key("c")
            time.sleep(1.0)
            Image.fromarray(window.canvas()).save(target)
            window.key("q")
            window.process.wait(timeout=20)
        finally:
            window.close()


if __name__ == "__main__":
    make_docs_screenshot(Path(sys.argv[1]))


def test_run_preview_needs_frames_in_this_process(tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    world = tmp_path / "world.toml"
    world.write_text('[world]\nframes = 1\n[[spawners]]\ntype = "primitive"\n')
    result = CliRunner().invoke(
        app, ["run", str(world), "--out", str(tmp_path / "out"), "--preview", "--workers", "2"]
    )
    assert result.exit_code == 2
    assert "--preview shows frames rendered in this process: use --workers 1" in result.output
    assert not (tmp_path / "out").exists()
