"""`sim replay`: re-render one frame of a finished dataset from its manifest alone.

The manifest holds the validated world (every parameter, the seed) and the world file's
path, which relative plugin and model paths need. Frame i depends only on (world, seed, i),
so the replayed frame's files equal the dataset's byte for byte on the same software stack
(the manifest records the versions and the renderer that made it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulator.dataset.read import open_dataset
from simulator.errors import OutputError
from simulator.run.runner import RunOptions, RunSummary, run
from simulator.world.load import restore_world
from simulator.world.schema import World


def world_of(dataset: Path) -> World:
    """The world that made `dataset`, as its manifest recorded it."""
    return _world(open_dataset(dataset).manifest)


def _world(manifest: dict[str, Any]) -> World:
    file = manifest.get("world_file")
    text = Path(file).read_text() if file and Path(file).is_file() else ""
    return restore_world((manifest["world"], file, text))


def replay(
    dataset: Path, frame: int, out: Path, overwrite: bool = False, trust_plugins: bool = False
) -> RunSummary:
    """Render frame `frame` of `dataset` again into `out` (a one-frame dataset).

    A manifest is data: plugin files it names (the world's `[plugins] paths`) are code, and
    run only with `trust_plugins`, as `sim run` would run them for a world file one chose
    to run. Installed plugins load as always. `out` is replaced only with `overwrite`."""
    manifest = open_dataset(dataset).manifest
    world = _world(manifest)
    start = manifest.get("start", 0)
    if not start <= frame < start + manifest.get("frames", 0):
        raise OutputError(
            f"frame {frame} is not in {dataset} (frames {start} to "
            f"{start + manifest.get('frames', 0) - 1})"
        )
    if world.plugins.paths and not trust_plugins:
        raise OutputError(
            f"the world of {dataset} loads plugin files ({', '.join(world.plugins.paths)}), "
            "which are code; replay runs them only with --trust-plugins"
        )
    return run(world, RunOptions(out, start=frame, frames=1, overwrite=overwrite))
