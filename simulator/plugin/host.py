"""Finding plugins and collecting what they register.

sim's own features are plugins too (`DEFAULT_PLUGINS`, in the repository's plugins/ folder,
installed as `sim_plugins`), registered through the same hooks third parties use. Others
come from the `sim` entry-point group of installed packages, from local files, and from
plugin objects handed to the host in-process (as pytest's `main(args, plugins=[...])`).
Every hook is called through pluggy; `simulator.plugin.calls` traces and blames the calls.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import itertools
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Generic, TypeVar

import pluggy

from simulator.errors import PluginError, UnknownNameError, did_you_mean
from simulator.plugin import hookspecs
from simulator.plugin.calls import HookCalls
from simulator.plugin.components import Labeler, Randomizer, Spawner, Writer
from simulator.world.params import Params

DEFAULT_PLUGINS = (
    "sim_plugins.primitives",
    "sim_plugins.models",
    "sim_plugins.asset_folder",
    "sim_plugins.pipes",
    "sim_plugins.placement",
    "sim_plugins.scatter",
    "sim_plugins.physics",
    "sim_plugins.surfaces",
    "sim_plugins.appearance",
    "sim_plugins.material_library",
    "sim_plugins.lighting",
    "sim_plugins.environments",
    "sim_plugins.camera",
    "sim_plugins.sensor",
    "sim_plugins.depth_sensor",
    "sim_plugins.coco",
    "sim_plugins.native",
    "sim_plugins.pointcloud",
    "sim_plugins.yolo",
    "sim_plugins.voc",
    "sim_plugins.kitti",
    "sim_plugins.bop",
    "sim_plugins.mot",
    "sim_plugins.vis",
)
ENTRY_POINT_GROUP = "sim"

T = TypeVar("T", Spawner, Randomizer, Writer, Labeler)


@dataclass(frozen=True)
class Registration(Generic[T]):
    component: type[T]
    plugin: str


class Registry(Generic[T]):
    """Components of one kind by name; unknown names get "did you mean ...?"."""

    def __init__(self, kind: str, base: type[T]) -> None:
        self.kind: str = kind
        self.base: type[T] = base
        self._items: dict[str, Registration[T]] = {}

    def add(self, component: type[T], plugin: str) -> None:
        if not (isinstance(component, type) and issubclass(component, self.base)):
            raise PluginError(
                f"plugin {plugin!r} registered {component!r} as a {self.kind}, "
                f"but it is not a subclass of simulator.{self.base.__name__}"
            )
        name = component.name
        if not name:
            raise PluginError(f"plugin {plugin!r}: {self.kind} {component.__name__} has no `name`")
        if not (isinstance(component.Params, type) and issubclass(component.Params, Params)):
            raise PluginError(
                f"plugin {plugin!r}: {self.kind} {name!r} Params must subclass simulator.Params"
            )
        if name in self._items:
            raise PluginError(
                f"{self.kind} {name!r} is registered twice: by plugin "
                f"{self._items[name].plugin!r} and by plugin {plugin!r}"
            )
        self._items[name] = Registration(component, plugin)

    def get(self, name: str) -> Registration[T]:
        try:
            return self._items[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self._items) from None

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self):
        return iter(sorted(self._items.items()))

    def names(self) -> list[str]:
        return sorted(self._items)


def plugin_files(directories: Iterable[Path]) -> list[Path]:
    """Every .py file in `directories` (`--plugins-dir`), in name order, as plugin files. A
    directory that is not there is an error, not silently no plugins."""
    for directory in map(Path, directories):
        if not directory.is_dir():
            problem = "is not a directory" if directory.exists() else "does not exist"
            raise PluginError(f"--plugins-dir {directory} {problem}")
    return [p.resolve() for d in directories for p in sorted(Path(d).glob("*.py"))]


def _import_file(path: Path) -> ModuleType:
    name = f"sim_local_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"plugin file {path} cannot be imported (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as error:
        del sys.modules[name]
        raise PluginError(
            f"plugin file {path} failed to import: {type(error).__name__}: {error}"
        ) from error
    return module


class PluginHost:
    """The plugin manager and the registries of spawners, randomizers and writers.

    `plugins` are plugin objects (modules, classes or namespaces with `@hookimpl` functions)
    registered in this process after every other plugin, so pluggy calls them first. Each is
    named by its `__name__` (dots as underscores), with `_2`, `_3`... when the name is taken;
    `disable` never drops one. They live only in this process: worker processes cannot see
    them.
    """

    def __init__(
        self,
        files: Iterable[Path] = (),
        disable: Iterable[str] = (),
        entry_points: bool = True,
        trace: bool | None = None,
        plugins: Iterable[object] = (),
    ) -> None:
        self.tracing = (
            os.environ.get("SIM_TRACE_PLUGINS", "") not in ("", "0") if trace is None else trace
        )
        self.pm = pluggy.PluginManager("sim")
        self.pm.add_hookspecs(hookspecs)
        self.calls = HookCalls(self.tracing)
        self.pm.add_hookcall_monitoring(self.calls.before, self.calls.after)
        self._disabled = set(disable)
        seen: list[str] = []
        for module_name in DEFAULT_PLUGINS:
            seen.append(
                self._add(
                    module_name.rsplit(".", 1)[-1], lambda m=module_name: importlib.import_module(m)
                )
            )
        if entry_points:
            for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
                seen.append(self._add(ep.name, ep.load, f" (entry point {ep.value})"))
        for path in files:
            seen.append(self._add(path.stem, lambda p=path: _import_file(p)))
        for plugin in plugins:
            self._add_object(plugin)
        for name in self._disabled - set(seen):
            raise PluginError(
                f"cannot disable plugin {name!r}: no such plugin{did_you_mean(name, seen)}"
            )
        self._check_pending()
        self.spawners = self._collect("spawner", Spawner, "sim_register_spawners")
        self.randomizers = self._collect("randomizer", Randomizer, "sim_register_randomizers")
        self.writers = self._collect("writer", Writer, "sim_register_writers")
        self.labelers = self._collect("labeler", Labeler, "sim_register_labelers")

    def _add(self, name: str, load, origin: str = "") -> str:
        if name in self._disabled:
            return name
        if self.pm.has_plugin(name):
            raise PluginError(f"two plugins are named {name!r}{origin}; rename one")
        try:
            module = load()
        except PluginError:
            raise
        except Exception as error:
            raise PluginError(
                f"plugin {name!r}{origin} failed to import: {type(error).__name__}: {error}"
            ) from error
        try:
            self.pm.register(module, name=name)
        except pluggy.PluginValidationError as error:
            raise PluginError(f"plugin {name!r}: {error}") from None
        return name

    def _add_object(self, plugin: object) -> None:
        """Register an in-process plugin object under a name no other plugin has."""
        if self.pm.is_registered(plugin):
            raise PluginError(
                f"plugin object {plugin!r} is given twice (it is already plugin "
                f"{self.pm.get_name(plugin)!r})"
            )
        base = str(getattr(plugin, "__name__", "plugin")).replace(".", "_")
        names = itertools.chain([base], (f"{base}_{n}" for n in itertools.count(2)))
        name = next(n for n in names if not (self.pm.has_plugin(n) or n in self._disabled))
        self._add(name, lambda: plugin, " (in-process)")

    def _check_pending(self) -> None:
        """Every hook implementation matches a hookspec: a misspelled hook fails here."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as error:
            name = self.pm.get_name(error.plugin) or repr(error.plugin)
            hook = re.search(r"unknown hook '([^']+)'", str(error))
            problem = f"unknown hook {hook.group(1)!r}" if hook else str(error)
            known = [h for h in dir(hookspecs) if h.startswith("sim_")]
            raise PluginError(
                f"plugin {name!r}: {problem}{did_you_mean(hook.group(1), known) if hook else ''}"
            ) from None

    def _collect(self, kind: str, base: type[T], hook: str) -> Registry[T]:
        """Call a registration hook once per implementing plugin, in registration order.

        `register` must carry the name of the plugin that calls it (a name registered twice
        is an error naming both plugins), but pluggy hands every implementation of one call
        the same arguments and says nothing of which one is running. So each plugin gets a
        call of its own, with its own `register`, through pluggy's executor with every
        plugin's wrappers around it: wrappers, tracing and blame run as for any call. The
        alternatives guess: a shared callback would have to read the caller off the stack,
        which cannot tell apart plugins whose functions share code (two made by one factory),
        and `pm.subset_hook_caller` needs hashable plugins (namespaces are not)."""
        registry: Registry[T] = Registry(kind, base)
        impls: list[pluggy.HookImpl] = getattr(self.pm.hook, hook).get_hookimpls()
        wrappers: list[pluggy.HookImpl] = [i for i in impls if i.wrapper or i.hookwrapper]
        for impl in impls:
            if not (impl.wrapper or impl.hookwrapper):
                register = functools.partial(registry.add, plugin=impl.plugin_name)
                self.pm._hookexec(hook, [impl, *wrappers], {"register": register}, False)
        return registry

    def trace(self, message: str) -> None:
        """With SIM_TRACE_PLUGINS=1 (or --trace-plugins), one line per plugin call on stderr."""
        self.calls.trace(message)

    def call(self, hook: str, **kwargs: Any) -> None:
        """Call a lifecycle hook through pluggy (`pm.hook.<hook>(...)`): every implementation,
        in pluggy's order, inside the plugins' wrappers. A plugin's exception comes out as a
        PluginError naming the plugin, the hook and the frame (see simulator.plugin.calls)."""
        getattr(self.pm.hook, hook)(**kwargs)

    def plugin_names(self) -> list[str]:
        return sorted(name for name, _ in self.pm.list_name_plugin())
