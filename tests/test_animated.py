"""Values animated over a clip (keyframes): the value at each frame of the clip, keys drawn
once per clip, per-clip draws held, the same bytes for any worker count, and bad keyframes
refused with their TOML path and the fix."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasets import dataset_files
from PIL import Image

from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.animation import Clock, Keyframes, running
from simulator.world.distributions import parse_color, parse_scalar
from simulator.world.load import load_world

WORLD = """
[world]
name = "ramp"
seed = 3
frames = {frames}
[camera]
resolution = [64, 48]
{clip}
[[spawners]]
type = "primitive"
shape = "box"
count = 3
color = [0.5, 0.5, 0.5]
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
[[randomizers]]
type = "position"
targets = ["primitive"]
[[randomizers]]
type = "camera_orbit"
{randomizers}
[output]
labels = ["boxes", "instance"]
writers = ["native"]
"""

CLIP = "[clip]\nframes = 5\nfps = 10"
RAMP = """
[[randomizers]]
type = "film"
exposure = { keyframes = [[0.0, -1.5], [1.0, 1.5]], curve = "linear" }
"""


def _world(tmp_path: Path, randomizers: str, clip: str = CLIP, frames: int = 10) -> Path:
    path = tmp_path / "world.toml"
    path.write_text(WORLD.format(frames=frames, clip=clip, randomizers=randomizers))
    return path


def _records(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def _brightness(root: Path, frame: int) -> float:
    return float(np.asarray(Image.open(root / "images" / f"{frame:06d}.jpg")).mean())


# ------------------------------------------------------------------------------ the curves


def _at(value: Keyframes, frame: int, frames: int) -> float:
    """The value at frame `frame` of clip 0 of `frames` frames, as the pipeline reads it."""
    fraction = frame / (frames - 1)
    with running(Clock(0, 0, fraction, {})):
        return value.sample(np.random.default_rng(0))


def test_curves_join_the_keys_as_named():
    keys = [[0.0, 0.0], [0.5, 2.0], [1.0, 3.0]]
    linear = parse_scalar({"keyframes": keys})
    smooth = parse_scalar({"keyframes": keys, "curve": "smooth"})
    step = parse_scalar({"keyframes": keys, "curve": "step"})
    # Frame k of 9 is at k / 8 of the clip; at 1/8 it is a quarter of the way to the
    # second key: linear 0.25 of 2, smoothstep 3/16 - 2/64 = 0.15625 of 2, step the first.
    assert _at(linear, 1, 9) == pytest.approx(0.5)
    assert _at(smooth, 1, 9) == pytest.approx(2 * 0.15625)
    assert _at(step, 1, 9) == 0.0
    assert [_at(step, k, 9) for k in (3, 4, 7, 8)] == [0.0, 2.0, 2.0, 3.0]
    assert _at(smooth, 6, 9) == pytest.approx(2.5)  # half way: smoothstep(1/2) = 1/2
    assert [_at(linear, k, 9) for k in (0, 4, 8)] == [0.0, 2.0, 3.0]
    held = parse_scalar({"keyframes": [[0.25, 1.0], [0.75, 5.0]]})
    assert [_at(held, k, 9) for k in (0, 1, 2, 4, 6, 7, 8)] == [1, 1, 1, 3, 5, 5, 5]


def test_colors_and_vectors_are_joined_per_component():
    color = parse_color({"keyframes": [[0.0, "#ff0000"], [1.0, [0.0, 0.0, 1.0]]]})
    assert _at(color, 1, 5) == pytest.approx([0.75, 0.0, 0.25])
    one = parse_scalar({"keyframes": [[0.3, 2.0]]})  # a single key holds all clip
    assert [_at(one, k, 4) for k in range(4)] == [2.0] * 4


def test_outside_a_clip_sample_gives_the_first_key():
    value = parse_scalar({"keyframes": [[0.0, {"uniform": [4.0, 5.0]}], [1.0, 9.0]]})
    assert 4.0 <= value.sample(np.random.default_rng(1)) <= 5.0
    assert value.describe() == {
        "keyframes": [[0.0, {"uniform": [4.0, 5.0]}], [1.0, 9.0]],
        "curve": "linear",
    }


# ------------------------------------------------------------------------------ in a run


def test_an_exposure_ramp_rises_linearly_over_each_clip(tmp_path):
    root = run(load_world(_world(tmp_path, RAMP)), RunOptions(tmp_path / "out")).root
    records = _records(root)
    still = run(
        load_world(_world(tmp_path, RAMP.replace(RAMP.splitlines()[3], "exposure = 0"))),
        RunOptions(tmp_path / "still"),
    ).root
    for record, plain in zip(records, _records(still), strict=True):
        k = record["clip"]["frame"]
        # [render] exposure is 0: the film's is the ramp's, -1.5 + 3 k / 4.
        assert record["scene"]["film"]["exposure"] == pytest.approx(-1.5 + 3.0 * k / 4, abs=1e-6)
        # Its other draw (white balance) is the clip's, as without the ramp, every frame.
        assert record["scene"]["film"]["white_balance"] == plain["scene"]["film"]["white_balance"]
        assert record["objects"] == plain["objects"]
    for clip in (0, 1):
        means = [_brightness(root, clip * 5 + k) for k in range(5)]
        assert all(b > a for a, b in itertools.pairwise(means)), means


def test_keys_drawn_from_distributions_are_drawn_once_per_clip(tmp_path):
    light = """
