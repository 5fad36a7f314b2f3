"""sim's benchmark: frames/s and peak memory per label configuration.

    python3 bench/run.py [--frames 1000] [--only MODE ...]

The "world:" modes run a bundled world (worlds/*.toml) as a user runs it, with its own label
set and writers, at 640x480 (shapes.toml is drawn at 320x240 by its file) on 2 workers.

Each mode runs as its own command (`sim run` as a user runs it, or the engine alone for
render-only), twice: for `--frames` frames and for twice as many. "Whole process" is the
first run's frames over its wall time, start-up included; "steady" is the extra frames of the
second run over its extra time, which cancels start-up (imports, GL contexts, worker
processes, the validation frame): the rate a long run settles at. Peak memory is ru_maxrss of
the command's process (with workers: the main process, which renders too; each worker is a
process of about the same size). Prints a Markdown table for docs/performance.md. No test
asserts any timing here.

"CPU ms a frame" is the steady frames' share of the processor time the command used (user and
system time of the command and every process it waited for: its workers, llvmpipe's threads
included), the extra CPU time of the second run over its extra frames. On this project's
shared 2-core machines the wall-clock rates move by 20 % or more with whatever else runs;
CPU time moves much less, so it is the figure to compare between commits. "2-core bound" is
what that CPU time allows on 2 cores kept busy (2000 / CPU ms): the steady rate of a quiet
machine cannot exceed it.

Every run writes into its own folder under `--work-dir` (default: a new temporary folder), and
nothing is deleted until all runs are done: on ext4 without a journal, creating files soon
after thousands were deleted is slower (the kernel skips inodes freed in the last minutes, and
scans them on every file it creates), which would make each run pay for the one before.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
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

# mode -> (labels, writers, workers); an int = render only in that many processes: each draws
# the frame pass and reads its targets back, no labels derived, nothing encoded or written.
MODES: dict[str, tuple[list[str], list[str], int] | int] = {
    "render only (1 process)": 1,
    "render only (2 processes)": 2,
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
    "default labels, realistic preset (2 workers)": (*DEFAULT, 2),
    "default labels, realistic preset, under a sky (2 workers)": (*DEFAULT, 2),
}
# The modes above draw the bench scene in the fast preset (sim's old look), but these:
REALISTIC = {
    "default labels, realistic preset (2 workers)",
    "default labels, realistic preset, under a sky (2 workers)",
}
# ... and this one lights the bench scene with the sky randomizer instead of its key light:
# image-based light from a Preetham sky and a sun casting soft shadows (realistic light).
SKY = {"default labels, realistic preset, under a sky (2 workers)"}
_KEY_LIGHT = '[[randomizers]]\ntype = "light"\n'
_SKY_LIGHT = '[[randomizers]]\ntype = "sky"\n'


# mode -> a bundled world, run as it is but for the resolution (640x480), on 2 workers.
ROOT = Path(__file__).resolve().parent.parent
WORLDS = {
    f"world: {name}{look} (2 workers)": (ROOT / "worlds" / f"{name}.toml", preset)
    for name in ("pipes", "tabletop", "shapes", "parts", "movi", "pipes_clip")
    for look, preset in (("", None), (", fast preset", "fast"))
}

RENDER_ONLY = """
import sys, time
from simulator.engine import Engine
from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import load_world
world = load_world(sys.argv[1])
pipeline = Pipeline(world, host_for(world))
engine = Engine(*world.camera.resolution, normals=False)
first, count = int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + count):
    engine.render(pipeline.build_scene(i))
