"""sim against a Blender (bpy) pipeline rendering the same kind of labeled scene, in one run.

    python3 bench/compare.py [--frames 20] [--install]

Blender side: ../shared/peers/blender_baseline.py (see its BLENDER_BASELINE.md): 640x480,
10 primitives on a ground plane, two lights, random poses, colors and camera; RGB PNG, depth
and instance ids, COCO boxes. It runs in its own virtual environment with bpy 5.0.1, created
with --install (a 374 MB download, about 1 GB on disk), never needed by sim itself.

sim side: bench/world.toml with the full label set (RGB JPEG, instance PNG, depth PNG, COCO
with RLE masks, YOLO), all cores. Both are timed as whole processes, start-up included,
over the same number of frames. Prints a Markdown table and the ratios. Over a few frames sim's
time is mostly start-up, so the table also compares per frame: Blender's median frame time
against sim's steady rate (the extra frames of a run STEADY frames longer over its extra time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
STEADY = 1000  # extra sim frames for its steady per-frame rate
PEERS = HERE.parent.parent / "shared" / "peers"
BPY_ENV = Path.home() / ".cache" / "sim" / "bpyenv"
BLENDER = {
    "Blender Workbench": ["--engine", "workbench"],
    "Blender Cycles 16 spp": ["--engine", "cycles", "--samples", "16"],
}


def install(env: Path) -> Path:
    python = env / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "bpy==5.0.1", "OpenEXR==3.5.3"], check=True
        )
    return python


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start, done.stdout


def sim_run(frames: int, directory: Path) -> float:
    seconds, _ = timed(
        [
            "sim",
            "run",
            str(HERE / "world.toml"),
            "--out",
            str(directory / f"sim-{frames}"),
            "--frames",
            str(frames),
            "--quiet",
        ]
    )
    return seconds


def blender_run(python: Path, args: list[str], frames: int, directory: Path) -> tuple[float, dict]:
    out = directory / args[1]
    seconds, stdout = timed(
        [
            str(python),
            str(PEERS / "blender_baseline.py"),
            *args,
            "--warmup",
            "0",
            "--frames",
            str(frames),
            "--out",
            str(out),
        ]
    )
    summary = next(
        json.loads(line[8:]) for line in stdout.splitlines() if line.startswith("SUMMARY ")
    )
    return seconds, summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--install", action="store_true", help=f"create {BPY_ENV} with bpy")
    parser.add_argument("--blender-python", type=Path, default=BPY_ENV / "bin" / "python")
    args = parser.parse_args()
    python = install(BPY_ENV) if args.install else args.blender_python
    if not python.exists():
        raise SystemExit(f"no Blender Python at {python}: pass --install (or --blender-python)")
    print(f"{args.frames} frames, 640x480, whole processes; {os.cpu_count()} CPU cores\n")
    print(
        "| pipeline | seconds | frames/s | sim / this, whole process | sim / this, per frame |\n"
        "| --- | --- | --- | --- | --- |"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sim_seconds = sim_run(args.frames, directory)
        sim_fps = args.frames / sim_seconds
        steady_fps = STEADY / (sim_run(args.frames + STEADY, directory) - sim_seconds)
        print(
            f"| sim (full label set, all cores; steady {1000 / steady_fps:.1f} ms/frame) "
            f"| {sim_seconds:.1f} | {sim_fps:.1f} | 1 | 1 |",
            flush=True,
        )
        for name, blender_args in BLENDER.items():
            seconds, summary = blender_run(python, blender_args, args.frames, directory)
            fps = args.frames / seconds
            print(
                f"| {name} (median {summary['median_frame_s']:.2f} s/frame) | {seconds:.1f} "
                f"| {fps:.2f} | {sim_fps / fps:.0f}x "
                f"| {summary['median_frame_s'] * steady_fps:.0f}x |",
                flush=True,
            )


if __name__ == "__main__":
    main()
