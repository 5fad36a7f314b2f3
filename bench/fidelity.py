"""How close sim's rasterizer comes to a path tracer: the same frames rendered by the Panda3D
engine (the realistic preset, and the fast preset: sim's old look) and by Blender Cycles at
16, 64 and 256 samples, each scored by SSIM and PSNR against the 256-sample image.

    python3 bench/fidelity.py [--world worlds/shapes.toml] [--frames 4] [--pictures]

Needs the cycles extra (pip install -e ".[cycles]"). SSIM is the usual one (Wang et al. 2004:
Gaussian window sigma 1.5, K1 0.01, K2 0.03, 8-bit range) on the Rec. 709 luma, in numpy
and scipy (which sim already has) rather than a new dependency. The last line is
`fidelity: SSIM <x.xxx> PSNR <yy.y> dB over <n> frames` for the realistic preset.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from simulator.capture.pipeline import Pipeline, host_for
from simulator.cycles import frame_seed, open_cycles
from simulator.engine import Engine
from simulator.engine.film import film_gain
from simulator.world.load import load_world
from simulator.world.render import PRESETS

HERE = Path(__file__).parent
SAMPLES = (16, 64, 256)
LUMA = np.array([0.2126, 0.7152, 0.0722])


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    x, y = (np.asarray(img, float) @ LUMA for img in (a, b))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda v: gaussian_filter(v, 1.5, truncate=3.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2))
    return float(s.mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(float) - b.astype(float)) ** 2))
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, default=HERE.parent / "worlds" / "shapes.toml")
    parser.add_argument("--frames", type=int, default=4)
    parser.add_argument("--pictures", action="store_true", help="write docs/images/rendering/")
    args = parser.parse_args()
    world = load_world(args.world)
    width, height = world.camera.resolution
    pipeline = Pipeline(world, host_for(world))
    realistic = PRESETS["realistic"]["antialias"]
    engines = {
        "realistic": Engine(width, height, antialias=realistic),  # type: ignore[arg-type]
        "fast": Engine(width, height),
    }
    tracer = open_cycles(width, height, engines["fast"].geometry.drawn, device="auto")
    looks = {"realistic": ("aces", True), "fast": ("clamp", False)}
    scores: dict[str, list[tuple[float, float]]] = {}
    times: dict[str, list[float]] = {}
    for index in range(args.frames):
        images: dict[str, np.ndarray] = {}
        for preset, engine in engines.items():
            scene = pipeline.build_scene(index)
            scene.film.tone, scene.film.metering = looks[preset]
            began = time.perf_counter()
            images[preset] = engine.render(scene).color
            times.setdefault(preset, []).append(time.perf_counter() - began)
        scene = pipeline.build_scene(index)
        scene.film.tone, scene.film.metering = looks["realistic"]
        gain = film_gain(scene, engines["realistic"].environments)
        for samples in SAMPLES:
            tracer.scene.cycles.samples = samples  # type: ignore[attr-defined]
            began = time.perf_counter()
            images[f"cycles {samples}"] = tracer.render(scene, gain, frame_seed(1, index))
            times.setdefault(f"cycles {samples}", []).append(time.perf_counter() - began)
        truth = images["cycles 256"]
        for name, image in images.items():
            scores.setdefault(name, []).append((ssim(image, truth), psnr(image, truth)))
            s, p = scores[name][-1]
            print(f"frame {index} {name:10s} SSIM {s:.3f} PSNR {p:.1f} dB")
        if args.pictures and index < 2:
            row = np.hstack([images["fast"], images["realistic"], images["cycles 64"], truth])
            out = HERE.parent / "docs" / "images" / "rendering" / f"side_by_side_{index}.png"
            Image.fromarray(row).save(out)
    print("| renderer | SSIM | PSNR dB | s/frame |\n| --- | --- | --- | --- |")
    for name, values in scores.items():
        s, p = (statistics.mean(v[i] for v in values) for i in (0, 1))
        print(f"| {name} | {s:.3f} | {p:.1f} | {statistics.median(times[name]):.3f} |")
    fast = scores["fast"]
    print(
        f"old look (fast preset): SSIM {statistics.mean(v[0] for v in fast):.3f} "
        f"PSNR {statistics.mean(v[1] for v in fast):.1f} dB over {len(fast)} frames"
    )
    real = scores["realistic"]
    print(
        f"fidelity: SSIM {statistics.mean(v[0] for v in real):.3f} "
        f"PSNR {statistics.mean(v[1] for v in real):.1f} dB over {len(real)} frames"
    )
    tracer.close()


if __name__ == "__main__":
    main()
