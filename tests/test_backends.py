"""Backends behind one interface: chosen by name from RunOptions, handed only the shards left
to do, each writing the same bytes; RunOptions and RunCallbacks instead of 16 parameters."""

import json
import os
import pickle
import subprocess
import sys
from dataclasses import FrozenInstanceError, replace
from pathlib import Path
from typing import Any

import pytest
from datasets import dataset_files
from typer.testing import CliRunner

from simulator.cli import app
from simulator.errors import UnknownNameError
from simulator.run import backends
from simulator.run.backend import Backend, RendererSpec, Work
from simulator.run.in_process import InProcess
from simulator.run.pool import ProcessPool
from simulator.run.ray_backend import Ray
from simulator.run.runner import RunCallbacks, RunOptions, run
from simulator.world.load import load_world, restore_world

WORLD = """
[world]
name = "backends"
seed = 3
frames = 8
[camera]
resolution = [96, 72]
[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "torus"] }
count = { range = [2, 4] }
[[randomizers]]
type = "position"
[[randomizers]]
type = "camera_orbit"
[output]
writers = ["coco", "native", "yolo"]
"""

HOOKS = """
import os
from pathlib import Path
from simulator import hookimpl


@hookimpl
def sim_frame_start(frame, seed, scene):
    with open(Path(__file__).with_name("hooks.txt"), "a") as log:
        log.write(f"{os.getpid()} {frame}\\n")
"""


@pytest.fixture
def world(tmp_path) -> Path:
    (tmp_path / "hooks.py").write_text(HOOKS)
    path = tmp_path / "world.toml"
    path.write_text(WORLD + '[plugins]\npaths = ["hooks.py"]\n')
    return path


def hooked_frames(tmp_path: Path) -> list[tuple[int, int]]:
    """(process id, frame) of every frame whose hooks ran, in order."""
    lines = (tmp_path / "hooks.txt").read_text().split("\n")
    return [(int(pid), int(frame)) for pid, frame in (line.split() for line in lines if line)]


class Recording(Backend):
    """A backend that records what it was handed, then renders it here like InProcess."""

    def __init__(self, renders_here: bool = True) -> None:
        super().__init__(workers=3)
        self.renders_here = renders_here
        self.handed: list[Work] = []

    def render(self, work: Work) -> dict[str, Any]:
        self.handed.append(work)
        self.ready = sorted(work.ready)
        InProcess().render(work)
        return {"recorded": [shard.index for shard in work.pending]}


@pytest.fixture
def recording(monkeypatch):
    backend = Recording()
    monkeypatch.setitem(backends.BACKENDS, "recording", lambda options, spec: backend)
    return backend


def test_a_registered_backend_gets_the_shards_and_its_report_lands_in_the_manifest(
    world, tmp_path, recording
):
    reference = dataset_files(run(load_world(world), RunOptions(tmp_path / "ref")).root)
    shard_reports: list[tuple[int, int, int]] = []
    summary = run(
        load_world(world),
        RunOptions(tmp_path / "out", shard_size=3, backend="recording"),
        RunCallbacks(on_shard=lambda *report: shard_reports.append(report)),
    )
    [work] = recording.handed
    assert [(s.index, s.start, s.stop) for s in work.pending] == [(0, 0, 3), (1, 3, 6), (2, 6, 8)]
    assert recording.ready == [0], "the first frame, rendered here to check the world, is reused"
    assert [frame for _, frame in hooked_frames(tmp_path)][8:] == list(range(8)), "hooks once"
    manifest = json.loads((summary.root / "manifest.json").read_text())
    assert manifest["recorded"] == [0, 1, 2] and manifest["status"] == "complete"
    assert shard_reports == [(0, 3, 3), (1, 3, 3), (2, 3, 3), (3, 3, 3)], "active: min(3, 3)"
    assert summary.frames == 8 and dataset_files(summary.root) == reference


class Interrupted(Recording):
    """Renders the first pending shard, then stops as a killed run would."""

    def render(self, work: Work) -> dict[str, Any]:
        self.handed.append(work)
        InProcess().render(replace(work, pending=work.pending[:1]))
        raise KeyboardInterrupt


