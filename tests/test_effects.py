"""Sensor effects change the RGB image as their parameters say, and nothing else."""

import io
import json

import numpy as np
import pytest
from datasets import dataset_files
from PIL import Image

from simulator.run.runner import RunOptions, run
from simulator.scene import effects
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 3
frames = 2
[camera]
resolution = [96, 72]
[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "torus"] }
count = 3
[[randomizers]]
type = "position"
[[randomizers]]
type = "color"
[[randomizers]]
type = "background"
[output]
image_format = "png"
"""


def render(tmp_path, name: str, effect: str = "") -> dict[str, bytes]:
    world = parse_world(WORLD + effect, tmp_path / f"{name}.toml")
    return dataset_files(run(world, RunOptions(tmp_path / name)).root)


def rgb(files: dict[str, bytes], frame: int = 0) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(files[f"images/{frame:06d}.png"])), np.float64)


def only_the_image_changed(plain: dict[str, bytes], varied: dict[str, bytes]) -> None:
    for name in plain:
        if name.startswith(("instances/", "semantic/", "depth/", "annotations/", "labels/")):
            assert plain[name] == varied[name], name
    objects = [
        [r["objects"] for r in map(json.loads, files["frames.jsonl"].splitlines())]
        for files in (plain, varied)
    ]
    assert objects[0] == objects[1]


@pytest.fixture
def plain(tmp_path):
    return render(tmp_path, "plain")


def test_noise_has_the_requested_spread(plain, tmp_path):
    noisy = render(tmp_path, "noisy", '[[randomizers]]\ntype = "sensor_noise"\nsigma = 6\n')
    only_the_image_changed(plain, noisy)
    a, b = rgb(plain), rgb(noisy)
    unclipped = (a > 30) & (a < 225)
    assert (b - a)[unclipped].std() == pytest.approx(6, rel=0.1)
    record = json.loads(noisy["frames.jsonl"].splitlines()[0])
    assert record["scene"]["effects"][0]["effect"] == "sensor_noise"
    assert record["scene"]["effects"][0]["sigma"] == 6.0


def test_blur_removes_fine_detail(plain, tmp_path):
    blurred = render(tmp_path, "blurred", '[[randomizers]]\ntype = "blur"\nradius = 1.5\n')
    only_the_image_changed(plain, blurred)

    def detail(image: np.ndarray) -> float:
        return float(np.abs(np.diff(image, axis=0)).mean() + np.abs(np.diff(image, axis=1)).mean())

    assert detail(rgb(blurred)) < 0.8 * detail(rgb(plain))


def test_color_jitter_brightness_scales_the_image(plain, tmp_path):
    jitter = (
        '[[randomizers]]\ntype = "color_jitter"\nbrightness = 1.3\ncontrast = 1\n'
        "saturation = 1\nhue = 0\n"
    )
    brighter = render(tmp_path, "brighter", jitter)
    only_the_image_changed(plain, brighter)
    a, b = rgb(plain), rgb(brighter)
    dark = a < 150  # not clipped at 255 after scaling
    assert np.allclose(b[dark], np.minimum(a[dark] * 1.3, 255), atol=1.0)


def test_jpeg_artifacts_equal_a_jpeg_round_trip(plain, tmp_path):
    lossy = render(tmp_path, "lossy", '[[randomizers]]\ntype = "jpeg_artifacts"\nquality = 20\n')
    only_the_image_changed(plain, lossy)
    buffer = io.BytesIO()
    Image.open(io.BytesIO(plain["images/000000.png"])).save(buffer, "JPEG", quality=20)
    expected = np.asarray(Image.open(buffer).convert("RGB"), np.float64)
    assert np.array_equal(rgb(lossy), expected)


def test_effects_replay_exactly(tmp_path):
    effect = '[[randomizers]]\ntype = "sensor_noise"\n'
    assert render(tmp_path, "one", effect) == render(tmp_path, "two", effect)


def test_noise_levels_follow_the_rounded_normal():
    """Each whole-level step of the noise is as likely as the normal puts it (scipy's CDF over
    the step's half-level bounds), on a mid-grey image where nothing clips."""
    from scipy import stats

    sigma = 4.5
    grey = np.full((600, 600, 3), 128, np.uint8)
    steps = effects.gaussian_noise(sigma)(grey, np.random.default_rng(7)).astype(int) - 128
    levels = np.arange(-20, 21)
    seen = np.array([(steps == k).mean() for k in levels])
    expected = stats.norm.cdf(levels + 0.5, scale=sigma) - stats.norm.cdf(levels - 0.5, scale=sigma)
    assert np.abs(seen - expected).max() < 0.002  # 1.08M draws: a few standard errors
    assert steps.mean() == pytest.approx(0, abs=0.02)
    other = effects.gaussian_noise(sigma)(grey, np.random.default_rng(8)).astype(int) - 128
    assert np.corrcoef(steps.ravel(), other.ravel())[0, 1] == pytest.approx(0, abs=0.005)
