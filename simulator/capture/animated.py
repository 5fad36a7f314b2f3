"""Where a world's animated values (simulator.world.animation) may be, and what runs them.

An animated value needs a time, so a world without `[clip]` may not hold one. In a clip,
spawners, labelers and writers act once (on the clip's scene, or on a labeled frame that
has no say over the scene), so theirs are refused too. A randomizer's animated value is
honoured on every frame: a per-frame randomizer reads it at the frame's time; a per-clip one
(`timing = "clip"`, such as `film`, `light` or `sky`) holding one is run on every frame
instead of once, with the stream of its clip, so its other draws are the clip's on every frame
(the white balance of an exposure ramp holds) and only the animated values change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulator.errors import WorldError
from simulator.world.animation import animated_values
from simulator.world.schema import World
from simulator.world.tomlpos import format_path, locate

_HINT_NO_CLIP = (
    "animated values change over a clip's time: add a [clip] section (frames, fps; "
    "docs/time.md), or give a plain value or distribution"
)


def animated_names(
    world: World,
    randomizers: Sequence[Any],
    fixed: Sequence[tuple[str, Sequence[Any]]],
) -> tuple[dict[int, str], set[str]]:
    """The stream name of every animated value of the world's randomizers (by identity),
    and the keys of the per-clip randomizers that hold one (they run on every frame).
    `randomizers` and the `fixed` kinds (kind, bound entries) are Bound entries of the
    pipeline; an animated value where none may be is a WorldError naming its TOML path."""
    for kind, bounds in fixed:
        for bound in bounds:
            for path, _ in animated_values(bound.params):
                _refuse(world, (*bound.location, *path), kind, bound.entry.key)
    names: dict[int, str] = {}
    promoted: set[str] = set()
    for bound in randomizers:
        for path, value in animated_values(bound.params):
            location = (*bound.location, *path)
            if world.clip is None:
                _refuse(world, location, "", bound.entry.key)
            names[id(value)] = f"keyframes:{bound.entry.key}:{format_path(path)}"
            if bound.component.timing == "clip":
                promoted.add(bound.entry.key)
    return names, promoted


def _refuse(world: World, location: tuple[str | int, ...], kind: str, key: str) -> None:
    where = format_path(location)
    line = locate(world.text, location) if world.text else None
    if world.clip is None:
        raise WorldError(
            "an animated value (keyframes), but the world has no [clip]: there is no time "
            "to animate it over",
            file=world.file,
            line=line,
            toml_path=where,
            hint=_HINT_NO_CLIP,
        )
    raise WorldError(
        f"an animated value (keyframes), but {kind} {key!r} acts once, not at each frame "
        "of the clip",
        file=world.file,
        line=line,
        toml_path=where,
        hint="animate a randomizer's parameter (film, light, sky, sensor_noise, ...), or give "
        "a plain value or distribution here",
    )
