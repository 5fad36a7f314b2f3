"""The component a check is about, in a small world of its own that it can build and render."""

from __future__ import annotations

import copy
import importlib.metadata
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from simulator.capture.frame import Renderer
from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import PluginError, SimError, WorldError
from simulator.plugin.components import Randomizer, Spawner
from simulator.plugin.hookspecs import hookimpl
from simulator.plugin.host import DEFAULT_PLUGINS, ENTRY_POINT_GROUP
from simulator.scene.scene import Scene
from simulator.testing.compare import global_random_state, global_random_state_changed
from simulator.testing.worlds import world_from
from simulator.world.schema import World


def registering(component: type[Spawner] | type[Randomizer]) -> SimpleNamespace:
    """A plugin, named `under_test`, that registers `component` and nothing else."""

    @hookimpl
    def sim_register_spawners(register: Callable[[type[Spawner]], None]) -> None:
        if issubclass(component, Spawner):
            register(component)

    @hookimpl
    def sim_register_randomizers(register: Callable[[type[Randomizer]], None]) -> None:
        if issubclass(component, Randomizer):
            register(component)

    return SimpleNamespace(
        __name__="under_test",
        sim_register_spawners=sim_register_spawners,
        sim_register_randomizers=sim_register_randomizers,
    )


class Subject:
    """One component in a small world (`data`, the tables of a world file): builds and
    renders its frames, and words the checks' failures after it.

    The world holds the component's plugin (unless a bundled plugin already registers it)
    and leaves installed plugins out, so a check sees the component, sim's own plugins and
    nothing else."""

    def __init__(
        self,
        kind: str,
        component: type[Spawner] | type[Randomizer],
        data: dict[str, Any],
        frames: int,
    ) -> None:
        if frames < 1:
            raise ValueError(f"frames must be >= 1, got {frames}")
        if not (isinstance(component, type) and issubclass(component, (Spawner, Randomizer))):
            raise TypeError(f"expected a Spawner or Randomizer subclass, got {component!r}")
        self.kind, self.component, self.data, self.frames = kind, component, data, frames
        self.label = f"{kind} {component.__name__} ({component.name!r})"
        bundled = component.__module__ in DEFAULT_PLUGINS
        self.plugins = [] if bundled else [registering(component)]
        installed = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        self.data["plugins"] = {"disable": sorted({ep.name for ep in installed})}

    def fail(self, problem: str) -> AssertionError:
        """The AssertionError a check raises: the component, then what it did wrong."""
        return AssertionError(f"{self.label}: {problem}")

    def world(self, **renamed: str) -> World:
        """The check's world; `renamed` gives entries (by current name) another name, which
        gives them another random stream and leaves every other draw as it was."""
        data = copy.deepcopy(self.data)
        for section in ("spawners", "randomizers"):
            for entry in data.get(section, []):
                if entry.get("name") in renamed:
                    entry["name"] = renamed[entry["name"]]
        return world_from(data)

    def renderer(self) -> Renderer:
        try:
            return Renderer(self.world(), plugins=self.plugins)
        except (WorldError, PluginError) as error:
            raise self.fail(f"the world around it does not load: {error}") from None

    def pipeline(self, **renamed: str) -> Pipeline:
        world = self.world(**renamed)
        return Pipeline(world, host_for(world, plugins=self.plugins))

    def build(self, pipeline: Pipeline, frame: int) -> Scene:
        """Build a frame, reporting plugin errors and use of global random state."""
        before = global_random_state()
        try:
            scene = pipeline.build_scene(frame)
        except SimError as error:
            raise self.fail(f"building frame {frame} failed: {error}") from None
        changed = global_random_state_changed(before)
        if changed:
            raise self.fail(
                f"draws from {changed} global random state while building frame {frame}; "
                "draw only from ctx.rng, so that every frame is reproducible"
            )
        return scene
