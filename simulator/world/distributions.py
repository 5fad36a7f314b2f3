"""Values that vary from frame to frame, written in world files as plain TOML values.

    size  = 0.5                              # a constant
    size  = { uniform = [0.2, 0.8] }         # uniform in [low, high]
    size  = { normal = [0.5, 0.1] }          # mean, standard deviation
    shape = { choice = ["box", "sphere"], weights = [3, 1] }
    count = { range = [1, 5] }               # whole numbers, both ends included
    on    = { choice = [true, false] }       # switches
    color = { uniform = [[0, 0, 0], [1, 1, 1]] }   # vectors: component-wise bounds
    position = [{ uniform = [-1, 1] }, 0, 0.5]     # or one distribution per component

In parameter models, annotate a field with `Scalar`, `Count`, `Vec3`, `Color`, `OneOf(...)`
(one of fixed names), `Name` (any name: the plugin checks them, see `outcomes`) or `Flag`
(true or false); the plugin calls `.sample(rng)` with the generator it was handed. In a
clip every one of them may be animated (simulator.world.animation).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
from pydantic import BeforeValidator, GetCoreSchemaHandler, PlainSerializer, WithJsonSchema
from pydantic_core import core_schema

from simulator.errors import did_you_mean

if TYPE_CHECKING:
    from simulator.world.animation import KeyKind

_FORMS = "a constant, { uniform = [low, high] }, { normal = [mean, std] } or { choice = [...] }"


class Distribution:
    """Something that yields a value when sampled with a numpy Generator."""

    def sample(self, rng: np.random.Generator) -> Any:
        raise NotImplementedError

    def describe(self) -> Any:
        """The TOML value that denotes this distribution (as recorded in manifests)."""
        raise NotImplementedError

    def outcomes(self) -> tuple[Any, ...] | None:
        """Every value it can yield, where they are few (a constant, a choice, keyframes of
        those; repeats kept): what a plugin checks names against. None otherwise."""
        return None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.is_instance_schema(cls)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class Constant(Distribution):
    value: Any

    def sample(self, rng: np.random.Generator) -> Any:
        return self.value.copy() if isinstance(self.value, np.ndarray) else self.value

    def describe(self) -> Any:
        return _plain(self.value)

    def outcomes(self) -> tuple[Any, ...]:
        return (self.value,)


@dataclass(frozen=True)
class Uniform(Distribution):
    low: Any
    high: Any

    def sample(self, rng: np.random.Generator) -> Any:
        value = rng.uniform(self.low, self.high)
        return value if isinstance(value, np.ndarray) else float(value)

    def describe(self) -> Any:
        return {"uniform": [_plain(self.low), _plain(self.high)]}


@dataclass(frozen=True)
class Normal(Distribution):
    mean: Any
    std: Any

    def sample(self, rng: np.random.Generator) -> Any:
        value = rng.normal(self.mean, self.std)
        return value if isinstance(value, np.ndarray) else float(value)

    def describe(self) -> Any:
        return {"normal": [_plain(self.mean), _plain(self.std)]}


@dataclass(frozen=True)
class Choice(Distribution):
    options: tuple[Any, ...]
    weights: tuple[float, ...] | None = None

    def sample(self, rng: np.random.Generator) -> Any:
        p = None if self.weights is None else np.asarray(self.weights) / sum(self.weights)
        chosen = self.options[int(rng.choice(len(self.options), p=p))]
        return chosen.copy() if isinstance(chosen, np.ndarray) else chosen

    def describe(self) -> Any:
        out: dict[str, Any] = {"choice": [_plain(o) for o in self.options]}
        if self.weights is not None:
            out["weights"] = list(self.weights)
        return out

    def outcomes(self) -> tuple[Any, ...]:
        return self.options


@dataclass(frozen=True)
class IntRange(Distribution):
    low: int
    high: int

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high + 1))

    def describe(self) -> Any:
        return {"range": [self.low, self.high]}


@dataclass(frozen=True)
class Components(Distribution):
    """A vector whose components are sampled by their own distributions, in order."""

    parts: tuple[Distribution, ...] = field(default_factory=tuple)

    def sample(self, rng: np.random.Generator) -> np.ndarray:
        return np.array([float(p.sample(rng)) for p in self.parts])

    def describe(self) -> Any:
        return [p.describe() for p in self.parts]


# ---------------------------------------------------------------------------------- parsing


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _number(value: Any) -> float:
    if not _is_number(value):
        raise ValueError(f"expected a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r} (nan and inf cannot be drawn)")
    return float(value)


def _pair(key: str, value: Any) -> tuple[Any, Any]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise ValueError(f"{key} takes a list of two values, got {value!r}")
    return value[0], value[1]


def _single_key(value: dict[str, Any], allowed: Sequence[str]) -> str:
    keys = [k for k in value if k != "weights"]  # keyframes are taken before this
    if len(keys) != 1 or keys[0] not in allowed:
        bad = ", ".join(keys) or "nothing"
        hint = did_you_mean(keys[0], allowed) if len(keys) == 1 else ""
        if len(keys) == 1 and did_you_mean(keys[0], ["keyframes"]).startswith("; did"):
            hint = "; did you mean 'keyframes' (a value animated over a clip)?"
        raise ValueError(f"a distribution has exactly one of {', '.join(allowed)}; got {bad}{hint}")
    if "weights" in value and keys[0] != "choice":
        raise ValueError("weights only go with choice")
    return keys[0]


def _choice(value: dict[str, Any], parse_option: Callable[[Any], Any]) -> Choice:
    options = value["choice"]
    if not isinstance(options, (list, tuple)) or not options:
        raise ValueError(f"choice takes a non-empty list, got {options!r}")
    weights = value.get("weights")
    if weights is not None:
        if not isinstance(weights, (list, tuple)) or len(weights) != len(options):
            raise ValueError(f"weights needs one number per choice ({len(options)})")
        weights = tuple(_number(w) for w in weights)
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError("weights must be non-negative and not all zero")
    return Choice(tuple(parse_option(o) for o in options), weights)


def _check_bounds(low: Any, high: Any) -> None:
    low_array, high_array = np.asarray(low), np.asarray(high)
    if low_array.ndim and np.any(low_array > high_array):
        bad = [int(i) for i in np.flatnonzero(low_array > high_array)]
        raise ValueError(
            f"uniform needs low <= high in every component, got [{_plain(low)}, {_plain(high)}] "
            f"(component {', '.join(map(str, bad))} reversed)"
        )
    if np.any(low_array > high_array):
        raise ValueError(
            f"uniform needs low <= high, got [{_plain(low)}, {_plain(high)}]"
            f"; did you mean [{_plain(high)}, {_plain(low)}]?"
        )


def _check_std(std: Any) -> None:
    if np.any(np.asarray(std) < 0):
        raise ValueError(f"normal needs a standard deviation >= 0, got {_plain(std)}")


def _animated(
    value: Any, parse_value: Callable[[Any], Distribution], kind: KeyKind = "number"
) -> Distribution | None:
    """A `{ keyframes = [...] }` value parsed (simulator.world.animation), else None. `kind`
    is what the keys hold: "number", "count" (rounded between keys) or "name" (step only)."""
    if not (isinstance(value, dict) and "keyframes" in value):
        return None
    from simulator.world.animation import parse_keyframes  # it builds on this module

    return parse_keyframes(value, parse_value, kind)


def parse_scalar(value: Any) -> Distribution:
    """A real number, a distribution of real numbers, or keyframes of those."""
    if isinstance(value, Distribution):
        return value
    animated = _animated(value, parse_scalar)
    if animated is not None:
        return animated
    if _is_number(value):
        return Constant(_number(value))
    if not isinstance(value, dict):
        raise ValueError(f"expected {_FORMS}, got {value!r}")
    key = _single_key(value, ("uniform", "normal", "choice"))
    if key == "choice":
        return _choice(value, _number)
    a, b = (_number(v) for v in _pair(key, value[key]))
    if key == "uniform":
        _check_bounds(a, b)
        return Uniform(a, b)
    _check_std(b)
    return Normal(a, b)


def parse_count(value: Any) -> Distribution:
    """A whole number >= 0, `{ range = [a, b] }` (inclusive), a choice of whole numbers, or
    keyframes of those (rounded to the nearest whole number between keys)."""
    if isinstance(value, Distribution):
        return value
    animated = _animated(value, parse_count, "count")
    if animated is not None:
        return animated
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"expected a count >= 0, got {value}")
        return Constant(value)
    if not isinstance(value, dict):
        raise ValueError(f"expected a whole number or {{ range = [low, high] }}, got {value!r}")
    key = _single_key(value, ("range", "choice"))
    if key == "choice":
        return _choice(value, parse_count_constant)
    a, b = (parse_count_constant(v) for v in _pair("range", value["range"]))
    if a > b:
        raise ValueError(f"range needs low <= high, got [{a}, {b}]; did you mean [{b}, {a}]?")
    return IntRange(a, b)


def parse_count_constant(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    return value


def _vector_constant(value: Any, size: int, component: Callable[[Any], float]) -> np.ndarray:
    if not isinstance(value, (list, tuple)) or len(value) != size:
        raise ValueError(f"expected a list of {size} numbers, got {value!r}")
    return np.array([component(v) for v in value], dtype=float)


def parse_vector(
    value: Any, size: int = 3, component: Callable[[Any], float] = _number
) -> Distribution:
    """A vector of `size` numbers: constant, per-component distributions, vector bounds, or
    keyframes of those."""
    if isinstance(value, Distribution):
        return value
    animated = _animated(value, partial(parse_vector, size=size, component=component))
    if animated is not None:
        return animated
    if isinstance(value, (list, tuple)):
        if len(value) != size:
            raise ValueError(f"expected {size} components, got {len(value)}: {value!r}")
        if all(_is_number(v) for v in value):
            return Constant(_vector_constant(value, size, component))
        return Components(
            tuple(Constant(component(v)) if _is_number(v) else parse_scalar(v) for v in value)
        )
    if not isinstance(value, dict):
        raise ValueError(f"expected a list of {size} numbers or {_FORMS}, got {value!r}")
    key = _single_key(value, ("uniform", "normal", "choice"))
    vec = partial(_vector_constant, size=size, component=component)
    if key == "choice":
        return _choice(value, vec)
    a, b = _pair(key, value[key])
    if key == "uniform":
        low, high = vec(a), vec(b)
        _check_bounds(low, high)
        return Uniform(low, high)
    mean, std = vec(a), _vector_constant(b, size, _number)
    _check_std(std)
    return Normal(mean, std)


def _unit(value: Any) -> float:
    number = _number(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"color components are in [0, 1], got {value!r}")
    return number


def _hex_color(value: str) -> list[float]:
    text = value[1:] if value.startswith("#") else ""
    if len(text) != 6:
        raise ValueError(f"expected a color as '#rrggbb', got {value!r}")
    try:
        return [int(text[i : i + 2], 16) / 255.0 for i in (0, 2, 4)]
    except ValueError:
        raise ValueError(f"expected a color as '#rrggbb', got {value!r}") from None


def _colors_as_lists(value: Any) -> Any:
    if isinstance(value, str):
        return _hex_color(value)
    if isinstance(value, dict):
        return {k: (_colors_as_lists(v) if k != "weights" else v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and any(isinstance(v, (str, list, tuple)) for v in value):
        return [_colors_as_lists(v) for v in value]
    return value


@dataclass(frozen=True)
class Clipped(Distribution):
    """Samples of `inner` clipped to [low, high] (colors drawn from a normal stay colors)."""

    inner: Distribution
    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> Any:
        return np.clip(self.inner.sample(rng), self.low, self.high)

    def describe(self) -> Any:
        return self.inner.describe()


def parse_color(value: Any) -> Distribution:
    """An RGB color in [0, 1]: [r, g, b], '#rrggbb', or a distribution of those. Draws
    outside [0, 1] (from a normal, say) are clipped. Keyframes of colors too."""
    animated = _animated(value, parse_color)
    if animated is not None:
        return animated
    inner = parse_vector(_colors_as_lists(value), 3, _unit)
    return inner if isinstance(inner, (Constant, Clipped)) else Clipped(inner, 0.0, 1.0)


def parse_option(value: Any, options: Sequence[str]) -> Distribution:
    """One of a fixed set of names, a choice among them, or keyframes of those (step)."""

    def one(v: Any) -> str:
        if v not in options:
            raise ValueError(
                f"expected one of {', '.join(map(repr, options))}, got {v!r}"
                + (did_you_mean(v, options) if isinstance(v, str) else "")
            )
        return str(v)

    if isinstance(value, Distribution):
        return value
    return _named(value, one, partial(parse_option, options=options))


def _named(
    value: Any, one: Callable[[Any], Any], parse_value: Callable[[Any], Distribution]
) -> Distribution:
    """`one(value)`, a choice of such values, or keyframes of those (step only)."""
    animated = _animated(value, parse_value, "name")
    if animated is not None:
        return animated
    if isinstance(value, dict):
        _single_key(value, ("choice",))
        return _choice(value, one)
    return Constant(one(value))


def _a_name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a name (a non-empty string), got {value!r}")
    return value


def parse_name(value: Any) -> Distribution:
    """A name (any non-empty string: the plugin checks it against what it knows, e.g. with
    `outcomes()`), a choice of names, or keyframes of those (step)."""
    if isinstance(value, Distribution):
        return value
    return _named(value, _a_name, parse_name)


def _a_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def parse_flag(value: Any) -> Distribution:
    """true or false, a choice of them (`{ choice = [true, false], weights = [3, 1] }`), or
    keyframes of those (step): a light switched off half way through a clip."""
    if isinstance(value, Distribution):
        return value
    return _named(value, _a_flag, parse_flag)


def _pair_schema(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item, "minItems": 2, "maxItems": 2}


def _choice_schema(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "choice": {"type": "array", "items": item, "minItems": 1},
            "weights": {"type": "array", "items": {"type": "number", "minimum": 0}},
        },
        "required": ["choice"],
        "additionalProperties": False,
    }


def _varying(value: dict[str, Any], description: str, *more: dict[str, Any]) -> dict[str, Any]:
    """JSON Schema of a value or a uniform / normal / choice distribution of such values."""
    bounds = {
        "type": "object",
        "properties": {"uniform": _pair_schema(value), "normal": _pair_schema(value)},
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
    }
    plain = [value, *more, bounds, _choice_schema(value)]
    return {"description": description, "anyOf": [*plain, _keyframes_schema({"anyOf": plain})]}


def _keyframes_schema(
    value: dict[str, Any], curves: Sequence[str] = ("linear", "smooth", "step")
) -> dict[str, Any]:
    """`{ keyframes = [[time, value], ...], curve = ... }` (simulator.world.animation); names
    take the curve "step" only."""
    key = {
        "type": "array",
        "items": [{"type": "number", "minimum": 0, "maximum": 1}, value],  # [time, value]
        "minItems": 2,
        "maxItems": 2,
    }
    return {
        "type": "object",
        "properties": {
            "keyframes": {"type": "array", "items": key, "minItems": 1},
            "curve": {"enum": list(curves)},
        },
        "required": ["keyframes"],
        "additionalProperties": False,
    }


_NUMBER = {"type": "number"}
_VECTOR = {"type": "array", "items": _NUMBER, "minItems": 3, "maxItems": 3}
_SCALAR_DESCRIPTION = "a number or a distribution of numbers"
SCALAR_SCHEMA = _varying(_NUMBER, _SCALAR_DESCRIPTION)
_COLOR_VALUE = {
    "anyOf": [
        {
            "type": "array",
            "items": {"type": "number", "minimum": 0, "maximum": 1},
            "minItems": 3,
            "maxItems": 3,
        },
        {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
    ]
}
_COUNT = {"type": "integer", "minimum": 0}
_COUNT_PLAIN = [
    _COUNT,
    {
        "type": "object",
        "properties": {"range": _pair_schema(_COUNT)},
        "required": ["range"],
        "additionalProperties": False,
    },
    _choice_schema(_COUNT),
]


def _named_schema(value: dict[str, Any], description: str) -> dict[str, Any]:
    """JSON Schema of a name (or switch), a choice of them, or keyframes of those (step)."""
    plain = [value, _choice_schema(value)]
    return {
        "description": description,
        "anyOf": [*plain, _keyframes_schema({"anyOf": plain}, ("step",))],
    }


def _annotated(parser: Callable[[Any], Distribution], schema: dict[str, Any]) -> Any:
    return Annotated[
        Distribution,
        BeforeValidator(parser),
        PlainSerializer(lambda d: d.describe()),
        WithJsonSchema(schema),
    ]


Scalar = _annotated(parse_scalar, SCALAR_SCHEMA)
Count = _annotated(
    parse_count,
    {
        "description": "a whole number or { range = [low, high] }",
        "anyOf": [*_COUNT_PLAIN, _keyframes_schema({"anyOf": _COUNT_PLAIN})],
    },
)
Name = _annotated(
    parse_name, _named_schema({"type": "string", "minLength": 1}, "a name or a choice of names")
)
Flag = _annotated(parse_flag, _named_schema({"type": "boolean"}, "true, false or a choice"))
Vec3 = _annotated(
    parse_vector,
    _varying(
        _VECTOR,
        "[x, y, z] or a distribution of 3-vectors",
        {"type": "array", "items": SCALAR_SCHEMA, "minItems": 3, "maxItems": 3},
    ),
)
Color = _annotated(
    parse_color,
    _varying(
        _COLOR_VALUE,
        "[r, g, b] in [0, 1], '#rrggbb', or a distribution of colors",
        {"type": "array", "items": SCALAR_SCHEMA, "minItems": 3, "maxItems": 3},
    ),
)


def OneOf(*options: str) -> Any:
    """A field holding one of `options`, a `{ choice = [...] }` among them, or keyframes of
    those (step)."""
    schema = _named_schema({"enum": list(options)}, "one of " + ", ".join(options))
    return _annotated(partial(parse_option, options=options), schema)
