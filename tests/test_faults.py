"""Faults: a second run into the same folder, a kill -9 at the last instants, Ctrl-C. Nothing
lost, nothing mixed, every state on disk one that --resume finishes."""

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from datasets import dataset_files

from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

WORLD = """
[world]
name = "faults"
seed = 3
frames = 8
[camera]
resolution = [64, 48]
[[spawners]]
type = "primitive"
count = { range = [1, 3] }
[[randomizers]]
type = "position"
[output]
writers = ["coco", "native", "yolo"]
"""

SLOW = """
import time
from simulator import hookimpl


@hookimpl
def sim_frame_start(frame, seed, scene):
    time.sleep(0.1)  # stretch the run so that it can be stopped mid-way
"""

# Plugin files (in --plugins-dir, so the world stays the same for --resume) that kill the run
# the hard way, at one of the last instants of a run.
DEATHS = {
    "while the writers merge": """
import os
from sim_plugins import yolo

def die(*args, **kwargs):
    os._exit(9)

yolo.YoloWriter.merge = classmethod(die)  # after coco and native merged theirs
""",
    "after the complete manifest, before the scratch state goes": """
import os
from simulator.run import shards

def die(root):
    os._exit(9)

shards.clear = die
""",
    "after the scratch state went": """
import os
from simulator import hookimpl

@hookimpl
def sim_run_end(dataset, frames, seconds):
    os._exit(9)
""",
}


def _sim(*args: str) -> list[str]:
    return [sys.executable, "-c", "from simulator.cli import main; main()", *args]


@pytest.fixture
def world(tmp_path) -> Path:
    path = tmp_path / "world.toml"
    path.write_text(WORLD)
    return path


@pytest.fixture
def reference(world, tmp_path) -> dict[str, bytes]:
    return dataset_files(run(load_world(world), RunOptions(tmp_path / "reference")).root)


