"""The hooks a sim plugin implements. Every hook is prefixed `sim_`, typed and documented.

A plugin is a module (a local file, an installed package's entry point in the `sim` group,
or one of sim's bundled plugins) with functions decorated `@hookimpl`::

    from simulator import hookimpl

    @hookimpl
    def sim_register_spawners(register):
        register(MyPipes)

A function named like a hook that matches no spec is an error at start-up.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from simulator.labels.records import FrameLabels
from simulator.plugin.components import DatasetInfo, Labeler, Randomizer, Spawner, Writer
from simulator.scene.scene import Scene

hookspec = pluggy.HookspecMarker("sim")
hookimpl = pluggy.HookimplMarker("sim")


@hookspec
def sim_register_spawners(register: Callable[[type[Spawner]], None]) -> None:
    """Register spawner classes by calling `register(SpawnerClass)` once per class.

    The class's `name` is what world files write as `type = "..."` in `[[spawners]]`; a name
    registered by two plugins is an error naming both. Returns nothing; every plugin's
    implementation is called.
    """


@hookspec
def sim_register_randomizers(register: Callable[[type[Randomizer]], None]) -> None:
    """Register randomizer classes by calling `register(RandomizerClass)` once per class.

    The class's `name` is what world files write as `type = "..."` in `[[randomizers]]`.
    Returns nothing; every plugin's implementation is called.
    """


@hookspec
def sim_register_writers(register: Callable[[type[Writer]], None]) -> None:
    """Register dataset writer classes by calling `register(WriterClass)` once per class.

    The class's `name` is what world files list in `[output] writers`. Returns nothing; every
    plugin's implementation is called.
    """


@hookspec
def sim_register_labelers(register: Callable[[type[Labeler]], None]) -> None:
    """Register labeler classes by calling `register(LabelerClass)` once per class.

    A labeler adds ground truth of its own to every frame (a custom per-object attribute, a
    per-frame value); world files enable it in `[[labelers]]` by its `name`. Returns nothing;
    every plugin's implementation is called.
    """


@hookspec
def sim_run_start(dataset: DatasetInfo) -> None:
    """Called once when a run starts, after the world is validated and the first frame has
    rendered, before any file of the dataset is written. Returns nothing."""


@hookspec
def sim_frame_start(frame: int, seed: int, scene: Scene) -> None:
    """Called for every frame after the spawners and randomizers built `scene`, before it is
    rendered; may still change the scene. Draw randomness only from
    `simulator.seeding.stream(seed, frame, "<your plugin>")`, so frames stay reproducible.
    Returns nothing."""


@hookspec
def sim_after_capture(frame: FrameLabels) -> None:
    """Called for every frame once its passes are rendered and its labels derived (labelers
    included), before the writers see it; may add to `frame.extra` or to objects'
    `attributes`. Returns nothing."""


@hookspec
def sim_frame_end(frame: FrameLabels) -> None:
    """Called for every frame after every writer has written it. Returns nothing."""


@hookspec
def sim_run_end(dataset: DatasetInfo, frames: int, seconds: float) -> None:
    """Called once when a run has written its last frame and closed its writers, with the
    number of frames written and the run's duration. Not called when a run stops early.
    Returns nothing."""
