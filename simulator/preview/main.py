"""`sim preview`: a window showing a world's frames as `sim run` captures them, live.

Design. The frames come from the capture path itself: a `Renderer` (the offscreen EGL
`Engine`, the pipeline, label derivation), so frame i in the window is byte for byte the
frame `sim run` writes for the same world, seed and index. The window is a plain Panda3D
window showing one composed RGB image (the chosen pass, scaled, with the labels drawn by
PIL, the HUD below) as the texture of a card that fills it. Nothing is drawn twice in two
ways, and the window needs no shaders or scene of its own.

The window (GLX) and the capture engine (EGL) cannot share a thread under libglvnd, so the
engine lives on a render thread (`worker.py`) and the main thread runs the window: it
polls input, watches the world and plugin files, asks the render thread for the frame the
view state wants, and shows each finished frame. The free view renders the same scene
from a user-driven camera on the same engine; the captured frame and its labels stay as
they were, and `f` shows them again.

Hot reload: the world file, its `[plugins] paths` and `--plugins-dir` files are polled;
after a change settles, the world is parsed (errors shown at once) and a new renderer built
and asked for the current frame on the render thread; only if all that works does it
replace the old one. Until then the last good world keeps running, its error on screen.

Modules of this wing: app (the main loop), keys (keys and view state), picture (a rendered
frame as the app holds it), view and draw (composing the picture), window (the Panda3D
window), worker (the render thread), watch (files to reload on), traced (Cycles worlds: shown
rasterized, path-traced on `p` in a process of its own), live (`sim run --preview`: frames
shown as they are captured).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from simulator.errors import SimError
from simulator.preview.app import Preview

NO_DISPLAY = (
    "error: sim preview needs a display and DISPLAY is not set; on a server without one, "
    "run it under a virtual display: xvfb-run -a sim preview WORLD"
)


def display_problem() -> str | None:
    """Why no window can open here, or None (only X11 needs DISPLAY)."""
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        return NO_DISPLAY
    return None


def preview_main(
    world: Path,
    rate: float = 1.0,
    start: int = 0,
    seed: int | None = None,
    plugins_dirs: Sequence[Path] = (),
    scale: float | None = None,
    save_dir: Path | None = None,
    screenshot: Path | None = None,
) -> int:
    """Run the preview window until it is closed; returns the exit code.

    `rate`: frames per second to step through (0: on keys only); `start`: first frame;
    `seed`: overrides the world's; `scale`: window pixels per image pixel (default: the
    largest whole number that fits the screen); `save_dir`: where `s` saves frames
    (default out/preview); `screenshot`: save the window's first full picture as PNG there
    and exit.
    """
    problem = display_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 2

    try:
        app = Preview(world, rate, start, seed, plugins_dirs, scale, save_dir)
    except SimError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    try:
        return app.run(screenshot)
    finally:
        app.close()


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 -m simulator.preview`: the same as `sim preview`."""
    parser = argparse.ArgumentParser(prog="python3 -m simulator.preview", description=__doc__)
    parser.add_argument("world", type=Path)
    parser.add_argument("--rate", type=float, default=1.0)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--plugins-dir", type=Path, action="append", default=[])
    parser.add_argument("--scale", type=float, default=None)
    parser.add_argument("--save-dir", type=Path, default=None)
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        return preview_main(
            args.world,
            args.rate,
            args.start,
            args.seed,
            args.plugins_dir,
            args.scale,
            args.save_dir,
            args.screenshot,
        )
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
