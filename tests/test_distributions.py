import numpy as np
import pytest

from simulator import distributions as d


def rng():
    return np.random.default_rng(0)


def test_constant_number_is_returned_as_is():
    assert d.parse_scalar(2.5).sample(rng()) == 2.5


def test_uniform_draws_inside_bounds():
    draws = [
        d.parse_scalar({"uniform": [1, 2]}).sample(g)
        for g in map(np.random.default_rng, range(200))
    ]
    assert min(draws) >= 1 and max(draws) <= 2 and max(draws) - min(draws) > 0.5


def test_normal_has_requested_mean_and_spread():
    draws = d.parse_scalar({"normal": [10, 2]})
    generator = np.random.default_rng(7)
    values = np.array([draws.sample(generator) for _ in range(4000)])
    assert abs(values.mean() - 10) < 0.2 and abs(values.std() - 2) < 0.2


def test_choice_respects_weights():
    choice = d.parse_option({"choice": ["a", "b"], "weights": [1, 0]}, ["a", "b"])
    generator = rng()
    assert {choice.sample(generator) for _ in range(50)} == {"a"}


def test_range_is_inclusive_whole_numbers():
    count = d.parse_count({"range": [1, 3]})
    generator = rng()
    assert {count.sample(generator) for _ in range(200)} == {1, 2, 3}


def test_vector_forms():
    generator = rng()
    assert d.parse_vector([1, 2, 3]).sample(generator).tolist() == [1, 2, 3]
    mixed = d.parse_vector([{"uniform": [0, 1]}, 5, 6]).sample(generator)
    assert 0 <= mixed[0] <= 1 and mixed[1:].tolist() == [5, 6]
    box = d.parse_vector({"uniform": [[0, 0, 0], [1, 2, 3]]}).sample(generator)
    assert np.all(box >= 0) and np.all(box <= [1, 2, 3])


def test_hex_colors():
    assert d.parse_color("#ff8000").sample(rng()).tolist() == [1.0, 128 / 255, 0.0]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            {"uniform": [5, 1]},
            r"uniform needs low <= high, got \[5.0, 1.0\]; did you mean \[1.0, 5.0\]\?",
        ),
        ({"normal": [0, -1]}, r"standard deviation >= 0"),
        ({"unifrom": [0, 1]}, r"did you mean 'uniform'\?"),
        ("big", r"expected a constant, \{ uniform"),
        ({"choice": []}, r"choice takes a non-empty list"),
    ],
)
def test_bad_scalars_are_explained(value, message):
    with pytest.raises(ValueError, match=message):
        d.parse_scalar(value)


def test_counts_reject_fractions_and_reversed_ranges():
    with pytest.raises(ValueError, match="whole number"):
        d.parse_count(1.5)
    with pytest.raises(ValueError, match=r"did you mean \[1, 5\]"):
        d.parse_count({"range": [5, 1]})


def test_colors_must_be_unit_range():
    with pytest.raises(ValueError, match=r"color components are in \[0, 1\]"):
        d.parse_color([2, 0, 0])


def test_describe_round_trips():
    for value in [3.0, {"uniform": [0.0, 1.0]}, {"choice": [1.0, 2.0], "weights": [1.0, 2.0]}]:
        assert d.parse_scalar(value).describe() == value
