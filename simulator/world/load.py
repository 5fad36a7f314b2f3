"""Reading world files: TOML -> `World`, with every error naming the file, line and fix."""

from __future__ import annotations

import importlib.util
import re
import tomllib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from simulator.errors import WorldError, did_you_mean
from simulator.world.schema import World
from simulator.world.tomlpos import format_path, locate


def load_world(path: Path | str) -> World:
    """Parse and validate a world file, or a bundled world by name (`pipes`); plugin
    parameters are checked when plugins load."""
    world = find_world(path)
    return parse_world(read_text(world), world)


def bundled_worlds() -> dict[str, Path]:
    """The worlds that ship with sim (the repository's worlds/, installed as sim_worlds)."""
    spec = importlib.util.find_spec("sim_worlds")
    if spec is None or spec.origin is None:
        return {}
    return {p.stem: p for p in sorted(Path(spec.origin).parent.glob("*.toml"))}


def find_world(path: Path | str) -> Path:
    """A world file's path: the file itself, or the bundled world a bare name names."""
    path = Path(path)
    if path.is_file():
        return path
    bundled = bundled_worlds()
    if path.name == str(path) and path.stem in bundled and path.suffix in ("", ".toml"):
        return bundled[path.stem]
    raise WorldError(
        "world file not found",
        file=path,
        hint="check the path, or name a bundled world (sim worlds lists them): "
        + ", ".join(bundled)
        + (did_you_mean(path.stem, list(bundled)) if path.name == str(path) else ""),
    )


def read_text(path: Path) -> str:
    """A world file's text. TOML is UTF-8: anything else is a WorldError naming the line of
    the first byte that is not (UTF-16 and binary files are told apart for the hint)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise WorldError(f"cannot read the world file: {error.strerror}", file=path) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise WorldError(
            "the world file is UTF-16, but TOML files are UTF-8",
            file=path,
            hint="save it as UTF-8 from your editor",
        )
    if b"\0" in data:
        raise WorldError("this is not a text file (it holds NUL bytes)", file=path)
    try:
        return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise WorldError(
            f"byte 0x{data[error.start]:02x} is not UTF-8 (TOML files are UTF-8)",
            file=path,
            line=line,
            hint="save the file as UTF-8; a Latin-1 character such as é is often the cause",
        ) from None


def parse_world(text: str, file: Path | None = None) -> World:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column \d+\)", str(error))
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise WorldError(
            f"TOML syntax error: {message}", file=file, line=int(match.group(1)) if match else None
        ) from None
    try:
        world = World.model_validate(data)
    except ValidationError as error:
        raise validation_error(error, World, text, file) from None
    world._file, world._text = file, text
    return world


def validation_error(
    error: ValidationError,
    model: type[BaseModel],
    text: str,
    file: Path | None,
    prefix: Sequence[str | int] = (),
    extra_names: Sequence[str] = (),
) -> WorldError:
    """The first pydantic error as a WorldError pointing into the world file."""
    details: list[Any] = list(error.errors(include_url=False))
    first = details[0]
    loc = tuple(first["loc"])
    path = (*prefix, *loc)
    more = (
        f" (and {len(details) - 1} more problem{'s' * (len(details) > 2)})"
        if len(details) > 1
        else ""
    )
    message, hint = _describe(first, model, loc, extra_names)
    return WorldError(
        message + more,
        file=file,
        line=locate(text, path) if text else None,
        toml_path=format_path(path) or None,
        hint=hint,
    )


def _describe(
    detail: dict[str, Any], model: type[BaseModel], loc: tuple[Any, ...], extra_names: Sequence[str]
) -> tuple[str, str | None]:
    kind = detail["type"]
    if kind == "extra_forbidden":
        known = [*_fields_at(model, loc[:-1]), *extra_names]
        return f"unknown key {loc[-1]!r}{did_you_mean(str(loc[-1]), known)}", None
    if kind == "missing":
        return "missing required key", None
    message = re.sub(r"^(Value|Assertion) error, ", "", detail["msg"])
    if kind == "literal_error" and isinstance(detail.get("input"), str):
        options = re.findall(r"'([^']*)'", message)
        return f"{message}, got {detail['input']!r}{did_you_mean(detail['input'], options)}", None
    if "input" in detail and kind not in ("value_error",) and not isinstance(detail["input"], dict):
        message += f", got {detail['input']!r}"
    return message, None


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[type[BaseModel]] = []
    if typing.get_origin(annotation) is not None or isinstance(annotation, types.UnionType):
        for arg in typing.get_args(annotation):
            found += _models_in(arg)
    return found


def _fields_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """Field names of the model found by following `loc` from `model`."""
    current: type[BaseModel] | None = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        models = _models_in(field.annotation) if field else []
        current = models[0] if models else None
    return list(current.model_fields) if current else []


WorldState = tuple[dict[str, Any], str | None, str]


def world_state(world: World) -> WorldState:
    """A validated world as plain data (its fields, file path and text), for other processes."""
    return world.model_dump(mode="json"), str(world.file) if world.file else None, world.text


def restore_world(state: WorldState) -> World:
    """The world `world_state` described, validated again."""
    data, file, text = state
    world = World.model_validate(data)
    world._file, world._text = (Path(file) if file else None), text
    return world
