"""What one frame costs the engine alone: render and read back, timed by the wall clock and
by the process's CPU time (every thread's: llvmpipe rasterizes on several), for a world with
`[render]` settings of your choice. For comparing looks on a shared machine, where CPU time
moves far less than frames/s.

    python3 bench/engine_cost.py [--world bench/world.toml] [--preset fast] [--frames 40] \\
        [--set "ambient_occlusion = true" ...]

Scenes are built first (not timed), then 5 are drawn to warm up, then every one is timed.
The world is drawn at 640x480.
"""

from __future__ import annotations

import argparse
import re
import resource
import tempfile
import time
from pathlib import Path

from simulator.capture.frame import Renderer
from simulator.world.load import load_world

HERE = Path(__file__).parent


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def world_text(source: str, preset: str, settings: list[str]) -> str:
    """The world at 640x480 with `[render] preset` and the settings given."""
    text = re.sub(r"(?m)^preset = .*$", "", source)
    if "[render]" not in text:
        text = text.replace("[[spawners]]", "[render]\n\n[[spawners]]", 1)
    lines = "\n".join([f'preset = "{preset}"', *settings])
    text = text.replace("[render]", f"[render]\n{lines}", 1)
    return re.sub(r"resolution = \[\d+, \d+\]", "resolution = [640, 480]", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, default=HERE / "world.toml")
    parser.add_argument("--preset", default="fast", choices=["fast", "realistic"])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--set", action="append", default=[], help="a [render] line")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / args.world.name
        path.write_text(world_text(args.world.read_text(), args.preset, args.set))
        for assets in args.world.parent.iterdir():  # what it names relative to itself
            if assets.is_dir():
                (Path(folder) / assets.name).symlink_to(assets.resolve(), True)
        renderer = Renderer(load_world(path))
    engine = renderer.engine
    scenes = [renderer.pipeline.build_scene(i) for i in range(args.frames)]
    for scene in scenes[:5]:
        engine.render(scene)
    wall, used = 0.0, cpu_seconds()
    for scene in scenes:
        began = time.perf_counter()
        engine.render(scene)
        wall += time.perf_counter() - began
    cpu = cpu_seconds() - used
    renderer.close()
    label = " ".join([args.preset, *args.set])
    print(
        f"{args.world.name} {label}: {1000 * wall / args.frames:.1f} ms a frame (wall), "
        f"{1000 * cpu / args.frames:.1f} ms (CPU)"
    )


if __name__ == "__main__":
    main()
