"""What sim's Cycles backend costs per frame over a bare bpy loop rendering the same scene.

    python3 bench/cycles_overhead.py [--world worlds/pipes.toml] [--frames 8] [--samples 16]

Needs the cycles extra (pip install -e ".[cycles]"). Per frame, in one process, in turns
(which of the two goes first alternates, so drift in the machine's speed falls on both):

- sim: `CyclesRenderer.render` of the frame's scene, the whole backend: the scene kept in
  step with sim's (objects pooled, materials and lights set, the camera from K), the render,
  the EXR read back and sim's film (exposure, tone curve, 8 bits).
- bare: what a bpy script of its own does for the very same Blender scene: set the pose of
  every visible object (the matrices sim set, assigned again, so Blender updates the objects'
  transforms and Cycles rebuilds what a moved object needs, as it does for sim's frame), then
  `bpy.ops.render.render()` and save the render as the same EXR.

The difference is sim's overhead: the sync, reading the EXR and the film. Each is timed by
the wall clock and by the CPU time of the process (every thread's: Cycles renders on all
cores), which a machine shared with other work disturbs far less. Prints both per frame and
the ratios of the medians; the last line is
`cycles overhead: sim <s> s, bare bpy <s> s per frame, ratio <r> (CPU time <r>) over <n> frames`.
No test asserts a timing; the figures go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import bpy

from simulator.capture.pipeline import Pipeline, host_for
from simulator.cycles import frame_seed, open_cycles
from simulator.engine import Engine
from simulator.engine.film import film_gain
from simulator.world.load import load_world

HERE = Path(__file__).parent


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare_frame(scene: object, path: Path) -> None:
    """A bare script's frame: poses set, render, save."""
    for ob in scene.objects:  # type: ignore[attr-defined]
        if not ob.hide_render:
            ob.matrix_world = ob.matrix_world.copy()
    bpy.ops.render.render()
    bpy.data.images["Render Result"].save_render(str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, default=HERE.parent / "worlds" / "pipes.toml")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--samples", type=int, default=16)
    args = parser.parse_args()
    world = load_world(args.world)
    width, height = world.camera.resolution
    pipeline = Pipeline(world, host_for(world))
    engine = Engine(width, height)  # the labels' engine: its environments meter the film
    tracer = open_cycles(width, height, engine.geometry.drawn, samples=args.samples, device="cpu")
    blender = tracer.scene  # type: ignore[attr-defined]
    folder = Path(tempfile.mkdtemp(prefix="sim-cycles-bench-"))
    scene = pipeline.build_scene(0)
    tracer.render(scene, film_gain(scene, engine.environments), 0)  # builds what frame 0 needs
    sim_times, bare_times, sim_cpu, bare_cpu = [], [], [], []
    for index in range(1, args.frames + 1):
        scene = pipeline.build_scene(index)
        engine.render(scene)  # uploads the frame's environment, as the capture does
        gain = film_gain(scene, engine.environments)

        def sim() -> None:
            tracer.render(scene, gain, frame_seed(world.world.seed, index))  # noqa: B023

        def bare() -> None:
            bare_frame(blender, folder / "bare.exr")

        order = (sim, bare) if index % 2 else (bare, sim)
        if order[0] is bare:  # the bare loop renders the scene sim has set up for this frame
            tracer.sync.set(scene)  # type: ignore[attr-defined]
        timings, cpu = {}, {}
        for step in order:
            began, used = time.perf_counter(), cpu_seconds()
            step()
            timings[step.__name__] = time.perf_counter() - began
            cpu[step.__name__] = cpu_seconds() - used
        sim_times.append(timings["sim"])
        bare_times.append(timings["bare"])
        sim_cpu.append(cpu["sim"])
        bare_cpu.append(cpu["bare"])
        print(
            f"frame {index}: sim {timings['sim']:.3f} s ({cpu['sim']:.2f} s CPU), "
            f"bare {timings['bare']:.3f} s ({cpu['bare']:.2f} s CPU)"
        )
    tracer.close()
    sim_s, bare_s = statistics.median(sim_times), statistics.median(bare_times)
    cpu_ratio = statistics.median(sim_cpu) / statistics.median(bare_cpu)
    print(
        f"cycles overhead: sim {sim_s:.3f} s, bare bpy {bare_s:.3f} s per frame, "
        f"ratio {sim_s / bare_s:.3f} (CPU time {cpu_ratio:.3f}) over {len(sim_times)} frames"
    )


if __name__ == "__main__":
    main()
