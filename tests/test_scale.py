"""Worker processes and resume: the same bytes whatever the split, nothing lost on kill -9."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasets import dataset_files

from simulator.run.runner import RunCallbacks, RunOptions, run
from simulator.world.load import load_world

WORLD = """
[world]
name = "scale"
seed = 5
frames = 12
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


SLOW = """
import time
from simulator import hookimpl


@hookimpl
def sim_frame_start(frame, seed, scene):
    time.sleep(0.05)  # stretch the run so it can be killed mid-way; output is unchanged
"""


@pytest.fixture
def world(tmp_path) -> Path:
    path = tmp_path / "world.toml"
    path.write_text(WORLD)
    return path


@pytest.fixture
def slow_world(tmp_path) -> Path:
    (tmp_path / "slow.py").write_text(SLOW)
    path = tmp_path / "slow.toml"
    path.write_text(WORLD + '[plugins]\npaths = ["slow.py"]\n')
    return path


def test_output_is_byte_identical_whatever_the_workers_and_shards(world, tmp_path):
    one = dataset_files(run(load_world(world), RunOptions(tmp_path / "one", workers=1)).root)
    split = dataset_files(
        run(load_world(world), RunOptions(tmp_path / "split", workers=1, shard_size=5)).root
    )
    pooled = dataset_files(
        run(load_world(world), RunOptions(tmp_path / "pooled", workers=2, shard_size=3)).root
    )
    assert one == split == pooled
    assert not any(name.startswith(".sim") for name in pooled), "shard state is cleared"
    coco = json.loads(pooled["annotations/instances.json"])
    assert [a["id"] for a in coco["annotations"]] == list(range(1, len(coco["annotations"]) + 1))


def test_workers_report_every_frame_and_the_manifest_counts_them(world, tmp_path):
    seen: list[int] = []
    summary = run(
        load_world(world),
        RunOptions(tmp_path / "out", workers=2, shard_size=4),
        RunCallbacks(on_frame=seen.append),
    )
    assert sorted(seen) == list(range(12)) and summary.frames == 12
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["frames_done"] == 12


WHO = """
import os
from pathlib import Path
from simulator import hookimpl


@hookimpl
def sim_frame_start(frame, seed, scene):
    with open(Path(__file__).with_name("who.txt"), "a") as log:
        log.write(f"{os.getpid()} {frame}\\n")
"""


def test_this_process_renders_shards_beside_one_worker_fewer(tmp_path):
    (tmp_path / "who.py").write_text(WHO)
    world = tmp_path / "world.toml"
    world.write_text(WORLD + '[plugins]\npaths = ["who.py"]\n')
    run(load_world(world), RunOptions(tmp_path / "out", workers=2, shard_size=2))
    rendered = [line.split() for line in (tmp_path / "who.txt").read_text().splitlines()]
    frames = sorted(int(frame) for _, frame in rendered)
    assert frames == list(range(12)), "every frame's hooks ran once, the first frame's too"
    by = {pid for pid, _ in rendered}
    assert len(by) == 2 and str(os.getpid()) in by, "this process and one spawned worker"
    assert [frame for pid, frame in rendered if pid == str(os.getpid())][:2] == ["0", "1"]


def _sim(*args: str) -> list[str]:
    return [sys.executable, "-c", "from simulator.cli import main; main()", *args]


def test_a_run_killed_mid_way_resumes_to_the_same_dataset(world, slow_world, tmp_path):
    reference = dataset_files(run(load_world(world), RunOptions(tmp_path / "reference")).root)
    world = slow_world
    out = tmp_path / "killed"
    child = subprocess.Popen(
        _sim("run", str(world), "--out", str(out), "--workers", "1", "--shard-size", "2", "--quiet")
    )
    manifest = out / "manifest.json"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait until some, not all, shards are done
        if manifest.is_file() and 0 < json.loads(manifest.read_text())["frames_done"] < 12:
            break
        assert child.poll() is None, "the run ended before it could be killed"
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    interrupted = json.loads(manifest.read_text())
    assert interrupted["status"] == "running"
    assert not (out / "annotations" / "instances.json").exists(), "nothing looks complete"
    resumed = subprocess.run(
        _sim("run", str(world), "--out", str(out), "--resume", "--shard-size", "2", "--quiet"),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert dataset_files(out) == reference
    assert json.loads(manifest.read_text())["frames_done"] == 12


def test_resume_refuses_another_world(world, tmp_path):
    from simulator.errors import OutputError

    run(load_world(world), RunOptions(tmp_path / "out", frames=2))
    other = load_world(world)
    other.world.seed = 6
    with pytest.raises(OutputError, match="rendered from another world, seed or frame range"):
        run(other, RunOptions(tmp_path / "out", frames=2, resume=True))
    with pytest.raises(OutputError, match="nothing to resume"):
        run(other, RunOptions(tmp_path / "empty", resume=True))


def test_resuming_a_complete_dataset_changes_nothing(world, tmp_path):
    root = run(load_world(world), RunOptions(tmp_path / "out", frames=3)).root
    before = dataset_files(root)
    summary = run(load_world(world), RunOptions(root, frames=3, resume=True))
    assert summary.frames == 3 and dataset_files(root) == before


def test_errors_survive_the_trip_from_a_worker(tmp_path):
    import pickle

    from simulator.errors import UnknownNameError, WorldError

    error = WorldError("bad", file=tmp_path / "w.toml", line=3, toml_path="a.b", hint="fix it")
    assert str(pickle.loads(pickle.dumps(error))) == str(error)
    unknown = UnknownNameError("spawner", "primitve", ["primitive", "model"])
    assert str(pickle.loads(pickle.dumps(unknown))) == str(unknown)


def test_a_plugin_error_in_a_worker_stops_the_run_with_its_message(world, tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    (tmp_path / "bad.py").write_text(
        "from simulator import hookimpl\n\n\n@hookimpl\ndef sim_frame_start(frame, seed, scene):\n"
        "    if frame == 7:\n        raise ValueError('seven')\n"
    )
    world.write_text(WORLD + '[plugins]\npaths = ["bad.py"]\n')
    result = CliRunner().invoke(
        app,
        [
            "run",
            str(world),
            "--out",
            str(tmp_path / "out"),
            "--workers",
            "2",
            "--shard-size",
            "3",
            "--quiet",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "plugin 'bad' raised ValueError: seven in sim_frame_start() at frame 7" in " ".join(
        result.output.split()
    )
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "running", "a stopped run never looks complete"


def test_resume_of_a_complete_dataset_says_so(world, tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    out = tmp_path / "out"
    runner = CliRunner()
    assert (
        runner.invoke(app, ["run", str(world), "--out", str(out), "--frames", "2", "-q"]).exit_code
        == 0
    )
    result = runner.invoke(app, ["run", str(world), "--out", str(out), "--frames", "2", "--resume"])
    assert result.exit_code == 0
    assert "is already complete (2 frames): nothing to resume" in " ".join(result.output.split())
