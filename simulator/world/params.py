"""Typed plugin parameters: the base model every plugin's `Params` subclasses, and path
parameters resolved against the world file."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationInfo


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
