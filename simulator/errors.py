"""Errors a user can cause. The CLI turns each into one readable line and a non-zero exit."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path

# Exit codes of the `sim` command (docs/cli.md): 0 done; USAGE: nothing was started (a bad
# command line, world file, plugin or output directory; nothing written); RUN_FAILED: a run
# started and stopped on an error (a frame's plugin raised, the disk filled): what is done is
# kept and `--resume` finishes it once the cause is fixed; INTERRUPTED: Ctrl-C, resumable too.
USAGE, RUN_FAILED, INTERRUPTED = 2, 1, 130


class SimError(Exception):
    """Base of every error sim reports to a user instead of a traceback. `dataset` is set on
    an error that stopped a run which had started a dataset there (it can be resumed), and
    the exit code is then RUN_FAILED."""

    exit_code = USAGE
    dataset: Path | None = None

    def stopped_run(self, dataset: Path) -> SimError:
        """This error, marked as having stopped a started run of `dataset`."""
        self.dataset, self.exit_code = dataset, RUN_FAILED
        return self


class WorldError(SimError):
    """A world file that cannot be used: names the file, the line or TOML path, and the fix."""

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        toml_path: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = Path(file) if file is not None else None
        self.line = line
        self.toml_path = toml_path
        self.hint = hint
        super().__init__(str(self))

    def __reduce__(self) -> tuple[object, ...]:  # picklable across worker processes
        return (_world_error, (self.message, self.file, self.line, self.toml_path, self.hint))

    def __str__(self) -> str:
        where = str(self.file) if self.file else "<world>"
        if self.line is not None:
            where += f":{self.line}"
        text = f"{where}: "
        if self.toml_path:
            text += f"{self.toml_path}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class PluginError(SimError):
    """A plugin that cannot be loaded, registers badly, or raises while a frame is built."""


class RenderError(SimError):
    """The renderer cannot start (no GL context) or failed while drawing."""


class OutputError(SimError):
    """The output directory cannot be used as asked."""


class UnknownNameError(SimError, KeyError):
    """A name that is not registered; the message suggests the closest registered ones."""

    def __init__(self, kind: str, name: str, known: Iterable[str]) -> None:
        self.kind, self.name, self.known = kind, name, sorted(known)
        super().__init__(str(self))

    def __reduce__(self) -> tuple[object, ...]:
        return (UnknownNameError, (self.kind, self.name, self.known))

    def __str__(self) -> str:
        return f"unknown {self.kind} {self.name!r}{did_you_mean(self.name, self.known)}"


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A "; did you mean ...?" suffix naming the closest candidates, or the list of valid ones."""
    candidates = sorted(candidates)
    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if close:
        return f"; did you mean {close[0]!r}?"
    if candidates:
        return "; expected one of: " + ", ".join(repr(c) for c in candidates)
    return ""


def _world_error(
    message: str, file: Path | None, line: int | None, toml_path: str | None, hint: str | None
) -> WorldError:
    return WorldError(message, file=file, line=line, toml_path=toml_path, hint=hint)


class Interrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C: the dataset at `root` is marked interrupted and resumable.
    A KeyboardInterrupt still, so scripts that catch one keep working."""

    def __init__(self, root: Path, frames_done: int, frames: int) -> None:
        super().__init__(f"interrupted after {frames_done} of {frames} frames")
        self.root, self.frames_done, self.frames = root, frames_done, frames