[[randomizers]]
type = "light"
intensity = { keyframes = [[0.0, { uniform = [0.5, 1.0] }], [1.0, { uniform = [2.0, 3.0] }]] }
[[randomizers]]
type = "sensor_noise"
sigma = { keyframes = [[0.0, 0.0], [0.5, 3.0]], curve = "step" }
"""
    world = load_world(_world(tmp_path, light, clip="[clip]\nframes = 3\nfps = 6", frames=9))
    root = run(world, RunOptions(tmp_path / "out")).root
    records = _records(root)
    starts = set()
    for clip in range(3):
        frames = records[clip * 3 : clip * 3 + 3]
        keys = [r["scene"]["lights"][1]["intensity"] for r in frames]
        assert 0.5 <= keys[0] <= 1.0 and 2.0 <= keys[2] <= 3.0
        assert keys[1] == pytest.approx((keys[0] + keys[2]) / 2, abs=1e-5)
        starts.add(keys[0])
        directions = {tuple(r["scene"]["lights"][1]["direction"]) for r in frames}
        assert len(directions) == 1, "the light's direction is drawn once per clip"
        sigmas = [r["scene"]["effects"][0]["sigma"] for r in frames]
        assert sigmas == [0.0, 3.0, 3.0]  # frame 1 of 3 is at 0.5, the second key
    assert len(starts) == 3, "each clip draws its own keys"
    alone = run(world, RunOptions(tmp_path / "alone", start=3, frames=3)).root
    assert _records(alone) == records[3:6], "clip 1 alone draws the same keys"


def test_one_and_two_workers_write_the_same_animated_clips(tmp_path):
    world = load_world(_world(tmp_path, RAMP))
    one = run(world, RunOptions(tmp_path / "one", shard_size=5)).root
    two = run(world, RunOptions(tmp_path / "two", shard_size=5, workers=2)).root
    assert dataset_files(one) == dataset_files(two)


# ------------------------------------------------------------------------------ bad input


def _refused(tmp_path: Path, randomizers: str, clip: str = CLIP) -> str:
    """The error of a world whose film exposure is bad; it names the exposure's line."""
    path = _world(tmp_path, randomizers, clip=clip)
    world = load_world(path)
    with pytest.raises(WorldError) as caught:
        Pipeline(world, host_for(world))
    lines = path.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if text.startswith("exposure"))
    assert f"world.toml:{line}: randomizers[2].exposure: " in str(caught.value)
    return str(caught.value)


@pytest.mark.parametrize(
    ("keys", "says"),
    [
        (
            "[[0.5, 1.0], [0.2, 2.0]]",
            "key times must increase: key 1 is at 0.2, after a key at 0.5; sort the keys by time",
        ),
        (
            "[[0.0, 1.0], [1.5, 2.0]]",
            "key 1's time 1.5 is outside [0, 1]: times are fractions "
            "of the clip, 0 at its first frame and 1 at its last",
        ),
        ("[]", "at least one [time, value] key"),
        ('[[0.0, 1.0]], curve = "smoth"', "unknown curve 'smoth'; did you mean 'smooth'?"),
        ("[[0.0, { uniform = [2, 1] }]]", "key 0's value: uniform needs low <= high"),
        ("[[0.0]]", "key 0 must be [time, value]"),
    ],
)
def test_bad_keyframes_name_their_toml_path_and_the_fix(tmp_path, keys, says):
    message = _refused(tmp_path, RAMP.replace('[[0.0, -1.5], [1.0, 1.5]], curve = "linear"', keys))
    assert says in message


def test_animated_values_without_a_clip_are_refused(tmp_path):
    message = _refused(tmp_path, RAMP, clip="")
    assert "no [clip]" in message and "add a [clip] section" in message


def test_animated_values_where_nothing_acts_per_frame_are_refused(tmp_path):
    path = _world(tmp_path, RAMP)
    path.write_text(
        path.read_text().replace(
            "color = [0.5, 0.5, 0.5]", 'color = { keyframes = [[0, "#ff0000"]] }'
        )
    )
    world = load_world(path)
    with pytest.raises(WorldError, match=r"spawners\[0\]\.color: color is drawn once per clip"):
        Pipeline(world, host_for(world))


def test_sim_validate_says_it_in_one_line(tmp_path):
    path = _world(tmp_path, RAMP.replace('curve = "linear"', 'curve = "ease"'))
    done = subprocess.run(
        [sys.executable, "-c", "from simulator.cli import main; main()", "validate", str(path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    assert "randomizers[2].exposure: unknown curve 'ease'" in done.stderr