"""


def _world_with(
    labels: list[str], writers: list[str], directory: Path, preset: str, sky: bool = False
) -> Path:
    text = _with_preset(WORLD.read_text(), preset)
    if sky:
        assert _KEY_LIGHT in text, "bench/world.toml's light randomizer"
        text = text.replace(_KEY_LIGHT, _SKY_LIGHT)
    text = text.split("[output]")[0] + (
        f'[output]\nimage_format = "jpg"\nlabels = {json.dumps(labels)}\n'
        f"writers = {json.dumps(writers)}\n"
    )
    path = directory / "world.toml"
    path.write_text(text)
    return path


def _with_preset(text: str, preset: str | None) -> str:
    """The world with `[render] preset` set (None: as it is)."""
    if preset is None:
        return text
    text = re.sub(r"(?m)^preset = .*$", "", text)
    if "[render]" not in text:
        text = text.replace("[[spawners]]", "[render]\n\n[[spawners]]", 1)
    return text.replace("[render]", f'[render]\npreset = "{preset}"', 1)


def _bundled(source: Path, directory: Path, preset: str | None) -> Path:
    """A copy of a bundled world drawn at 640x480 (in `preset`, when given), everything else
    as it is."""
    text = re.sub(r"(?m)^resolution = .*$", "resolution = [640, 480]", source.read_text())
    text = _with_preset(text, preset)
    path = directory / source.name
    path.write_text(text)
    for folder in source.parent.iterdir():  # the assets it names relative to itself
        if folder.is_dir() and not (directory / folder.name).exists():
            (directory / folder.name).symlink_to(folder, target_is_directory=True)
    return path


def _sim_run(world: Path, directory: str, frames: int, workers: int) -> list[str]:
    return [
        "sim", "run", str(world), "--out", f"{directory}/out",
        "--frames", str(frames), "--workers", str(workers), "--quiet",
    ]  # fmt: skip


def run_once(mode: str, frames: int, work: Path) -> tuple[float, float, float]:
    """Seconds, CPU seconds and the peak RSS (MB) of one run of `mode` over `frames`
    frames."""
    directory = tempfile.mkdtemp(dir=work)
    if mode in WORLDS:  # (the world file, its preset or None)
        world = _bundled(*WORLDS[mode][:1], Path(directory), WORLDS[mode][1])
        return _time(mode, [_sim_run(world, directory, frames, 2)])
    config = MODES[mode]
    if isinstance(config, int):  # render only, frames split over `config` processes
        share = -(-frames // config)
        fast = Path(directory) / "world.toml"
        fast.write_text(_with_preset(WORLD.read_text(), "fast"))
        commands = [
            [sys.executable, "-c", RENDER_ONLY, str(fast), str(p * share), str(share)]
            for p in range(config)
        ]
    else:
        labels, writers, workers = config
        preset = "realistic" if mode in REALISTIC else "fast"
        world = _world_with(labels, writers, Path(directory), preset, sky=mode in SKY)
        commands = [_sim_run(world, directory, frames, workers)]
    return _time(mode, commands)


def _time(mode: str, commands: list[list[str]]) -> tuple[float, float, float]:
    # As on a user's machine, sim's own modules load from bytecode written by an earlier run:
    # where the environment says not to write it (this project's sandboxes do), every process
    # would compile sim's sources again at start-up (0.1 to 0.4 s a process here).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    start = time.perf_counter()
    children = [
        subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        for c in commands
    ]
    peak = cpu = 0.0
    for child in children:
        # this child's own peak memory; its CPU time with that of the processes it reaped
        _, status, usage = os.wait4(child.pid, 0)
        peak = max(peak, usage.ru_maxrss / 1024)
        cpu += usage.ru_utime + usage.ru_stime
        if status != 0:
            error = child.stderr.read().decode() if child.stderr else ""
            raise SystemExit(f"{mode} failed: {error}")
    return time.perf_counter() - start, cpu, peak


def measure(mode: str, frames: int, work: Path) -> dict[str, float]:
    seconds, cpu, peak = run_once(mode, frames, work)
    double, cpu_double, peak_double = run_once(mode, 2 * frames, work)
    cpu_ms = 1000 * (cpu_double - cpu) / frames
    return {
        "seconds": seconds,
        "fps": frames / seconds,
        "steady_fps": frames / (double - seconds),
        "cpu_ms": cpu_ms,
        "bound_fps": 2000 / cpu_ms,
        "peak_mb": max(peak, peak_double),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--only", nargs="*", choices=[*MODES, *WORLDS], default=list(MODES))
    parser.add_argument("--work-dir", type=Path, help="where the runs write (default: a temp dir)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sim-bench-", dir=args.work_dir))
    print(
        f"machine: {platform.machine()}, {platform.processor() or 'cpu'}, "
        f"python {platform.python_version()}; {args.frames} frames of bench/world.toml"
        " (or of the bundled world)"
    )
    print(
        "\n| mode | frames/s, steady | frames/s, whole process | seconds | CPU ms a frame, steady "
        "| 2-core bound (frames/s) | peak RSS (MB) |\n| --- | --- | --- | --- | --- | --- | --- |"
    )
    try:
        for mode in args.only:
            _report(mode, measure(mode, args.frames, work))
    finally:
        shutil.rmtree(work)  # only now: see the module's docstring


def _report(mode: str, r: dict[str, float]) -> None:
    print(
        f"| {mode} | {r['steady_fps']:.1f} | {r['fps']:.1f} | {r['seconds']:.1f} "
        f"| {r['cpu_ms']:.1f} | {r['bound_fps']:.1f} | {r['peak_mb']:.0f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()
