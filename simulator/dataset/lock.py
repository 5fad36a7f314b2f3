"""One run at a time per dataset folder: a lock file that knows its process.

Two `sim run`s into the same `--out` would interleave shards and manifests. The lock is an
advisory `flock` on `<dataset>/.sim.lock`, held for the whole run: the kernel drops it when
the process ends, however it ends, so a lock left by a killed run is stale by construction
and the next run simply takes it. The file records who holds it (pid, host, start time) for
the message the second run prints. (flock is per host: two machines writing one folder over
NFS are not caught; the Ray backend writes from one driver.)
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from simulator.errors import OutputError

LOCK = ".sim.lock"


def holder(root: Path) -> dict[str, Any] | None:
    """Who holds the lock of `root` now (pid, host, since), or None when nobody does."""
    path = root / LOCK
    if not path.is_file():
        return None
    with path.open("r+") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                return dict(json.loads(file.read() or "{}"))
            except ValueError:
                return {}
        fcntl.flock(file, fcntl.LOCK_UN)
        return None


def busy_message(root: Path, info: dict[str, Any]) -> str:
    who = f"pid {info.get('pid', '?')} on {info.get('host', '?')}, since {info.get('since', '?')}"
    return (
        f"another sim run ({who}) is writing to {root}; wait for it to finish, or choose "
        "another --out"
    )


class RunLock:
    """Held while a run writes into `root` (which must exist); `release` when done."""

    def __init__(self, root: Path) -> None:
        self.path = root / LOCK
        self._file: IO[str] | None = self.path.open("a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            text = self._file.read()
            self._file.close()
            self._file = None
            try:
                info = dict(json.loads(text or "{}"))
            except ValueError:
                info = {}
            raise OutputError(busy_message(root, info)) from None
        self._file.seek(0)
        self._file.truncate()
        since = datetime.now(UTC).isoformat(timespec="seconds")
        self._file.write(
            json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": since})
        )
        self._file.flush()

    def release(self) -> None:
        """Remove the lock file (a finished dataset holds none) and drop the lock."""
        if self._file is not None:
            self.path.unlink(missing_ok=True)
            self._file.close()
            self._file = None
