"""Atomic writes: a file appears whole or not at all, whoever writes it (sim itself, the bundled
writers, a third-party writer through the face)."""

import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import simulator
from simulator import DatasetInfo, Writer, atomic_link, atomic_open, atomic_write
from simulator.dataset import atomic
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_writes_bytes_and_text_and_makes_the_folder(tmp_path):
    atomic_write(tmp_path / "a" / "b" / "x.bin", b"\x00\x01")
    atomic_write(tmp_path / "a" / "y.txt", "größe\n")
    with atomic_open(tmp_path / "c" / "z.txt") as out:
        out.write("one\n")
        out.write("two\n")
    assert (tmp_path / "a" / "b" / "x.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "a" / "y.txt").read_bytes() == "größe\n".encode()
    assert (tmp_path / "c" / "z.txt").read_text() == "one\ntwo\n"
    assert _left(tmp_path / "a") == ["b", "y.txt"]  # no temporaries


def test_a_write_that_raises_midway_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "instances.json"
    path.write_text("old, whole\n")
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_open(path) as out:
        out.write('{"images": [')
        raise RuntimeError("disk on fire")
    assert path.read_text() == "old, whole\n"
    assert _left(tmp_path) == ["instances.json"]


def test_a_write_that_raises_midway_leaves_no_file_at_all(tmp_path):
    target = tmp_path / "new" / "labels.txt"
    with pytest.raises(ValueError, match="no encoding"), atomic_open(target, "wb") as out:
        out.write(b"0 0.5 0.5")
        raise ValueError("no encoding")
    assert _left(tmp_path / "new") == []


def test_a_process_killed_midway_leaves_the_old_file_under_its_name(tmp_path):
    """A crash runs no cleanup: the half-written temporary stays, hidden, and the final name
    still holds the old file; the next write of that file finishes cleanly."""
    path = tmp_path / "data.yaml"
    path.write_text("old\n")
    child = textwrap.dedent(
        f"""
        import os
        from simulator import atomic_open
        with atomic_open({str(path)!r}) as out:
            out.write("half of the new")
            out.flush()
            os._exit(9)
        """
    )
    assert subprocess.run([sys.executable, "-c", child]).returncode == 9
    assert path.read_text() == "old\n"
    assert (tmp_path / ".data.yaml.part").read_text() == "half of the new"
    atomic_write(path, "new\n")
    assert path.read_text() == "new\n" and _left(tmp_path) == ["data.yaml"]


def test_only_new_files_are_opened():
    with pytest.raises(ValueError, match="mode 'w' or 'wb'"):
        atomic_open("x.txt", "a")


def test_a_merge_that_fails_midway_leaves_no_half_file(tmp_path, monkeypatch):
    """Writer.merge concatenates parts into the final file: a part that cannot be read after
    the first was copied must not leave a file holding only the first."""
    parts = [tmp_path / "part0", tmp_path / "part1"]
    for number, part in enumerate(parts):
        part.mkdir()
        (part / "list.txt").write_text(f"line {number}\n")
    root = tmp_path / "root"
    root.mkdir()
    info = DatasetInfo(root, "w", [], 8, 8, 2, {})
    reads = []
    real_read = Path.read_bytes

    def read_bytes(self):
        reads.append(self)
        if len(reads) == 2:
            raise OSError("part1 went away")
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(OSError, match="part1 went away"):
        Writer.merge(Writer.Params(), info, parts)
    assert _left(root) == []
    monkeypatch.setattr(Path, "read_bytes", real_read)
    Writer.merge(Writer.Params(), info, parts)
    assert (root / "list.txt").read_text() == "line 0\nline 1\n" and _left(root) == ["list.txt"]


def test_every_file_of_a_run_goes_through_the_helper(write_world, tmp_path, monkeypatch):
    """The pass images, the manifest, the shard markers, and the coco, yolo and native
    writers' files (per frame and merged) are all written by simulator.atomic_write/open."""
    written = []
    real_part_path = atomic.part_path

    def part_path(path):
        written.append(Path(path))
        return real_part_path(path)

    monkeypatch.setattr(atomic, "part_path", part_path)
    world = write_world()
    text = world.read_text() + '\n[output]\nwriters = ["coco", "yolo", "native"]\n'
    root = run(load_world(write_world(text)), RunOptions(tmp_path / "out", frames=2)).root
    through = {p.relative_to(root).as_posix() for p in written if root in p.parents}
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert on_disk <= through, sorted(on_disk - through)
    assert {"yolo/data.yaml", "annotations/instances.json"} <= on_disk
    for kind, name in (("labels", "000000.txt"), ("images", "000000.jpg")):
        assert {f"yolo/{kind}/{split}/{name}" for split in ("train", "val")} & on_disk
    assert any(name.startswith(".sim/shards/") and name.endswith("/done") for name in through)


def test_the_face_exports_the_helpers():
    assert simulator.atomic_write is atomic.atomic_write
    assert simulator.atomic_open is atomic.atomic_open
    assert simulator.atomic_link is atomic.atomic_link
    assert {"atomic_write", "atomic_open", "atomic_link"} <= set(simulator.__all__)


def test_a_link_is_the_same_file_and_replaces_the_old_one(tmp_path):
    source = tmp_path / "images/000000.jpg"
    atomic_write(source, b"frame")
    target = tmp_path / "yolo/images/train/000000.jpg"
    atomic_write(target, b"stale")
    atomic_link(source, target)
    assert target.read_bytes() == b"frame"
    assert target.stat().st_ino == source.stat().st_ino and source.stat().st_nlink == 2
    assert _left(target.parent) == ["000000.jpg"]


def test_a_file_system_without_hard_links_gets_a_copy(tmp_path, monkeypatch):
    source = tmp_path / "a.png"
    source.write_bytes(b"pixels")

    def refuse(*args):
        raise PermissionError("no hard links here")

    monkeypatch.setattr(atomic.os, "link", refuse)
    atomic_link(source, tmp_path / "copy/a.png")
    assert (tmp_path / "copy/a.png").read_bytes() == b"pixels"
    assert source.stat().st_nlink == 1 and _left(tmp_path / "copy") == ["a.png"]


def test_a_link_to_a_missing_file_raises_and_leaves_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic_link(tmp_path / "missing.jpg", tmp_path / "out/missing.jpg")
    assert _left(tmp_path / "out") == []


def test_the_writer_in_the_plugin_guide_runs(write_world, tmp_path):
    """docs/writing-plugins.md's writer example, saved as a local plugin and run sharded."""
    doc = (Path(__file__).parent.parent / "docs" / "writing-plugins.md").read_text()
    section = doc.split("## A writer: files written whole", 1)[1]
    code = re.search(r"^```python\n(.*?)^```$", section, re.M | re.S)[1]
    (tmp_path / "boxes_csv.py").write_text(code)
    world = write_world().read_text().replace("frames = 4", "frames = 3")
    world = world.replace("[camera]", '[plugins]\npaths = ["boxes_csv.py"]\n\n[camera]')
    world += '\n[output]\nwriters = ["boxes_csv", "native"]\n'
    root = run(load_world(write_world(world)), RunOptions(tmp_path / "out", shard_size=2)).root
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    rows = [
        f"{r['frame']},{o['category']},{','.join(map(str, o['bbox']))}"
        for r in records
        for o in r["objects"]
    ]
    assert (root / "boxes.csv").read_text().splitlines() == ["frame,category,x,y,w,h", *rows]
    first = json.loads((root / "boxes" / "000000.json").read_text())
    assert first == {str(o["instance_id"]): o["bbox"] for o in records[0]["objects"]}
    assert not [p for p in root.rglob(".*.part")]
