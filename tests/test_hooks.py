"""Hooks go through pluggy: plugins' wrappers run around the implementations, in-process
plugin objects are plugins like any other, and sim's blame and tracing still name the plugin."""

import types
from typing import ClassVar

import pytest

from simulator import Entity, FrameContext, Spawner, hookimpl, meshes
from simulator.errors import PluginError
from simulator.plugin.host import PluginHost
from simulator.run.runner import RunOptions, run
from simulator.testing import world_from

WORLD = {
    "world": {"frames": 2},
    "camera": {"resolution": [48, 36]},
    "spawners": [{"type": "primitive"}],
    "output": {"writers": ["native"]},
}


class Ring(Spawner):
    name = "ring"

    def spawn(self, ctx: FrameContext) -> Entity:
        return Entity(meshes.torus())


def recorder(name: str, calls: list[tuple[str, ...]]) -> types.ModuleType:
    """A plugin module that records its sim_frame_start calls and registers Ring."""
    module = types.ModuleType(name)

    @hookimpl
    def sim_frame_start(frame, seed, scene):
        calls.append((name, "frame_start", frame))

    @hookimpl
    def sim_register_spawners(register):
        calls.append((name, "register"))
        register(Ring)

    module.sim_frame_start = sim_frame_start
    module.sim_register_spawners = sim_register_spawners
    return module


class Around:
    """A plugin class with new-style wrappers on a frame hook and on a registration hook."""

    calls: ClassVar[list[tuple[str, ...]]] = []

    @staticmethod
    @hookimpl(wrapper=True)
    def sim_frame_start(frame, seed, scene):
        Around.calls.append(("around", "before", frame))
        result = yield
        Around.calls.append(("around", "after", frame))
        return result

    @staticmethod
    @hookimpl(wrapper=True)
    def sim_register_spawners(register):
        Around.calls.append(("around", "before register"))
        result = yield
        Around.calls.append(("around", "after register"))
        return result


def test_a_wrapper_runs_around_the_frame_hook_and_the_registration(tmp_path):
    calls = Around.calls = []
    run(
        world_from(WORLD),
        RunOptions(tmp_path / "out", frames=2, plugins=[recorder("inner", calls), Around]),
    )
    frames = [c for c in calls if len(c) == 3]
    assert frames == [
        (who, what, i)
        for i in (0, 1)
        for who, what in (("around", "before"), ("inner", "frame_start"), ("around", "after"))
    ]
    at = calls.index(("inner", "register"))
    assert calls[at - 1 : at + 2] == [
        ("around", "before register"),
        ("inner", "register"),
        ("around", "after register"),
    ]


def test_an_old_style_hookwrapper_sees_the_outcome(tmp_path):
    seen = []

    @hookimpl(hookwrapper=True)
    def sim_frame_start(frame, seed, scene):
        outcome = yield
        seen.append((frame, outcome.exception is None))

    wrapper = types.SimpleNamespace(__name__="old_style", sim_frame_start=sim_frame_start)
    run(world_from(WORLD), RunOptions(tmp_path / "out", frames=2, plugins=[wrapper]))
    assert seen == [(0, True), (1, True)]


def test_blame_names_the_inner_plugin_inside_another_plugins_wrapper(tmp_path):
    broken = types.ModuleType("broken")

    @hookimpl
    def sim_frame_start(frame, seed, scene):
        if frame == 1:
            raise ValueError("no scene today")

    broken.sim_frame_start = sim_frame_start
    Around.calls = []
    with pytest.raises(PluginError) as error:
        run(world_from(WORLD), RunOptions(tmp_path / "out", frames=2, plugins=[broken, Around]))
    assert str(error.value).startswith(
        "plugin 'broken' raised ValueError: no scene today in sim_frame_start() at frame 1 "
        "(seed 0); re-render that frame alone with: sim run world.toml --start 1"
    )
    assert isinstance(error.value.__cause__, ValueError)
    assert ("around", "after", 1) not in Around.calls, "the exception went through the wrapper"


def test_blame_names_a_wrapper_that_raises(tmp_path):
    @hookimpl(wrapper=True)
    def sim_frame_start(frame, seed, scene):
        raise KeyError("wrapped badly")
        yield  # a generator, as wrappers are

    bad = types.SimpleNamespace(__name__="bad_wrapper", sim_frame_start=sim_frame_start)
    with pytest.raises(PluginError, match=r"^plugin 'bad_wrapper' raised KeyError: 'wrapped bad"):
        run(
            world_from(WORLD),
            RunOptions(tmp_path / "out", frames=1, plugins=[recorder("inner", []), bad]),
        )


def test_in_process_plugin_objects_are_named_and_register_their_components():
    calls = []
    host = PluginHost(entry_points=False, plugins=[recorder("rings", calls)])
    assert host.spawners.get("ring").plugin == "rings"
    assert "rings" in host.plugin_names() and calls == [("rings", "register")]
    with pytest.raises(
        PluginError,
        match="spawner 'ring' is registered twice: by plugin 'rings' and by plugin 'rings_2'",
    ):
        PluginHost(entry_points=False, plugins=[recorder("rings", []), recorder("rings", [])])


def test_registration_errors_name_the_in_process_plugin():
    @hookimpl
    def sim_register_randomizers(register):
        raise RuntimeError("half-built")

    plugin = types.SimpleNamespace(sim_register_randomizers=sim_register_randomizers)
    with pytest.raises(
        PluginError, match=r"^plugin 'plugin' raised in sim_register_randomizers: RuntimeError"
    ):
        PluginHost(entry_points=False, plugins=[plugin])


def test_the_same_plugin_object_twice_is_an_error():
    module = recorder("twice", [])
    with pytest.raises(PluginError, match=r"is given twice .*already plugin 'twice'"):
        PluginHost(entry_points=False, plugins=[module, module])


@pytest.mark.parametrize(("workers", "backend"), [(2, "local"), (1, "ray")])
def test_in_process_plugins_cannot_reach_worker_processes(tmp_path, workers, backend):
    with pytest.raises(PluginError, match="in-process plugin objects cannot reach worker"):
        run(
            world_from(WORLD),
            RunOptions(
                tmp_path / "out", workers=workers, backend=backend, plugins=[recorder("rings", [])]
            ),
        )
    assert not (tmp_path / "out").exists()


def test_tracing_names_wrappers_and_in_process_plugins(tmp_path, capfd):
    Around.calls = []
    plugins = [recorder("inner", []), Around]
    run(world_from(WORLD), RunOptions(tmp_path / "out", frames=1, trace=True, plugins=plugins))
    lines = [line for line in capfd.readouterr().err.splitlines() if "sim_frame_start" in line]
    assert lines == [
        "sim trace: sim_frame_start() at frame 0 -> plugin 'Around' (wrapper)",
        "sim trace: sim_frame_start() at frame 0 -> plugin 'inner'",
    ]
