"""What a continuous sky costs the engine a frame: the bench scene under the `sky` randomizer,
every scene drawn twice, first with its sky new to the engine (the grid skies' light blended
and uploaded as textures: `Environment.mix`), then again with it cached. The median of the
differences is the cost of a new sky; a sky held at a grid node (nothing new after the first
frame) is the control.

    python3 bench/sky_cost.py [--frames 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from simulator.capture.frame import Renderer
from simulator.world.load import load_world

HERE = Path(__file__).parent
SKIES = {
    "continuous": 'type = "sky"',  # elevation 15-75, turbidity 2-6: a new blend every frame
    "grid node": 'type = "sky"\nelevation = 45\nturbidity = 3',
}


def new_and_cached(world_text: str, frames: int) -> tuple[float, float]:
    """Median ms of a frame whose sky is new, and of the same frame drawn again."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "world.toml"
        path.write_text(world_text)
        renderer = Renderer(load_world(path))
    engine = renderer.engine
    scenes = [renderer.pipeline.build_scene(i) for i in range(frames + 5)]
    for scene in scenes[:5]:  # warm up: shaders, the grid skies' light read from disk
        engine.render(scene)
    new, again = [], []
    for scene in scenes[5:]:
        for times in (new, again):
            began = time.perf_counter()
            engine.render(scene)
            times.append(1000 * (time.perf_counter() - began))
    renderer.close()
    return float(np.median(new)), float(np.median(np.subtract(new, again)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    source = (HERE / "world.toml").read_text()
    for name, sky in SKIES.items():
        frame, extra = new_and_cached(source.replace('type = "light"', sky), args.frames)
        print(f"{name}: {frame:.1f} ms a frame, of which a new sky {extra:.1f} ms")


if __name__ == "__main__":
    main()
