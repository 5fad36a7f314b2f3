"""sim-pipes-lite: procedural tobacco pipes for sim.

Installed, this package is the `pipes_lite` plugin (entry point group `sim`): world files
can then name the spawner `lite_pipe` and the randomizer `wood_tone`.
"""

from simulator import hookimpl

from sim_pipes_lite.spawner import LitePipe
from sim_pipes_lite.wood import WoodTone

__all__ = ["LitePipe", "WoodTone"]


@hookimpl
def sim_register_spawners(register):
    register(LitePipe)


@hookimpl
def sim_register_randomizers(register):
    register(WoodTone)
