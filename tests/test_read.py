"""The one reader of a dataset folder: what it reads, what it leaves unread, and its errors."""

import ast
import json
import shutil
from pathlib import Path

import pytest
from conftest import SMALL_WORLD

from simulator.dataset import layout
from simulator.dataset.read import DatasetFolder, open_dataset, read_coco
from simulator.errors import OutputError
from simulator.report import stats
from simulator.report.overlay import overlay_frame
from simulator.run.replay import world_of
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    """The small world, 4 frames with COCO, native records and depth; tests copy it to break it."""
    folder = tmp_path_factory.mktemp("read")
    (folder / "world.toml").write_text(SMALL_WORLD)
    return run(load_world(folder / "world.toml"), RunOptions(folder / "out")).root


def _lines(root: Path) -> list[str]:
    return (root / "frames.jsonl").read_text().splitlines(keepends=True)


def _copy(dataset: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(dataset, tmp_path / "copy"))


def test_everything_is_read_from_the_folder(dataset):
    folder = open_dataset(dataset)
    assert folder.manifest == json.loads((dataset / "manifest.json").read_text())
    assert list(folder.records()) == [json.loads(line) for line in _lines(dataset)]
    assert folder.coco() == json.loads((dataset / "annotations/instances.json").read_text())
    record = folder.record(2)
    assert record["frame"] == 2
    assert folder.pass_file(record, "depth") == dataset / record["files"]["depth"]
    assert folder.pass_path(record, "normals") is None  # not a label of this world
    assert Path("frames.jsonl") in folder.files() and Path("images/000003.jpg") in folder.files()
    assert [r["frame"] for r in folder.records({3, 1})] == [1, 3]  # file order


def test_one_record_is_found_without_parsing_the_others(dataset, tmp_path):
    """A 20,000-frame frames.jsonl is not parsed whole for one frame: lines of other frames
    are skipped by the frame number that starts them (here, broken after it)."""
    root = _copy(dataset, tmp_path)
    lines = _lines(root)
    lines[0] = lines[0][: len('{"frame":0,') + 5] + "\n"
    (root / "frames.jsonl").write_text("".join(lines))
    (root / "annotations/instances.json").write_text("not even json")  # overlay never reads it
    folder = open_dataset(root)
    assert folder.record(3) == json.loads(lines[3])
    assert overlay_frame(root, 3).size == (160, 120)
    with pytest.raises(OutputError, match=r"frames\.jsonl:1: not a native record \("):
        list(folder.records())
    with pytest.raises(OutputError, match=r"^frame 9 is not in .*frames\.jsonl$"):
        folder.record(9)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ('{"frame": 0, "files": {}}\n', "(objects is missing)"),
        ('{"frame": "0", "files": {}, "objects": []}\n', "(frame: expected an integer, got '0')"),
        ("[1, 2]\n", "(expected a JSON object, got [1, 2])"),
    ],
)
def test_records_without_the_fields_every_reader_needs_are_refused(tmp_path, line, why):
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "frames.jsonl").write_text(line)
    with pytest.raises(OutputError, match=r"frames\.jsonl:1: not a native record") as error:
        list(open_dataset(tmp_path).records())
    assert why in str(error.value)


def test_what_is_missing_or_malformed_is_one_line_naming_the_file(dataset, tmp_path):
    with pytest.raises(OutputError, match=r"holds no sim dataset \(no manifest\.json\)$"):
        open_dataset(tmp_path)
    root = _copy(dataset, tmp_path)
    record = open_dataset(root).record(1)
    (root / record["files"]["depth"]).unlink()
    (root / "frames.jsonl").unlink()
    (root / "annotations/instances.json").unlink()
    (root / "manifest.json").write_text('{"world": ')
    folder = open_dataset(root)
    expected = [
        (
            lambda: folder.manifest,
            r"manifest\.json is not a sim manifest: Expecting value at line 1",
        ),
        (
            lambda: list(folder.records()),
            r"has no frames\.jsonl \(was the native writer enabled\?\)",
        ),
        (folder.coco, r"has no annotations/instances\.json \(is the run finished"),
        (lambda: folder.pass_file(record, "depth"), r"depth/000001\.png is missing"),
        (lambda: folder.pass_file(record, "normals"), r"frame 1 has no normals file"),
    ]
    for read, message in expected:
        with pytest.raises(OutputError, match=message) as error:
            read()
        assert str(root) in str(error.value) and "\n" not in str(error.value)


def test_read_coco_checks_what_the_statistics_rely_on(tmp_path):
    path = tmp_path / "coco.json"
    path.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(OutputError, match="is not a COCO file"):
        read_coco(path)
    path.write_text('{"images": [], "annotations": [], "categories": []}')
    assert read_coco(path)["images"] == []


def test_report_overlay_and_replay_read_through_it(dataset):
    inspected = stats.read_dataset(dataset)
    assert isinstance(inspected.folder, DatasetFolder) and inspected.root == dataset
    assert [r["frame"] for r in inspected.records] == [0, 1, 2, 3]
    assert world_of(dataset).world.name == open_dataset(dataset).manifest["world"]["world"]["name"]


def _names_in_code(path: Path) -> set[str]:
    names = {layout.MANIFEST, layout.RECORDS, layout.COCO, "instances.json"}
    return {
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value in names
    }


def test_the_dataset_file_names_are_known_in_one_place():
    """layout.py names the dataset's files; no other module of sim spells them out."""
    spelled = {
        str(path.relative_to(ROOT)): _names_in_code(path)
        for path in (ROOT / "simulator").rglob("*.py")
        if path.name != "layout.py"
    }
    assert not {path: names for path, names in spelled.items() if names}


@pytest.mark.parametrize(
    "tampered", ["/etc/passwd", "../../../../etc/passwd", "images/../../x.jpg"]
)
def test_a_tampered_record_cannot_make_sim_read_outside_the_dataset(dataset, tmp_path, tampered):
    """`sim overlay` (and every reader) reads pass files only inside the dataset folder."""
    import shutil

    from typer.testing import CliRunner

    from simulator.cli import app

    copy = tmp_path / "copy"
    shutil.copytree(dataset, copy)
    records = (copy / "frames.jsonl").read_text().splitlines()
    first = json.loads(records[0])
    first["files"]["image"] = tampered
    (copy / "frames.jsonl").write_text("\n".join([json.dumps(first), *records[1:]]) + "\n")
    result = CliRunner().invoke(
        app, ["overlay", str(copy), "--frame", "0", "-o", str(tmp_path / "o.png")]
    )
    assert result.exit_code == 2, result.output
    assert f"frames.jsonl, frame 0: '{tampered}' points outside" in " ".join(result.output.split())
    assert not (tmp_path / "o.png").exists()


def test_a_tampered_coco_file_name_is_refused(dataset, tmp_path):
    from simulator.report import stats

    coco = json.loads((dataset / "annotations" / "instances.json").read_text())
    coco["images"][0]["file_name"] = "/etc/passwd"
    hostile = tmp_path / "annotations" / "instances.json"
    hostile.parent.mkdir()
    hostile.write_text(json.dumps(coco))
    with pytest.raises(OutputError, match=r"images\[0\]\.file_name: '/etc/passwd' points outside"):
        stats.read_dataset(hostile)
