"""Hot reload's eyes: the files a world depends on, polled for changes."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from simulator.plugin.host import plugin_files
from simulator.world.schema import World

SETTLE = 0.2  # seconds a changed file must stay unchanged before it counts (editors save in steps)


class Watcher:
    """Polls files' modification times; `changed` is True once per settled change."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)
        self._seen = self._stamp()
        self._since: float | None = None
        self._checked = 0.0

    def _stamp(self) -> tuple[tuple[int, int] | None, ...]:
        stamps: list[tuple[int, int] | None] = []
        for path in self.paths:
            try:
                info = path.stat()
                stamps.append((info.st_mtime_ns, info.st_size))
            except OSError:
                stamps.append(None)
        return tuple(stamps)

    def changed(self, now: float) -> bool:
        if now - self._checked < SETTLE / 2:
            return False
        self._checked = now
        stamp = self._stamp()
        if stamp != self._seen:
            self._seen, self._since = stamp, now
            return False
        if self._since is not None and now - self._since >= SETTLE:
            self._since = None
            return True
        return False


def watched(world_file: Path, world: World, plugins_dirs: Sequence[Path]) -> list[Path]:
    """The world file and every plugin file it loads."""
    paths = [world_file, *((world.directory / p).resolve() for p in world.plugins.paths)]
    return paths + plugin_files(plugins_dirs)
