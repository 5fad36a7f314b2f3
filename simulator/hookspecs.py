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
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from simulator.components import Randomizer, Spawner, Writer

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
