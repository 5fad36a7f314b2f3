"""CPU ms a frame of the engine's frame pass and of label derivation, measured apart.

    python3 bench/label_cost.py WORLD [--frames 60] [--repeats 5]

The world's first `--frames` scenes are built once; then each is drawn (`Engine.render`) and
labeled (`labels.derive.derive`: solo passes, boxes, masks, 3D boxes, keypoints) in turn,
`--repeats` times over. The process's CPU time (every thread: llvmpipe's too) of each part,
per frame, is the least over the repeats: steadier than bench/run.py's whole-run figures on a
shared machine, for changes inside label derivation. Nothing is encoded or written.
"""

from __future__ import annotations

import argparse
import time

from simulator.capture.pipeline import Pipeline, host_for
from simulator.engine import Engine
from simulator.engine.source import SceneSource
from simulator.labels.derive import derive
from simulator.world.load import load_world


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world")
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    world = load_world(args.world)
    pipeline = Pipeline(world, host_for(world))
    engine = Engine(
        *world.camera.resolution,
        normals="normals" in world.output.labels,
        antialias=world.render.setting("antialias"),  # type: ignore[arg-type]
        contact_occlusion=bool(world.render.setting("ambient_occlusion")),
    )
    scenes = [pipeline.build_scene(i) for i in range(args.frames)]
    categories = sorted({e.category for s in scenes for e in s.entities if e.category})
    best = {"render": float("inf"), "derive": float("inf")}
    for _ in range(args.repeats):
        spent = dict.fromkeys(best, 0.0)
        for index, scene in enumerate(scenes):
            start = time.process_time()
            passes = engine.render(scene)
            drawn = time.process_time()
            source = SceneSource(engine, scene)
            derive(index, world.world.seed, scene, passes, categories, world.output.labels, source)
            spent["render"] += drawn - start
            spent["derive"] += time.process_time() - drawn
        for part, seconds in spent.items():
            best[part] = min(best[part], 1000 * seconds / args.frames)
    print(", ".join(f"{part} {ms:.2f} CPU ms a frame" for part, ms in best.items()))


if __name__ == "__main__":
    main()
