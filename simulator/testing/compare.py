"""Comparing what components build: scene records, parameters, global random state."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
from pydantic import BaseModel

from simulator.world.distributions import Constant, Distribution


def global_random_state() -> tuple[Any, dict[str, Any]]:
    return random.getstate(), np.random.get_state(legacy=False)


def global_random_state_changed(before: tuple[Any, dict[str, Any]]) -> str:
    """Which global random state changed since `before`: "numpy's", "Python's" or ""."""
    python, numpy = global_random_state()
    old = before[1]
    same_numpy = (
        np.array_equal(old["state"]["key"], numpy["state"]["key"])
        and old["state"]["pos"] == numpy["state"]["pos"]
        and old["has_gauss"] == numpy["has_gauss"]
    )
    if not same_numpy:
        return "numpy's (np.random)"
    if python != before[0]:
        return "Python's (random)"
    return ""


def random_fields(params: Any, prefix: str = "") -> list[str]:
    """Names of the parameters holding a distribution that is not a constant."""
    if isinstance(params, Distribution):
        return [] if isinstance(params, Constant) else [prefix]
    if isinstance(params, BaseModel):
        items: Iterator[tuple[str, Any]] = (
            (f"{prefix}.{name}" if prefix else name, getattr(params, name))
            for name in type(params).model_fields
        )
    elif isinstance(params, (list, tuple)):
        items = ((f"{prefix}[{i}]", value) for i, value in enumerate(params))
    elif isinstance(params, dict):
        items = ((f"{prefix}[{key!r}]", value) for key, value in params.items())
    else:
        return []
    return [name for key, value in items for name in random_fields(value, key)]


def without_sources(record: dict[str, Any]) -> dict[str, Any]:
    """A scene record without the entities' `source` (an entry's name, not a draw)."""
    entities = [{k: v for k, v in e.items() if k != "source"} for e in record["entities"]]
    return {**record, "entities": entities}


def difference(a: Any, b: Any, path: str = "scene") -> str:
    """Where two records first differ, e.g. "entities[0].position: [0, 1, 0] != [0, 2, 0]"."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in a or key not in b:
                return f"{path}.{key} is missing from one of them"
            found = difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} has {len(a)} items, then {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return ""
    return "" if a == b else f"{path}: {a!r} != {b!r}"
