"""`--json` for scripts: `sim worlds`, `sim validate` and `sim inspect` print one JSON object
on stdout, compared here with the world files and the dataset's files read independently
(tomllib, json, numpy); errors stay one line on stderr with stdout empty."""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_WORLD
from typer.testing import CliRunner

from simulator.cli import app
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

ROOT = Path(__file__).resolve().parent.parent


def sim(*args: object) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def test_worlds_json_lists_the_bundled_world_files():
    code, out, _ = sim("worlds", "--json")
    assert code == 0
    listed = json.loads(out)["worlds"]
    files = sorted((ROOT / "worlds").glob("*.toml"))
    assert [w["name"] for w in listed] == [f.stem for f in files]
    for world, file in zip(listed, files, strict=True):
        assert Path(world["path"]).read_bytes() == file.read_bytes()
        first = file.read_text().splitlines()[0]
        assert world["about"] == first.lstrip("# ").strip()
        tomllib.loads(Path(world["path"]).read_text())  # a world file, not something else


WORLD = """\
[world]
name = "json"
seed = 7
frames = 3

[camera]
resolution = [96, 64]

[[spawners]]
type = "primitive"
name = "crates"
category = "crate"
shape = "box"

[[spawners]]
type = "pipe"

[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true

[[randomizers]]
type = "color"
targets = ["crate"]

[output]
labels = ["boxes", "keypoints"]
writers = ["coco", "yolo"]
"""


def test_validate_json_is_the_world_as_sim_understood_it(write_world):
    path = write_world(WORLD)
    code, out, _ = sim("validate", path, "--json")
    assert code == 0, out
    got = json.loads(out)
    data = tomllib.loads(WORLD)
    assert (got["world"], got["file"]) == (str(path), str(path))
    assert (got["name"], got["seed"], got["frames"]) == ("json", 7, 3)
    assert got["resolution"] == data["camera"]["resolution"]
    spawners = data["spawners"]
    assert [s["type"] for s in got["spawners"]] == [s["type"] for s in spawners]
    assert [s["name"] for s in got["spawners"]] == ["crates", "pipe", "floor"]
    assert [s["distractor"] for s in got["spawners"]] == [False, False, True]
    assert got["randomizers"] == [
        {
            "name": "color",
            "type": "color",
            "plugin": got["randomizers"][0]["plugin"],
            "targets": ["crate"],
        }
    ]
    assert [w["type"] for w in got["writers"]] == data["output"]["writers"]
    assert got["labels"] == data["output"]["labels"]
    assert got["categories"] == ["crate", "pipe"]  # the floor is a distractor
    # the pipe spawner's schema, as docs/labels.md's pipes world describes it
    assert got["keypoints"]["pipe"]["names"] == ["bowl", "heel", "mouthpiece"]
    assert list(got["keypoints"]) == ["pipe"]


def test_validate_json_of_a_bad_world_prints_nothing_on_stdout(write_world):
    code, out, err = sim("validate", write_world("[world]\nframes = 'ten'\n"), "--json")
    assert code == 2 and out == ""
    assert "world.toml:2: world.frames" in " ".join(err.split())


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("json")
    (folder / "world.toml").write_text(SMALL_WORLD)
    return run(load_world(folder / "world.toml"), RunOptions(folder / "out")).root


def _quantiles(values) -> dict[str, float]:
    p10, median, p90 = np.quantile(np.asarray(values, dtype=np.float64), (0.1, 0.5, 0.9))
    return {"p10": p10, "median": median, "p90": p90}


def test_inspect_json_matches_the_dataset_files(dataset, tmp_path):
    code, out, _ = sim("inspect", dataset, "--json", "-o", tmp_path / "r.html")
    assert code == 0, out
    got = json.loads(out)
    assert got["report"] == str(tmp_path / "r.html") and (tmp_path / "r.html").is_file()
    (summary,) = got["datasets"]
    coco = json.loads((dataset / "annotations" / "instances.json").read_text())
    boxes = [a for a in coco["annotations"] if not a.get("iscrowd")]
    assert summary["frames"] == len(coco["images"]) == 4
    assert summary["image_sizes"] == [{"width": 160, "height": 120, "frames": 4}]
    assert summary["boxes"] == len(boxes) and summary["crowd"] == len(coco["annotations"]) - len(
        boxes
    )
    names = {c["id"]: c["name"] for c in coco["categories"]}
    per_class = Counter(names[a["category_id"]] for a in boxes)
    frames_of = Counter(n for n, _ in {(names[a["category_id"]], a["image_id"]) for a in boxes})
    assert summary["classes"] == {
        n: {"boxes": per_class[n], "frames": frames_of[n]} for n in names.values()
    }
    per_image = Counter(a["image_id"] for a in boxes)
    counts = [per_image[i["id"]] for i in coco["images"]]
    assert summary["per_frame"] == {
        "mean": np.mean(counts),
        "median": np.median(counts),
        "min": min(counts),
        "max": max(counts),
    }
    sizes = [np.sqrt(a["bbox"][2] * a["bbox"][3]) for a in boxes]
    assert summary["box_size"] == pytest.approx(_quantiles(sizes), abs=1e-9)
    objects = [
        o
        for line in (dataset / "frames.jsonl").read_text().splitlines()
        for o in json.loads(line)["objects"]
    ]
    assert summary["visibility"] == pytest.approx(_quantiles([o["visibility"] for o in objects]))
    assert summary["truncation"] == pytest.approx(_quantiles([o["truncation"] for o in objects]))
    assert 0 < summary["depth"]["low"] <= summary["depth"]["median"] <= summary["depth"]["high"]
    assert summary["keypoints"] == {}


def test_inspect_json_of_a_coco_file_has_nulls_for_what_coco_lacks(dataset, tmp_path):
    code, out, _ = sim(
        "inspect", dataset / "annotations" / "instances.json", "--json", "-o", tmp_path / "r.html"
    )
    assert code == 0, out
    (summary,) = json.loads(out)["datasets"]
    assert (summary["visibility"], summary["truncation"], summary["depth"]) == (None, None, None)
    code, out, err = sim("inspect", tmp_path / "nothing.json", "--json")
    assert code == 2 and out == "" and "does not exist" in err
