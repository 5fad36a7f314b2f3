"""Where a world's animated values (simulator.world.animation) may be, and what runs them.

An animated value needs a time, so a world without `[clip]` may not hold one. In a clip,
spawners, labelers and writers act once (on the clip's scene, or on a labeled frame that
has no say over the scene), so theirs are refused too, as are the parameters of a randomizer
that must act once on the clip's scene (`once_per_clip`: `throw` simulates the clip,
`camera_motion` writes its path): each is drawn once per clip, and taking the first key
silently would hide the mistake. A spawner's `count` may rise over the clip: the clip's scene
holds the most it reaches, and each object joins the frames from the one where the count
first passes its place (Pipeline._arrivals, capture.clips.joined). Any other randomizer's
animated value is honoured on every frame: a per-frame randomizer reads it at the frame's
time; a per-clip one (`timing = "clip"`, such as `film`, `light` or `sky`) holding one is run
on every frame instead of once, with the stream of its clip, so its other draws are the
clip's on every frame (the white balance of an exposure ramp holds) and only the animated
values change.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from simulator.errors import WorldError
from simulator.world.animation import Keyframes, animated_values
from simulator.world.distributions import Constant
from simulator.world.schema import World
from simulator.world.tomlpos import format_path, locate

_HINT_NO_CLIP = (
    "animated values change over a clip's time: add a [clip] section (frames, fps; "
    "docs/time.md), or give a plain value or distribution"
)
_HINT_ONCE = (
    "give a plain value or a distribution (drawn once per clip), or animate a parameter of "
    "a randomizer that acts on every frame: film, light, surface_material, sensor_noise, ..."
)
_WHY = {  # why an entry of this kind draws its values once per clip
    "spawner": "builds the clip's scene at its start",
    "writer": "acts on labeled frames, not on the scene",
    "labeler": "acts on labeled frames, not on the scene",
    "randomizer": "acts once on the clip's scene: it simulates it or writes its motion",
}


def animated_names(
    world: World,
    randomizers: Sequence[Any],
    fixed: Sequence[tuple[str, Sequence[Any]]],
) -> tuple[dict[int, str], set[str]]:
    """The stream name of every animated value of the world's randomizers (by identity),
    and the keys of the per-clip randomizers that hold one (they run on every frame).
    `randomizers` and the `fixed` kinds (kind, bound entries) are Bound entries of the
    pipeline; an animated value where none may be is a WorldError naming its TOML path."""
    names: dict[int, str] = {}
    for kind, bounds in fixed:
        for bound in bounds:
            _refuse_all(world, bound, kind)
            if kind == "spawner" and isinstance(bound.entry.count, Keyframes):
                names[id(bound.entry.count)] = _joining(world, bound)
    promoted: set[str] = set()
    for bound in randomizers:
        if bound.component.once_per_clip:
            _refuse_all(world, bound, "randomizer")
        for path, value in animated_values(bound.params):
            if world.clip is None:
                _refuse(world, bound.location, path, "", bound.entry.key)
            names[id(value)] = f"keyframes:{bound.entry.key}:{format_path(path)}"
            if bound.component.timing == "clip":
                promoted.add(bound.entry.key)
    return names, promoted


def _joining(world: World, bound: Any) -> str:
    """The stream name of a spawner's `count` animated over the clip (objects join the clip
    as it rises); refused without a clip, or where its constant keys fall (objects join a
    clip, they never leave it)."""
    location = (*bound.location, "count")
    if world.clip is None:
        _refuse(world, bound.location, ("count",), "spawner", bound.entry.key)
    constants = [value.value for _, value in bound.entry.count.keys if isinstance(value, Constant)]
    for before, after in itertools.pairwise(constants):
        if after < before:
            raise WorldError(
                f"the count falls from {before} to {after}: objects join a clip as its count "
                "rises, and never leave it",
                file=world.file,
                line=locate(world.text, location) if world.text else None,
                toml_path=format_path(location),
                hint="give keys that rise (or hold), e.g. keyframes = [[0, 2], [0.5, 6]]",
            )
    return f"keyframes:spawner:{bound.entry.key}:count"


def _refuse_all(world: World, bound: Any, kind: str) -> None:
    """Refuse the first animated value among the parameters of the entry `bound`."""
    for path, _ in animated_values(bound.params):
        _refuse(world, bound.location, path, kind, bound.entry.key)


def _refuse(
    world: World,
    entry: tuple[str | int, ...],
    path: tuple[str | int, ...],
    kind: str,
    key: str,
) -> None:
    """The error for an animated value at `path` in the entry at `entry` (TOML paths)."""
    location = (*entry, *path)
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
        f"{format_path(path)} is drawn once per clip, so it cannot be animated (keyframes): "
        f"{kind} {key!r} {_WHY[kind]}",
        file=world.file,
        line=line,
        toml_path=where,
        hint=_HINT_ONCE,
    )
