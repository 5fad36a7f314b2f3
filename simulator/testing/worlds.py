"""Rendering worlds in tests: a world from a dict, rendered with plugin objects, read back."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from simulator.dataset.read import open_dataset
from simulator.plugin.host import ENTRY_POINT_GROUP
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world, validation_error
from simulator.world.schema import World, WriterEntry

RESOLUTION = (96, 72)


@dataclass
class Dataset:
    """A rendered dataset: its folder, manifest, native records and COCO file (if written)."""

    root: Path
    manifest: dict[str, Any]
    records: list[dict[str, Any]]
    coco: dict[str, Any] | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def objects(self) -> list[dict[str, Any]]:
        """Every labeled object of every frame, in frame order."""
        return [obj for record in self.records for obj in record["objects"]]


def render_world(
    world: Path | str | Mapping[str, Any],
    out: Path,
    *plugins: object,
    frames: int = 2,
    resolution: tuple[int, int] | None = RESOLUTION,
    seed: int | None = None,
) -> Dataset:
    """Render `frames` frames of a world (a world file, or the tables of one as a dict) into
    a new dataset folder `out`, with `plugins` (modules, or objects with @hookimpl
    functions) registered for this run only. An installed plugin that is the same module
    as one of `plugins` is left out, so a package can be tested installed or not.

    `resolution` replaces the world's (None keeps it). The `native` writer is added if the
    world lacks it, for the records."""
    loaded = load_world(world) if isinstance(world, (str, Path)) else world_from(world)
    if resolution is not None:
        loaded.camera.resolution = resolution
    if seed is not None:
        loaded.world.seed = seed
    if not any(w.type == "native" for w in loaded.output.writers):
        loaded.output.writers.append(WriterEntry(type="native"))
    modules = {getattr(p, "__name__", None) for p in plugins}
    installed = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    loaded.plugins.disable += [ep.name for ep in installed if ep.module in modules]
    run(loaded, RunOptions(out, frames=frames, plugins=plugins))
    return read_dataset(out)


def world_from(tables: Mapping[str, Any]) -> World:
    """A world from the tables of a world file as a dict (relative paths in it are taken
    from the current directory); WorldError, as for a file, if it is not valid."""
    try:
        return World.model_validate(tables)
    except ValidationError as error:
        raise validation_error(error, World, "", None) from None


def read_dataset(root: Path) -> Dataset:
    """A dataset folder written by `sim run`, read back (OutputError, naming the file, when
    something is missing or malformed)."""
    folder = open_dataset(root)
    coco = folder.coco() if folder.has_coco else None
    return Dataset(root, folder.manifest, list(folder.records()), coco, folder.files())
