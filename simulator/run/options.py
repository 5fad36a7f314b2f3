"""What a run is asked to do, as one object: `RunOptions`, and what it reports as it goes:
`RunCallbacks`.

`sim run` builds the options from its flags; a script builds them directly:

    run(world, RunOptions(Path("out/big"), workers=2))

The options are frozen, so one object can describe several runs (`dataclasses.replace` makes
a variant), and every field but the output directory is named, so a call reads as the flags
it stands for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

from simulator.labels.records import FrameLabels
from simulator.run.shards import SHARD_SIZE


@dataclass(frozen=True)
class RunOptions:
    """A run's options; the defaults are `sim run`'s, except `workers` (one process here)."""

    out: Path | None = None  # the dataset directory; None: the world's output directory
    _: KW_ONLY
    start: int = 0  # the first frame index
    frames: int | None = None  # how many frames; None: the world's
    overwrite: bool = False  # replace a dataset already in `out`
    resume: bool = False  # continue the interrupted run in `out`: redo only unfinished shards
    skip_failed: bool = False  # leave out a frame whose plugin raises, instead of stopping
    workers: int = 1  # rendering processes, this one included
    shard_size: int = SHARD_SIZE  # frames per shard (see simulator.run.shards)
    backend: str = "local"  # where shards render: a name in simulator.run.backends.BACKENDS
    address: str = "auto"  # the Ray cluster's address, for backend "ray"
    plugins_dirs: Sequence[Path] = ()  # load every .py file in these directories as a plugin
    trace: bool | None = None  # print every plugin call (None: as SIM_TRACE_PLUGINS says)
    plugins: Sequence[object] = ()  # plugin objects for this process's Renderer


def _ignore(*args: object) -> None:
    """The callback that was not asked for."""


@dataclass(frozen=True)
class RunCallbacks:
    """What a run reports while it renders (the progress bar, the live preview).

    `on_frame(index)` follows every frame done, wherever it was rendered, in no fixed order;
    `on_shard(done, total, active)` follows every shard done (and comes once before the first,
    counting the shards a resumed run found done), `active` being the renderers at work;
    `on_labels(frame)` gets each frame's labels, for frames rendered in this process only.
    """

    on_frame: Callable[[int], None] = _ignore
    on_shard: Callable[[int, int, int], None] = _ignore
    on_labels: Callable[[FrameLabels], None] | None = None
