"""What a new lens's map costs: `lens_map` for lenses never seen before (as the camera_lens
randomizer draws one per frame), per model, at 640x480 and a 70 degree field of view.

    python3 bench/lens_map.py [--lenses 10]

Prints the median and the slowest build per model (milliseconds, one process, the first
build, which pays numpy's warm-up, left out). No test asserts a timing; the figures go to
docs/performance.md.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from simulator.scene.lens import Lens, lens_map
from simulator.scene.scene import CameraState

BASE = {
    "radtan": (-0.2, 0.05, 0.002, -0.003, -0.002, 0.0, 0.0, 0.0),
    "fisheye": (0.06, -0.02, 0.01, -0.002),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lenses", type=int, default=10)
    lenses = parser.parse_args().lenses
    K = CameraState(640, 480, 70, position=[0, -5, 2], target=[0, 0, 0]).K
    for model, base in BASE.items():
        times = []
        for i in range(lenses + 1):
            lens = Lens(model, tuple(c * (1 + 0.01 * i) for c in base))  # type: ignore[arg-type]
            start = time.perf_counter()
            lens_map(lens, np.asarray(K), 640, 480)
            times.append(1000 * (time.perf_counter() - start))
        rest = times[1:]
        print(f"{model}: median {statistics.median(rest):.1f} ms, slowest {max(rest):.1f} ms")


if __name__ == "__main__":
    main()
