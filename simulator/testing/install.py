"""Throwaway installs: a plugin package installed with pip, as a user would, for one test."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def can_build_offline() -> bool:
    """Whether pip can build a setuptools package here without downloading anything:
    setuptools >= 70.1 has the `bdist_wheel` command, older ones need the `wheel` package."""
    commands = importlib.metadata.entry_points(group="distutils.commands", name="bdist_wheel")
    return bool(list(commands))


@contextmanager
def installed_package(package: Path, directory: Path | None = None) -> Iterator[Path]:
    """Install a plugin package with pip, as a user would, for the duration of a `with`.

    The package is copied (pip builds in the source folder) and installed without its
    dependencies into a private folder put first on sys.path and on PYTHONPATH, so that
    sim finds it through its entry points here and in subprocesses; leaving the block
    removes it all, whatever happened, and leaves the Python environment untouched. The
    build runs without build isolation when setuptools can build wheels offline (see
    `can_build_offline`), else pip fetches setuptools for it. Yields the install folder."""
    with tempfile.TemporaryDirectory(prefix="sim-install-", dir=directory) as work:
        source, target = Path(work) / "source", Path(work) / "site"
        shutil.copytree(package, source, ignore=shutil.ignore_patterns(*_BUILD_LITTER))
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        command += ["--disable-pip-version-check", "--root-user-action=ignore"]
        offline = can_build_offline()
        if offline:
            command.append("--no-build-isolation")
        result = subprocess.run(
            [*command, "--target", str(target), str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            hint = "" if offline else _OFFLINE_HINT
            raise AssertionError(f"pip could not install {package}{hint}:\n{result.stderr}")
        before = set(sys.modules)
        old_path = os.environ.get("PYTHONPATH")
        sys.path.insert(0, str(target))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), old_path]))
        try:
            yield target
        finally:
            sys.path.remove(str(target))
            if old_path is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = old_path
            for name in set(sys.modules) - before:
                if str(getattr(sys.modules[name], "__file__", "") or "").startswith(work):
                    del sys.modules[name]


_OFFLINE_HINT = (
    " (it needed the package index for setuptools: install setuptools>=70.1, or the wheel "
    "package, to build without one)"
)
_BUILD_LITTER = ("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")
