"""Values animated over a clip: keyframes at fractions of the clip's time, joined by a curve.

    exposure = { keyframes = [[0.0, -1.0], [1.0, 1.5]], curve = "linear" }
    elevation = { keyframes = [[0.0, { uniform = [30, 45] }], [1.0, 5.0]], curve = "smooth" }

A key is `[time, value]`: `time` is the fraction of the clip, 0 at its first frame and 1 at
its last (frame k of a clip of n frames is at k / (n - 1)), so a world's animation fits any
`[clip] frames` and `fps`; `value` is any value the field takes, a distribution included,
drawn once per clip (a light fades from a random start to a random end, the same curve on
every frame of the clip). Curves: "linear", "smooth" (smoothstep: eases in and out) and
"step" (each key's value holds until the next key). Before the first key the first value
holds, after the last the last.

Names, booleans and other choices among things (a material, a tone curve, a light on or off)
cannot be interpolated: they take "step" only, their default. Counts (whole numbers) take
every curve and are rounded to the nearest whole number (halves up) between keys.

Sampling stays `dist.sample(rng)`: while the pipeline runs a plugin in a clip it sets the
`Clock` (the frame's place in the clip and where each animated value draws its keys from),
and `Keyframes.sample` reads it. So every randomizer honours animated values unchanged. The
keys of a value draw from their own stream, of (seed, clip, the entry, the value's TOML path),
so animating one value changes no other draw.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from simulator.errors import did_you_mean
from simulator.seeding import stream
from simulator.world.distributions import Distribution

CURVES = ("linear", "smooth", "step")
KeyKind = Literal["number", "count", "name"]  # what a value's keys hold: how they join


def _ease(curve: str, u: float) -> float:
    """The share of the way from one key's value to the next at `u` of the way in time."""
    if curve == "step":
        return 0.0
    if curve == "smooth":
        return u * u * (3.0 - 2.0 * u)
    return u


@dataclass(frozen=True)
class Curve:
    """An animated value with its keys drawn: the value at any fraction of the clip."""

    times: tuple[float, ...]
    values: tuple[Any, ...]
    curve: str
    whole: bool = False  # a count: rounded to the nearest whole number between keys

    def __call__(self, fraction: float) -> Any:
        times = self.times
        if fraction <= times[0]:
            return _copy(self.values[0])
        if fraction >= times[-1]:
            return _copy(self.values[-1])
        k = int(np.searchsorted(times, fraction, side="right")) - 1
        u = (fraction - times[k]) / (times[k + 1] - times[k])
        a, b = self.values[k], self.values[k + 1]
        share = _ease(self.curve, u)
        if share == 0.0:
            return _copy(a)
        value = np.asarray(a, dtype=float) + share * (np.asarray(b, dtype=float) - a)
        if self.whole:
            return int(np.floor(value + 0.5))
        return value if value.ndim else float(value)


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


@dataclass(frozen=True)
class Keyframes(Distribution):
    """A value animated over the clip: `keys` are (fraction of the clip, distribution)."""

    keys: tuple[tuple[float, Distribution], ...]
    curve: str = "linear"
    whole: bool = False  # the keys hold counts: rounded between keys

    def draw(self, rng: np.random.Generator) -> Curve:
        """The curve with every key's value drawn from `rng` (in key order)."""
        return Curve(
            tuple(t for t, _ in self.keys),
            tuple(value.sample(rng) for _, value in self.keys),
            self.curve,
            self.whole,
        )

    def outcomes(self) -> tuple[Any, ...] | None:
        """Every value any key can take (None where one is continuous)."""
        found: list[Any] = []
        for _, value in self.keys:
            some = value.outcomes()
            if some is None:
                return None
            found += some
        return tuple(found)

    def sample(self, rng: np.random.Generator) -> Any:
        """The value at the clip's present time (see `Clock`). With no clock running (a
        plugin called outside a clip's build, e.g. by a test), the first key's value drawn
        from `rng`: validation refuses animated values where no clip gives them a time."""
        clock = CLOCK.get()
        if clock is None:
            return self.keys[0][1].sample(rng)
        return clock.curve(self)(clock.fraction)

    def describe(self) -> Any:
        return {
            "keyframes": [[t, value.describe()] for t, value in self.keys],
            "curve": self.curve,
        }


