"""Helpers for tests that compare datasets."""

import subprocess
import sys
from pathlib import Path


def dataset_files(root: Path) -> dict[str, bytes]:
    """Every file of a dataset but the manifest (which records timestamps), by relative path."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }


# A plugin that kills the run (as kill -9 would: no cleanup) when frame AT is done.
_KILL = """
import os
from simulator import hookimpl


@hookimpl
def sim_frame_end(frame):
    if frame.index == {at}:
        os._exit(9)
"""


def sim_command(*args: str) -> list[str]:
    """`sim ARGS` run with this Python."""
    return [sys.executable, "-c", "from simulator.cli import main; main()", *args]


def run_killed_at(world: Path, out: Path, at: int, shard_size: int) -> None:
    """`sim run` of `world` into `out`, killed as soon as frame `at` is done."""
    plugins = out.parent / f"kill-{out.name}"
    plugins.mkdir()
    (plugins / "kill.py").write_text(_KILL.format(at=at))
    killed = subprocess.run(
        sim_command("run", str(world), "--out", str(out), f"--shard-size={shard_size}",
                    "--plugins-dir", str(plugins), "--quiet"),
        capture_output=True, text=True,
    )  # fmt: skip
    assert killed.returncode == 9, killed.stderr


def resume_run(world: Path, out: Path, shard_size: int) -> None:
    """`sim run --resume` of `world` into `out`, which must succeed."""
    resumed = subprocess.run(
        sim_command("run", str(world), "--out", str(out), f"--shard-size={shard_size}",
                    "--resume", "--quiet"),
        capture_output=True, text=True,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
