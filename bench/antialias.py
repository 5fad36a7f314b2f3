"""Anti-aliasing's quality and cost: none, FXAA and 4x multisampling against a 4 x 4
supersampled render of the same frames (the reference: drawn at 4 times the width and height
without anti-aliasing, averaged over each 4 x 4 block in linear light).

    python3 bench/antialias.py [--world worlds/pipes.toml] [--frames 3,5,8,13]

Each look renders in its own process (the engine's multisampling state is per process), with
llvmpipe on one thread (LP_NUM_THREADS=0) so CPU time is the rendering's own. Errors are the
mean absolute difference in 0-255 levels, on pixels at object edges (next to a change of
instance id) and elsewhere. No test asserts any of it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
LOOKS = {"none": 0, "fxaa": "fxaa", "msaa4": 4}
RENDER = """
import sys, time
from dataclasses import replace
import numpy as np
from simulator.capture.pipeline import Pipeline, host_for
from simulator.engine.renderer import Engine
from simulator.world.load import load_world
world_file, look, frames, out, scale = sys.argv[1:6]
scale = int(scale)
antialias = {"none": 0, "fxaa": "fxaa", "msaa4": 4}[look]
world = load_world(world_file)
pipeline = Pipeline(world, host_for(world))
engine = Engine(640 * scale, 480 * scale, normals=False, antialias=antialias)
scenes = []
for f in [int(x) for x in frames.split(",")]:
    s = pipeline.build_scene(f)
    scenes.append(replace(s, camera=replace(s.camera, width=640 * scale, height=480 * scale)))
images = {}
for i, scene in enumerate(scenes):
    passes = engine.render(scene)
    images[f"color{i}"], images[f"instance{i}"] = passes.color.copy(), passes.instance.copy()
best = 1e9
for _ in range(3):
    began = time.process_time()
    for scene in scenes:
        engine.render(scene)
    best = min(best, (time.process_time() - began) / len(scenes))
np.savez(out, seconds=best, **images)
"""


def linear(c: np.ndarray) -> np.ndarray:
    c = c / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def encoded(light: np.ndarray) -> np.ndarray:
    return np.where(light <= 0.0031308, 12.92 * light, 1.055 * light ** (1 / 2.4) - 0.055) * 255


def edges(instance: np.ndarray) -> np.ndarray:
    """Pixels next to a change of instance id (either side)."""
    edge = np.zeros(instance.shape, bool)
    edge[:, 1:] |= instance[:, 1:] != instance[:, :-1]
    edge[1:, :] |= instance[1:, :] != instance[:-1, :]
    edge[:, :-1] |= edge[:, 1:].copy()
    edge[:-1, :] |= edge[1:, :].copy()
    return edge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, default=ROOT / "worlds" / "pipes.toml")
    parser.add_argument("--frames", default="3,5,8,13")
    args = parser.parse_args()
    env = {**os.environ, "LP_NUM_THREADS": "0"}
    with tempfile.TemporaryDirectory() as folder:
        runs = {**{look: 1 for look in LOOKS}, "reference": 4}
        for look, scale in runs.items():
            drawn = "none" if look == "reference" else look
            command = [sys.executable, "-c", RENDER, str(args.world), drawn, args.frames]
            command += [f"{folder}/{look}.npz", str(scale)]
            subprocess.run(command, check=True, env=env)
        data = {look: dict(np.load(f"{folder}/{look}.npz")) for look in runs}
    count = len(args.frames.split(","))
    print("| anti-aliasing | object edges | elsewhere | CPU ms a frame |")
    print("| --- | --- | --- | --- |")
    for look in LOOKS:
        errors = []
        for i in range(count):
            big = linear(data["reference"][f"color{i}"].astype(float))
            height, width = big.shape[0] // 4, big.shape[1] // 4
            reference = encoded(big.reshape(height, 4, width, 4, 3).mean((1, 3)))
            edge = edges(data["none"][f"instance{i}"])
            error = np.abs(data[look][f"color{i}"].astype(float) - reference).mean(-1)
            errors.append((error[edge].mean(), error[~edge].mean()))
        edge_error, rest = np.mean(errors, axis=0)
        seconds = float(data[look]["seconds"])
        print(f"| {look} | {edge_error:.2f} | {rest:.2f} | {1000 * seconds:.0f} |")


if __name__ == "__main__":
    main()