def _started(child: subprocess.Popen, manifest: Path) -> None:
    """Wait until the run has written its manifest and at least one frame."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if manifest.is_file() and json.loads(manifest.read_text()).get("frames_done", 0) > 0:
            return
        assert child.poll() is None, "the run ended before it could be stopped"
        time.sleep(0.02)
    raise AssertionError("the run did not start")


@pytest.mark.parametrize("death", sorted(DEATHS))
def test_a_kill_at_the_last_instants_resumes_to_the_same_dataset(death, world, reference, tmp_path):
    plugins = tmp_path / "deaths"
    plugins.mkdir()
    (plugins / "death.py").write_text(DEATHS[death])
    out = tmp_path / "out"
    killed = subprocess.run(
        _sim("run", str(world), "--out", str(out), "--plugins-dir", str(plugins), "--quiet"),
        capture_output=True, text=True,
    )  # fmt: skip
    assert killed.returncode == 9, killed.stderr
    resumed = subprocess.run(
        _sim("run", str(world), "--out", str(out), "--resume", "--quiet"),
        capture_output=True, text=True,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert dataset_files(out) == reference
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert not (out / ".sim").exists()


def test_a_second_run_into_the_same_folder_is_refused_while_the_first_runs(world, tmp_path):
    reference = dataset_files(run(load_world(world), RunOptions(tmp_path / "ref", frames=30)).root)
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "slow.py").write_text(SLOW.replace("0.1", "0.5"))
    out = tmp_path / "out"
    slow = ["--frames", "30", "--shard-size", "2", "--plugins-dir", str(tmp_path / "plugins")]
    slow.append("--quiet")  # 15 s at least
    first = subprocess.Popen(_sim("run", str(world), "--out", str(out), *slow))
    try:
        _started(first, out / "manifest.json")
        for flags in (["--overwrite"], ["--resume", "--frames", "30"], []):
            second = subprocess.run(
                _sim("run", str(world), "--out", str(out), *flags), capture_output=True, text=True
            )
            assert second.returncode == 2, second.stderr
            message = " ".join(second.stderr.split())
            assert f"another sim run (pid {first.pid} on " in message, message
            assert "Traceback" not in second.stderr
        assert first.poll() is None, "the first run ended too soon to prove anything"
        assert first.wait(timeout=120) == 0
    finally:
        first.kill()
    assert dataset_files(out) == reference  # nothing mixed in, nothing lost


def test_rerunning_into_an_unfinished_dataset_mentions_resume(world, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    manifest = {"format": "sim-dataset/1", "status": "running", "frames_done": 3, "frames": 8}
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = subprocess.run(
        _sim("run", str(world), "--out", str(out)), capture_output=True, text=True
    )
    assert result.returncode == 2
    assert (
        "holds an unfinished dataset (3 of 8 frames); pass --resume to continue it, or --overwrite"
        in " ".join(result.stderr.split())
    )


def test_ctrl_c_says_how_to_resume_and_marks_the_dataset_interrupted(world, reference, tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "slow.py").write_text(SLOW)
    out = tmp_path / "out"
    args = ["run", str(world), "--out", str(out), "--workers", "2", "--shard-size", "2"]
    child = subprocess.Popen(
        _sim(*args, "--plugins-dir", str(tmp_path / "plugins")),
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    _started(child, out / "manifest.json")
    os.killpg(child.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr
    assert "Traceback" not in stderr, stderr
    said = re.search(r"interrupted after (\d+) of 8 frames; resume with: (sim run .*)", stderr)
    assert said, stderr
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    command = shlex.split(said.group(2).replace("\n", " "))
    assert command[:2] == ["sim", "run"] and "--resume" in command
    resumed = subprocess.run(_sim(*command[1:], "--quiet"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert dataset_files(out) == reference


def test_overwrite_deletes_only_a_sim_dataset_and_never_follows_a_link(world, tmp_path):
    keep = tmp_path / "precious"
    keep.mkdir()
    (keep / "thesis.txt").write_text("years of work")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "manifest.json").write_text("{}")  # a manifest, but not sim's
    refused = subprocess.run(
        _sim("run", str(world), "--out", str(foreign), "--overwrite"),
        capture_output=True,
        text=True,
    )
    assert refused.returncode == 2 and "holds no sim dataset" in refused.stderr
    assert (foreign / "manifest.json").read_text() == "{}"
    out = tmp_path / "out"
    run(load_world(world), RunOptions(out))
    (out / "link").symlink_to(keep, target_is_directory=True)
    overwritten = subprocess.run(
        _sim("run", str(world), "--out", str(out), "--overwrite", "--quiet")
    )
    assert overwritten.returncode == 0
    assert (keep / "thesis.txt").read_text() == "years of work"
    assert not (out / "link").exists()


WORKER_DEATH = """
import multiprocessing
import os
from simulator import hookimpl


@hookimpl
def sim_frame_start(frame, seed, scene):
    if multiprocessing.current_process().name != "MainProcess":  # the spawned worker
        os._exit(9)  # as a kill -9 or the out-of-memory killer would end a worker
"""


def test_a_worker_that_dies_stops_the_run_with_a_message_and_it_resumes(world, reference, tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "death.py").write_text(WORKER_DEATH)
    out = tmp_path / "out"
    args = ["run", str(world), "--out", str(out), "--workers", "2", "--shard-size", "2"]
    died = subprocess.run(
        _sim(*args, "--plugins-dir", str(tmp_path / "plugins")),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert died.returncode == 1, died.stderr  # the run started: it failed, resumably
    message = " ".join(died.stderr.split())
    died_in = r"a worker process died \(killed, or out of memory\?\) while rendering frames \d+ to"
    assert re.search(died_in, message), message
    assert "run again with --resume" in message and "Traceback" not in died.stderr
    resumed = subprocess.run(_sim(*args, "--resume", "--quiet"), capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert dataset_files(out) == reference
