"""Typed plugin parameters: the base model every plugin's `Params` subclasses, and path
parameters resolved against the world file."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo


class Params(BaseModel):
    """Base of every plugin parameter model: unknown keys are errors, defaults are validated."""

    # No nan or inf anywhere: TOML allows them, and a NaN position would reach the labels.
    model_config = ConfigDict(
        extra="forbid", validate_default=True, frozen=True, allow_inf_nan=False
    )


def world_path(value: str, info: ValidationInfo) -> Path:
    """A path parameter resolved as world files mean it: relative to the world file's folder.
    Call it from a field validator, which receives `info` from pydantic."""
    return (Path((info.context or {}).get("world_dir", ".")) / value).resolve()


def _dataset_path(value: str) -> str:
    """A file's place inside the dataset folder: relative, forward slashes, no `..`."""
    path = PurePosixPath(value)
    if not value or "\\" in value or path.is_absolute() or ".." in path.parts or value == ".":
        raise ValueError(
            f"{value!r} must be a relative path without '..': a world file writes only inside "
            "its output folder (choose other places with --out)"
        )
    return value


def _plain_name(value: str) -> str:
    """A name that is also one folder's name: no separators, not '.' or '..', not empty."""
    if not value.strip() or "/" in value or "\\" in value or value in (".", "..") or "\0" in value:
        raise ValueError(
            f"{value!r} is not a plain name (it names a folder: no '/', no '..', not empty)"
        )
    return value


# A writer's file inside the dataset folder, e.g. `path: DatasetPath = "annotations/x.json"`.
DatasetPath = Annotated[str, AfterValidator(_dataset_path)]
# A name that becomes a folder (a world's, a writer's part of a shard).
PlainName = Annotated[str, AfterValidator(_plain_name)]
