"""Settle alone: milliseconds a frame spent in the settle randomizer, per bundled world.

    python3 bench/settle.py [--frames 100] [--only parts pipes]

Builds the scenes of frames 0..N-1 of each bundled world (worlds/*.toml) in this one process,
without rendering, and times every call of the settle randomizer (shape building included).
For each world it prints mean and median ms a frame, how many frames came to rest before
`max_seconds`, the simulated seconds stepped (mean and largest), and the bodies still moving
when time ran out. Worlds without a settle randomizer are listed as such. The first frame of a
world builds its collision shapes; it is timed like the rest. No test asserts any timing here.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from sim_plugins import physics
from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import load_world

ROOT = Path(__file__).resolve().parent.parent
WORLDS = sorted(p.stem for p in (ROOT / "worlds").glob("*.toml"))


class _Counting:
    """A Bullet world that adds up the simulated time it is stepped."""

    def __init__(self, world, log: dict) -> None:
        self._world, self._log = world, log

    def do_physics(self, dt, max_steps=1, step=1 / 60):
        self._log["seconds"] += dt
        return self._world.do_physics(dt, max_steps, step)

    def __getattr__(self, name):
        return getattr(self._world, name)


def measure(name: str, frames: int) -> dict | None:
    """Settle's cost on `frames` frames of the bundled world `name`; None: it has no settle."""
    world = load_world(ROOT / "worlds" / f"{name}.toml")
    if not any(r.type == "settle" for r in world.randomizers):
        return None
    pipeline = Pipeline(world, host_for(world))
    log = {"seconds": 0.0}
    step, randomize = physics._step_to_rest, physics.Settle.randomize
    rows: list[tuple[float, float, bool, int]] = []

    def counted(bullet, bodies, p, *scale):
        log["seconds"] = 0.0
        rested = step(_Counting(bullet, log), bodies, p, *scale)
        log["moving"] = sum(body.is_active() for body in bodies)
        return rested

    def timed(self, ctx, entities):
        start = time.perf_counter()
        randomize(self, ctx, entities)
        rows.append((time.perf_counter() - start, log["seconds"], not log["moving"], log["moving"]))

    physics._step_to_rest, physics.Settle.randomize = counted, timed
    try:
        for frame in range(frames):
            pipeline.build_scene(frame)
    finally:
        physics._step_to_rest, physics.Settle.randomize = step, randomize
    ms = [1000 * r[0] for r in rows]
    return {
        "mean": statistics.fmean(ms),
        "median": statistics.median(ms),
        "rested": sum(r[2] for r in rows),
        "frames": len(rows),
        "sim_mean": statistics.fmean(r[1] for r in rows),
        "sim_max": max(r[1] for r in rows),
        "moving": sum(r[3] for r in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--only", nargs="*", choices=WORLDS, default=WORLDS)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, python {platform.python_version()}; "
        f"{args.frames} frames of each bundled world, settle only, one process\n"
    )
    print(
        "| world | ms a frame, mean | median | frames at rest | simulated s, mean | largest "
        "| bodies still moving |\n| --- | --- | --- | --- | --- | --- | --- |"
    )
    for name in args.only:
        r = measure(name, args.frames)
        if r is None:
            print(f"| {name} | no settle | | | | | |", flush=True)
            continue
        print(
            f"| {name} | {r['mean']:.1f} | {r['median']:.1f} | {r['rested']}/{r['frames']} "
            f"| {r['sim_mean']:.2f} | {r['sim_max']:.2f} | {r['moving']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