@dataclass
class Clock:
    """Where the plugin being run is in its clip: `fraction` of the clip's time, and for
    each animated value of its parameters (by identity) the stream name of its keys. Curves
    are drawn from (seed, clip, that name) and kept for the clip."""

    seed: int
    clip: int
    fraction: float
    names: dict[int, str]
    drawn: dict[int, Curve] = field(default_factory=dict)

    def curve(self, value: Keyframes) -> Curve:
        key = id(value)
        if key not in self.drawn:
            name = self.names.get(key)
            if name is None:  # a value built by the plugin itself, not read from the world
                name = "keyframes:" + repr(value.describe())
            self.drawn[key] = value.draw(stream(self.seed, self.clip, name))
        return self.drawn[key]


CLOCK: ContextVar[Clock | None] = ContextVar("sim_clip_clock", default=None)


@contextlib.contextmanager
def running(clock: Clock | None) -> Iterator[None]:
    """Run the block with `clock` as the present time of animated values."""
    token = CLOCK.set(clock)
    try:
        yield
    finally:
        CLOCK.reset(token)


def fraction(frame: float, frames: int) -> float:
    """Frame `frame` of a clip of `frames` frames as a fraction of the clip: 0 at the first
    frame, 1 at the last (0 for a clip of one frame); a fractional frame (a sub-frame of
    motion blur) falls between, or outside [0, 1] beyond the clip's ends."""
    return frame / (frames - 1) if frames > 1 else 0.0


def animated_values(
    value: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], Keyframes]]:
    """Every `Keyframes` in validated parameters `value`, with its path inside them."""
    if isinstance(value, Keyframes):
        yield path, value
        return
    fields = getattr(type(value), "model_fields", None)
    if fields is not None:
        for name in fields:
            yield from animated_values(getattr(value, name), (*path, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from animated_values(item, (*path, str(key)))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from animated_values(item, (*path, index))


# ---------------------------------------------------------------------------------- parsing


def _time(value: Any, index: int) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise ValueError(
            f"key {index}'s time must be a number (a fraction of the clip, 0 to 1), got {value!r}"
        )
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"key {index}'s time {value!r} is outside [0, 1]: times are fractions of the "
            "clip, 0 at its first frame and 1 at its last"
        )
    return float(value)


def _curve(value: dict[str, Any], kind: KeyKind) -> str:
    """The curve a value names (default: "linear" for numbers and counts, "step" for names);
    names take "step" only: a name is held until the next key, never blended."""
    curve = value.get("curve", "step" if kind == "name" else "linear")
    if curve not in CURVES:
        raise ValueError(
            f"unknown curve {curve!r}"
            + did_you_mean(curve if isinstance(curve, str) else "", CURVES)
        )
    if kind == "name" and curve != "step":
        raise ValueError(
            f"curve {curve!r} cannot join names: a name, a switch or a choice is not "
            'interpolated; use curve = "step" (each key\'s value holds until the next key)'
        )
    return str(curve)


def parse_keyframes(
    value: dict[str, Any], parse_value: Callable[[Any], Distribution], kind: KeyKind = "number"
) -> Keyframes:
    """`{ keyframes = [[time, value], ...], curve = "linear" }`, each value parsed by
    `parse_value` (the field's own parser: a constant or a distribution). `kind` says what
    the keys hold: "number" (numbers, vectors, colours: every curve), "count" (whole numbers:
    every curve, rounded between keys) or "name" (names, switches, choices: "step" only)."""
    extra = sorted(set(value) - {"keyframes", "curve"})
    if extra:
        raise ValueError(
            f"an animated value has keyframes and curve; got {', '.join(extra)}"
            + did_you_mean(extra[0], ["keyframes", "curve"])
        )
    curve = _curve(value, kind)
    keys = value["keyframes"]
    if not isinstance(keys, (list, tuple)) or not keys:
        raise ValueError(
            "keyframes takes a list of at least one [time, value] key, e.g. "
            "keyframes = [[0.0, 1.0], [1.0, 4.0]]"
        )
    parsed: list[tuple[float, Distribution]] = []
    for index, key in enumerate(keys):
        if not isinstance(key, (list, tuple)) or len(key) != 2:
            raise ValueError(f"key {index} must be [time, value], got {key!r}")
        time = _time(key[0], index)
        if isinstance(key[1], dict) and "keyframes" in key[1]:
            raise ValueError(f"key {index}'s value is animated itself: give it a plain value")
        if parsed and time <= parsed[-1][0]:
            raise ValueError(
                f"key times must increase: key {index} is at {time:g}, after a key at "
                f"{parsed[-1][0]:g}; sort the keys by time"
            )
        try:
            parsed.append((time, parse_value(key[1])))
        except ValueError as error:
            raise ValueError(f"key {index}'s value: {error}") from None
    return Keyframes(tuple(parsed), curve, whole=kind == "count")