def test_a_resumed_run_hands_the_backend_only_the_unfinished_shards(
    world, tmp_path, recording, monkeypatch
):
    out = tmp_path / "out"
    reference = dataset_files(run(load_world(world), RunOptions(tmp_path / "ref")).root)
    interrupted = Interrupted()
    monkeypatch.setitem(backends.BACKENDS, "interrupted", lambda options, spec: interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(load_world(world), RunOptions(out, shard_size=3, backend="interrupted"))
    assert [shard.index for shard in interrupted.handed[0].pending] == [0, 1, 2]
    run(load_world(world), RunOptions(out, shard_size=3, backend="recording", resume=True))
    [work] = recording.handed
    assert [shard.index for shard in work.pending] == [1, 2]
    assert work.ready == {}, "a resumed run renders no first frame to check"
    assert dataset_files(out) == reference


def test_a_backend_that_renders_elsewhere_leaves_the_first_frames_hooks_to_it(
    world, tmp_path, monkeypatch
):
    elsewhere = Recording(renders_here=False)
    monkeypatch.setitem(backends.BACKENDS, "elsewhere", lambda options, spec: elsewhere)
    reference = dataset_files(run(load_world(world), RunOptions(tmp_path / "ref")).root)
    (tmp_path / "hooks.txt").unlink()
    root = run(load_world(world), RunOptions(tmp_path / "out", backend="elsewhere")).root
    assert elsewhere.ready == [], "the check frame is not handed on"
    assert [frame for _, frame in hooked_frames(tmp_path)] == list(range(8)), "hooks ran once each"
    assert dataset_files(root) == reference


def test_in_process_and_process_pool_give_the_same_bytes_through_the_interface(
    world, tmp_path, monkeypatch
):
    chosen: list[Backend] = []

    def pool(options: RunOptions, spec: RendererSpec) -> Backend:
        chosen.append(ProcessPool(spec, 2))
        return chosen[-1]

    monkeypatch.setitem(backends.BACKENDS, "pool-of-two", pool)
    here = run(load_world(world), RunOptions(tmp_path / "here", shard_size=3, workers=1)).root
    assert not any(pid != os.getpid() for pid, _ in hooked_frames(tmp_path))
    (tmp_path / "hooks.txt").unlink()
    pooled = run(
        load_world(world), RunOptions(tmp_path / "pooled", shard_size=3, backend="pool-of-two")
    ).root
    assert isinstance(chosen[0], ProcessPool)
    assert len({pid for pid, _ in hooked_frames(tmp_path)}) == 2, "this process and one worker"
    assert dataset_files(here) == dataset_files(pooled)


def test_local_means_this_process_for_one_worker_and_a_pool_for_more(world):
    spec = RendererSpec.of(load_world(world), [Path("plugins")], True)
    assert isinstance(backends.backend_for(RunOptions(workers=1), spec), InProcess)
    pool = backends.backend_for(RunOptions(workers=4), spec)
    assert isinstance(pool, ProcessPool) and pool.active(2) == 2 and pool.active(9) == 4
    ray = backends.backend_for(RunOptions(backend="ray", address="h:1"), spec)
    assert isinstance(ray, Ray) and ray.address == "h:1" and not ray.renders_here


def test_an_unknown_backend_is_named_with_the_closest_one_before_anything_is_written(
    world, tmp_path
):
    with pytest.raises(UnknownNameError, match=r"unknown backend 'rey'; did you mean 'ray'\?"):
        run(load_world(world), RunOptions(tmp_path / "out", backend="rey"))
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(
        app, ["run", str(world), "-o", str(tmp_path / "o"), "--backend", "lokal"]
    )
    assert result.exit_code == 2
    assert "unknown backend 'lokal'; did you mean 'local'?" in " ".join(result.output.split())


def test_the_renderer_spec_crosses_processes_and_builds_the_same_world(world):
    loaded = load_world(world)
    spec = RendererSpec.of(loaded, [Path("plugins")], None)
    again = pickle.loads(pickle.dumps(spec))
    assert again == spec and again.plugins_dirs == (Path("plugins"),)
    assert restore_world(again.world_state).model_dump() == loaded.model_dump()


def test_run_options_are_frozen_and_named():
    options = RunOptions(Path("out"), workers=2)
    with pytest.raises(FrozenInstanceError):
        options.workers = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        RunOptions(Path("out"), 5)  # type: ignore[misc]
    assert options.plugins == () and options.backend == "local" and options.shard_size == 50


def test_ray_is_imported_only_when_its_backend_runs():
    code = "import sys, simulator.run.runner, simulator.cli; assert 'ray' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
