"""The Ray backend on a real two-node cluster started by the test on this machine.

Quirks of this kind of machine (from the throughput issue): Ray swaps 127.0.0.1 for the
external address, so the head is 127.0.0.2 and the worker 127.0.0.3; token auth is on, so
every Ray process and client gets RAY_AUTH_MODE=token and the token; the second node needs its
own dashboard agent port. The test stops only the nodes it started, by process id.
"""

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from datasets import dataset_files

from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

# Only the `ray` extra brings Ray (CI installs it). Not imported here: Ray reads the auth
# token from the environment when it is first imported, after the fixture has set it.
HAVE_RAY = importlib.util.find_spec("ray") is not None

WORLD = """
[world]
seed = 9
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
"""


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _own_processes(tag: str) -> set[int]:
    """Processes whose command line names our cluster's temp dir, and their descendants."""
    found, parents = set(), {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            command = Path(f"/proc/{entry}/cmdline").read_bytes().decode(errors="ignore")
            parents[int(entry)] = int(
                Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1]
            )
        except OSError:
            continue
        if tag in command:
            found.add(int(entry))
    grew = True
    while grew:
        children = {pid for pid, parent in parents.items() if parent in found} - found
        found |= children
        grew = bool(children)
    return found


def _stop(tag: str) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in _own_processes(tag):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(1)


@pytest.fixture(scope="module")
def cluster():
    if not HAVE_RAY:
        if os.environ.get("CI"):
            pytest.fail("Ray is not installed: .ci/run installs the project with the ray extra")
        pytest.skip("Ray is not installed (pip install -e '.[ray]')")
    temp = tempfile.mkdtemp(prefix="simray", dir="/tmp")  # short: Ray's unix sockets
    token = secrets.token_hex(32)
    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
    os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=token)
    ray_cli = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    port = _free_port("127.0.0.2")
    common = ["--num-cpus=1", "--disable-usage-stats"]
    try:
        subprocess.run(
            [
                ray_cli,
                "start",
                "--head",
                "--node-ip-address=127.0.0.2",
                f"--port={port}",
                "--include-dashboard=false",
                f"--temp-dir={temp}",
                f"--dashboard-agent-listen-port={_free_port('127.0.0.2')}",
                *common,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        subprocess.run(
            [
                ray_cli,
                "start",
                f"--address=127.0.0.2:{port}",
                "--node-ip-address=127.0.0.3",
                f"--dashboard-agent-listen-port={_free_port('127.0.0.3')}",
                *common,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
        yield f"127.0.0.2:{port}"
    finally:
        if "ray" in sys.modules and sys.modules["ray"].is_initialized():
            sys.modules["ray"].shutdown()
        _stop(temp)
        shutil.rmtree(temp, ignore_errors=True)
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def test_shards_run_on_both_nodes_and_give_the_local_dataset(cluster, tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(WORLD)
    local = dataset_files(run(load_world(world), RunOptions(tmp_path / "local", shard_size=3)).root)
    remote = run(
        load_world(world),
        RunOptions(tmp_path / "ray", shard_size=3, backend="ray", address=cluster),
    ).root
    assert dataset_files(remote) == local
    manifest = json.loads((remote / "manifest.json").read_text())
    assert set(manifest["nodes"]) == {"127.0.0.2", "127.0.0.3"}, manifest["nodes"]
    assert sorted(i for shards in manifest["nodes"].values() for i in shards) == [0, 1, 2, 3]
