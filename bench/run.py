"""sim's benchmark: whole-process frames/s and peak memory per label configuration.

    python3 bench/run.py [--frames 200] [--only MODE ...]

Each mode runs as its own command (`sim run` as a user runs it, or the engine alone for
render-only); peak memory is ru_maxrss of that command's process (with workers: the main
process; each worker is a process of about the same size). Prints a Markdown table for
docs/performance.md. No timing here is asserted by any test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORLD = Path(__file__).with_name("world.toml")

# mode -> (labels, writers); None = render only: the engine draws both passes and reads them
# back, no labels derived, nothing encoded or written.
SPINE = (["boxes", "masks", "instance", "depth"], ["coco", "yolo"])
DEFAULT = (
    ["boxes", "masks", "visibility", "boxes3d", "keypoints", "instance", "semantic", "depth"],
    ["coco", "yolo", "native"],
)

# mode -> (labels, writers, workers); None = render only: one process draws both passes and
# reads them back, no labels derived, nothing encoded or written.
MODES: dict[str, tuple[list[str], list[str], int] | None] = {
    "render only (1 process)": None,
    "spine: rgb jpg, instance+depth png, coco rle, yolo (1 worker)": (*SPINE, 1),
    "spine (2 workers)": (*SPINE, 2),
    "+ visibility (solo passes, 2 workers)": (
        ["boxes", "masks", "visibility", "instance", "depth"],
        SPINE[1],
        2,
    ),
    "+ amodal masks (2 workers)": (
        ["boxes", "masks", "visibility", "amodal_masks", "instance", "depth"],
        SPINE[1],
        2,
    ),
    "default labels + boxes3d, keypoints, semantic, native (1 worker)": (*DEFAULT, 1),
    "default labels (2 workers)": (*DEFAULT, 2),
}

RENDER_ONLY = """
import sys, time
from simulator.engine import Engine
from simulator.pipeline import Pipeline, host_for
from simulator.worldfile import load_world
world = load_world(sys.argv[1])
pipeline = Pipeline(world, host_for(world))
engine = Engine(*world.camera.resolution)
frames = int(sys.argv[2])
start = time.perf_counter()
for i in range(frames):
    engine.render(pipeline.build_scene(i))
print(time.perf_counter() - start)
"""


def _world_with(labels: list[str], writers: list[str], directory: Path) -> Path:
    text = WORLD.read_text()
    text = text.split("[output]")[0] + (
        f'[output]\nimage_format = "jpg"\nlabels = {json.dumps(labels)}\n'
        f"writers = {json.dumps(writers)}\n"
    )
    path = directory / "world.toml"
    path.write_text(text)
    return path


def measure(mode: str, frames: int) -> dict[str, float]:
    config = MODES[mode]
    with tempfile.TemporaryDirectory() as directory:
        if config is None:
            command = [sys.executable, "-c", RENDER_ONLY, str(WORLD), str(frames)]
        else:
            labels, writers, workers = config
            world = _world_with(labels, writers, Path(directory))
            command = [
                "sim",
                "run",
                str(world),
                "--out",
                f"{directory}/out",
                "--frames",
                str(frames),
                "--workers",
                str(workers),
                "--quiet",
            ]
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own peak memory
        seconds = time.perf_counter() - start
        if status != 0:
            raise SystemExit(
                f"{mode} failed: {child.stderr.read().decode() if child.stderr else ''}"
            )
    return {"seconds": seconds, "fps": frames / seconds, "peak_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--only", nargs="*", choices=list(MODES), default=list(MODES))
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}; {args.frames} frames of bench/world.toml"
    )
    print(
        "\n| mode | frames/s (whole process) | seconds | peak RSS (MB) |\n| --- | --- | --- | --- |"
    )
    for mode in args.only:
        result = measure(mode, args.frames)
        print(
            f"| {mode} | {result['fps']:.1f} | {result['seconds']:.1f} | {result['peak_mb']:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
