"""The disk cache's budget (simulator/dataset/cache.py): least recently used files go first,
a read renews a file, the file just stored stays, and prefiltered light is kept under it."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from simulator.dataset import cache
from simulator.engine import ibl
from simulator.scene.environment import Environment


@pytest.fixture(autouse=True)
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SIM_CACHE_LIMIT", raising=False)
    ibl._memory.clear()
    yield tmp_path
    ibl._memory.clear()


def aged(kind: str, name: str, size: int, age: float) -> None:
    """A cache file of `size` bytes last used `age` seconds ago."""
    path = cache.folder(kind) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    moment = 1_700_000_000 - age
    os.utime(path, (moment, moment))


def names(kind: str) -> set[str]:
    return {p.name for p in cache.folder(kind).iterdir()}


@pytest.mark.parametrize(
    ("text", "value"), [("", 2 << 30), ("1000", 1000), ("500M", 500 << 20), ("1.5g", 3 << 29)]
)
def test_the_limit_reads_bytes_and_suffixes(monkeypatch, text, value):
    monkeypatch.setenv("SIM_CACHE_LIMIT", text)
    assert cache.limit() == value


def test_a_bad_limit_says_what_to_give(monkeypatch):
    monkeypatch.setenv("SIM_CACHE_LIMIT", "lots")
    with pytest.raises(ValueError, match="K, M or G"):
        cache.limit()


def test_storing_over_the_budget_deletes_the_least_recently_used(monkeypatch):
    monkeypatch.setenv("SIM_CACHE_LIMIT", "2500")
    for name, age in [("old.npz", 300), ("mid.npz", 200), ("new.npz", 100)]:
        aged("ibl", name, 1000, age)
    cache.store("ibl", "fresh.npz", b"y" * 1000)  # 4000 bytes: two must go, oldest first
    assert names("ibl") == {"new.npz", "fresh.npz"}


def test_a_read_renews_a_file_and_other_kinds_are_untouched(monkeypatch):
    monkeypatch.setenv("SIM_CACHE_LIMIT", "2500")
    for name, age in [("old.npz", 300), ("mid.npz", 200)]:
        aged("ibl", name, 1000, age)
    aged("collision", "part.npz", 5000, 500)
    old = cache.folder("ibl") / "old.npz"
    computed = old.stat().st_mtime_ns
    cache.used(old)  # read just now: mid is the oldest
    assert old.stat().st_mtime_ns == computed  # still says when the work was done
    cache.store("ibl", "fresh.npz", b"y" * 1000)
    assert names("ibl") == {"old.npz", "fresh.npz"}
    assert names("collision") == {"part.npz"}


def test_the_file_just_stored_stays_even_over_the_budget(monkeypatch):
    monkeypatch.setenv("SIM_CACHE_LIMIT", "100")
    aged("ibl", "old.npz", 50, 100)
    cache.store("ibl", "big.npz", b"y" * 1000)
    assert names("ibl") == {"big.npz"}


def test_prefiltered_light_is_kept_under_the_budget(monkeypatch):
    """Three environments prefiltered with room for about two on disk: the first goes, and
    the two kept are read back, not computed again."""
    rng = np.random.default_rng(3)
    envs = [Environment(rng.random((16, 32, 3)).astype(np.float32) + k) for k in range(3)]
    one = ibl.prefilter(envs[0], levels=3, size=8)
    size = sum(p.stat().st_size for p in cache.folder("ibl").glob("*.npz"))
    monkeypatch.setenv("SIM_CACHE_LIMIT", str(int(2.5 * size)))
    for env in envs[1:]:
        ibl.prefilter(env, levels=3, size=8)
    moment = time.time() + 1e-3
    assert len(list(cache.folder("ibl").glob("*.npz"))) == 2
    ibl._memory.clear()
    kept = [ibl.prefilter(env, levels=3, size=8) for env in envs[1:]]
    assert [p.cached for p in kept] == [True, True]
    assert ibl.prefiltered_since(moment)[0] == 0  # reads are not reported as new work
    first = ibl.prefilter(envs[0], levels=3, size=8)
    assert not first.cached  # computed again, the same
    np.testing.assert_array_equal(first.specular[0], one.specular[0])
