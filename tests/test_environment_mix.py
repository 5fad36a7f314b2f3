"""Mixes of environments (Environment.mix): the weighted sum of images, what its parts are,
how it is keyed and recorded, and what it refuses. Its image-based light: tests/test_ibl.py."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.scene.environment import Environment


def ramp(height: int, colour: tuple[float, float, float], seed: int) -> Environment:
    """An environment of random radiance, its own for each seed."""
    rng = np.random.default_rng(seed)
    image = rng.uniform(0.0, 2.0, (height, 2 * height, 1)) * np.asarray(colour)
    return Environment(image.astype(np.float32), source=f"ramp {seed}")


A, B, C = (ramp(8, (1.0, 0.5, 0.2), 1), ramp(8, (0.2, 1.0, 0.5), 2), ramp(8, (0.5, 0.2, 1.0), 3))


def test_a_mix_is_the_weighted_sum_of_its_parts_images():
    mix = Environment.mix([(A, 0.25), (B, 0.75)])
    expected = 0.25 * A.image.astype(float) + 0.75 * B.image.astype(float)
    np.testing.assert_allclose(mix.image, expected, rtol=1e-6)
    assert (mix.rotation, mix.intensity) == (0.0, 1.0)
    assert sorted(w for _, w in mix.parts) == [0.25, 0.75]
    directions = np.random.default_rng(0).normal(size=(50, 3))
    turned = mix.turned(40.0, intensity=2.0)
    assert turned.parts == mix.parts and turned.key == mix.key
    a, b = A.turned(40.0).radiance(directions), B.turned(40.0).radiance(directions)
    expected = 2.0 * (0.25 * a + 0.75 * b)
    np.testing.assert_allclose(turned.radiance(directions), expected, rtol=1e-5)


def test_a_mix_is_the_same_bytes_and_key_in_any_order():
    one = Environment.mix([(A, 0.2), (B, 0.3), (C, 0.5)])
    other = Environment.mix([(C, 0.5), (A, 0.2), (B, 0.3)])
    assert one.key == other.key
    np.testing.assert_array_equal(one.image, other.image)
    assert Environment.mix([(A, 0.2), (B, 0.8)]).key != Environment.mix([(A, 0.8), (B, 0.2)]).key


def test_intensities_and_mixes_fold_into_the_weights():
    inner = Environment.mix([(A, 0.5), (B, 0.5)]).turned(0.0, intensity=2.0)
    mix = Environment.mix([(inner, 0.5), (C.turned(0.0, intensity=3.0), 0.25), (A, 0.5)])
    assert {p.key: w for p, w in mix.parts} == {A.key: 1.0, B.key: 0.5, C.key: 0.75}
    expected = A.image.astype(float) + 0.5 * B.image + 0.75 * C.image
    np.testing.assert_allclose(mix.image, expected, rtol=1e-6)


def test_one_part_at_weight_one_is_that_part_and_zero_weights_drop_out():
    """A sky at a grid node is the node's own environment, unchanged."""
    assert Environment.mix([(A, 1.0), (B, 0.0)]) is A
    assert Environment.mix([(A, 0.5), (A, 0.5)]) is A
    half = Environment.mix([(A, 0.5)])
    assert half.parts == ((A, 0.5),)
    np.testing.assert_allclose(half.image, 0.5 * A.image)


def test_a_mix_records_its_parts():
    mix = Environment.mix([(B, 0.75), (A, 0.25)]).turned(30.0, 1.5)
    assert mix.record() == {
        "source": "mix",
        "parts": [{"source": p.source, "weight": w} for p, w in mix.parts],
        "rotation": 30.0,
        "intensity": 1.5,
    }
    parts = mix.record()["parts"]
    assert {(r["source"], r["weight"]) for r in parts} == {("ramp 1", 0.25), ("ramp 2", 0.75)}
    crossfade = Environment.mix([(A, 0.5), (B, 0.5)], source="crossfade")
    assert crossfade.record()["source"] == "crossfade"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (
            [(A.turned(10.0), 0.5), (B, 0.5)],
            r"a mix's parts must be unturned \(turn the mix instead\): .* turned by 10 degrees",
        ),
        ([(A, -0.5), (B, 1.5)], r"a mix's weights must be finite and not negative, got -0.5"),
        ([(A, float("nan"))], r"a mix's weights must be finite and not negative, got nan"),
        ([(A, 0.0)], r"a mix needs at least one part of positive weight"),
        ([], r"a mix needs at least one part of positive weight"),
        (
            [(A, 0.5), (ramp(16, (1, 1, 1), 4), 0.5)],
            r"a mix's parts must have images of one size, got \[\(8, 16, 3\), \(16, 32, 3\)\]",
        ),
    ],
)
def test_bad_mixes_are_refused_with_a_clear_message(parts, message):
    with pytest.raises(ValueError, match=message):
        Environment.mix(parts)
