"""Motion blur: how far interpolated sub-frame poses are from the physics, and what blur costs.

    python3 bench/blur.py [--clips 4] [--frames 6]

Error: worlds/movi.toml's clips simulated at 12 fps and again at 24 fps. throw's internal step
is 1/240 s at both, and the clip draws the same objects, throws and camera (clip c depends
only on (seed, c)), so the 24 fps clip's odd frames are the physics at the 12 fps clip's
half frames, which is where interpolation is farthest from the samples. Printed: position
error (mm), rotation error (degrees) and the object centre's error in the image (pixels),
over every object of every clip.

Cost: frames of worlds/movi.toml at 640x480 (fast preset), rendered in this process with the
shutter closed and open (8 and 4 sub-frames), seconds per frame.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from simulator.capture.frame import Renderer
from simulator.capture.pipeline import Pipeline, host_for
from simulator.scene.transforms import hpr_matrix, project
from simulator.world.load import load_world

MOVI = Path(__file__).parent.parent / "worlds" / "movi.toml"


def _world(fps: float, frames: int, shutter: float = 0.0, samples: int = 8):
    world = load_world(MOVI)
    assert world.clip is not None
    clip = world.clip.model_copy(
        update={"fps": fps, "frames": frames, "shutter": shutter, "blur_samples": samples}
    )
    return world.model_copy(update={"clip": clip})


def errors(clips: int) -> None:
    coarse_world, fine_world = _world(12.0, 12), _world(24.0, 24)
    coarse = Pipeline(coarse_world, host_for(coarse_world))
    fine = Pipeline(fine_world, host_for(fine_world))
    moved, turned, pixels = [], [], []
    for clip in range(clips):
        first = coarse.build_scene(clip * 12)
        for k in range(11):
            truth = fine.build_scene(clip * 24 + 2 * k + 1)
            camera = truth.camera
            for entity, true in zip(first.entities, truth.entities, strict=True):
                if entity.motion is None:
                    continue
                position, hpr = entity.motion.pose_at(k + 0.5)
                moved.append(1000 * np.linalg.norm(position - true.position))
                turn = hpr_matrix(hpr) @ hpr_matrix(true.hpr).T
                turned.append(np.degrees(np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1))))
                uv = project(np.array([position, true.position]), camera.K, camera.cam_to_world())
                pixels.append(float(np.linalg.norm(uv[0, :2] - uv[1, :2])))
    for name, values in (("position, mm", moved), ("rotation, deg", turned), ("image, px", pixels)):
        v = np.asarray(values)
        print(
            f"{name}: median {np.median(v):.3f}, 95th {np.percentile(v, 95):.3f}, "
            f"max {v.max():.3f} over {len(v)} half-frame poses"
        )


def cost(frames: int) -> None:
    for shutter, samples in ((0.0, 8), (0.5, 8), (0.5, 4)):
        renderer = Renderer(_world(12.0, 24, shutter, samples))
        try:
            renderer.frame(0)  # the clip's physics, once
            start = time.perf_counter()
            for index in range(1, frames + 1):
                renderer.frame(index)
            seconds = (time.perf_counter() - start) / frames
        finally:
            renderer.close()
        print(f"shutter {shutter}, {samples} sub-frames: {seconds:.3f} s a frame")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--frames", type=int, default=6)
    args = parser.parse_args()
    errors(args.clips)
    cost(args.frames)


if __name__ == "__main__":
    main()
