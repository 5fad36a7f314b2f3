"""Every user mistake: one readable message, exit code 2, no traceback, nothing written."""

import re

import pytest
from typer.testing import CliRunner

from simulator.cli import app

runner = CliRunner()

MINIMAL = """
[world]
frames = 1
[camera]
resolution = [64, 48]
[[spawners]]
type = "primitive"
"""


def sim(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


CASES = {
    "toml syntax": ("[world]\nseed = = 3\n", r"world\.toml:2: TOML syntax error: Invalid value"),
    "wrong type": (
        '[world]\nframes = "ten"\n',
        r"world\.toml:2: world\.frames: Input should be a valid integer.*got 'ten'",
    ),
    "unknown section": (
        '[[randomizer]]\ntype = "color"\n',
        r"world\.toml:1: randomizer: unknown key 'randomizer'; did you mean 'randomizers'\?",
    ),
    "unknown key": (
        "[camera]\nfov = 50\nresolutoin = [64, 48]\n",
        r"world\.toml:3: camera\.resolutoin: unknown key 'resolutoin'; did you mean 'resolution'\?",
    ),
    "unknown spawner": (
        '[[spawners]]\ntype = "primitve"\n',
        r"world\.toml:2: spawners\[0\]\.type: unknown spawner 'primitve'; did you mean 'primitive'\?",
    ),
    "unknown randomizer": (
        '[[randomizers]]\ntype = "colour"\n',
        r"randomizers\[0\]\.type: unknown randomizer 'colour'; did you mean 'color'\?",
    ),
    "unknown parameter": (
        '[[spawners]]\ntype = "primitive"\nshpe = "box"\n',
        r"world\.toml:3: spawners\[0\]\.shpe: unknown key 'shpe'; did you mean 'shape'\?",
    ),
    "impossible range": (
        '[[spawners]]\ntype = "primitive"\nsize = { uniform = [5, 1] }\n',
        r"world\.toml:3: spawners\[0\]\.size: uniform needs low <= high, got \[5\.0, 1\.0\]; did you mean \[1\.0, 5\.0\]\?",
    ),
    "zero resolution": (
        "[camera]\nresolution = [0, 480]\n",
        r"world\.toml:2: camera\.resolution\[0\]: Input should be greater than or equal to 1, got 0",
    ),
    "bad shape": (
        '[[spawners]]\ntype = "primitive"\nshape = "tourus"\n',
        r"spawners\[0\]\.shape: expected one of .*got 'tourus'; did you mean 'torus'\?",
    ),
    "missing model": (
        '[[spawners]]\ntype = "model"\npath = "nowhere/pipe.glb"\n',
        r"world\.toml:3: spawners\[0\]\.path: model file not found: .*nowhere/pipe\.glb",
    ),
    "duplicate entries": (
        '[[spawners]]\ntype = "primitive"\n[[spawners]]\ntype = "primitive"\n',
        r"two spawners are called 'primitive' \(spawners\[0\] and spawners\[1\]\).*give each a distinct `name`",
    ),
    "unknown writer": (
        '[output]\nwriters = ["coco", "yolo5"]\n',
        r"output\.writers\[1\]\.type: unknown writer 'yolo5'",
    ),
    "clip planes": (
        "[camera]\nnear = 5.0\nfar = 1.0\n",
        r"camera: near \(5\.0\) must be less than far \(1\.0\)",
    ),
    "missing plugin file": (
        '[plugins]\npaths = ["mine.py"]\n',
        r"plugins\.paths\[0\]: plugin file not found",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_world_is_one_clear_error_and_writes_nothing(case, tmp_path):
    text, message = CASES[case]
    world = tmp_path / "world.toml"
    world.write_text(text)
    out = tmp_path / "out"
    result = sim("run", world, "--out", out)
    assert result.exit_code == 2, result.output
    assert re.search(message, one_line(result.output)), result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    validated = sim("validate", world)
    assert validated.exit_code == 2 and re.search(message, one_line(validated.output))


def test_missing_world_file(tmp_path):
    result = sim("run", tmp_path / "absent.toml", "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert re.search(
        r"absent\.toml: world file not found \(check the path", one_line(result.output)
    )
    assert not (tmp_path / "out").exists()


def test_existing_dataset_is_not_mixed_with_a_new_one(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(MINIMAL)
    out = tmp_path / "out"
    assert sim("run", world, "--out", out, "--quiet").exit_code == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    again = sim("run", world, "--out", out)
    assert again.exit_code == 2
    assert "already holds a dataset; pass --overwrite" in one_line(again.output)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before
    assert sim("run", world, "--out", out, "--overwrite", "--quiet").exit_code == 0


def test_a_foreign_non_empty_directory_is_refused(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(MINIMAL)
    out = tmp_path / "photos"
    out.mkdir()
    (out / "holiday.jpg").write_bytes(b"not ours")
    result = sim("run", world, "--out", out, "--overwrite")
    assert result.exit_code == 2 and "is not empty and holds no sim dataset" in one_line(
        result.output
    )
    assert [p.name for p in out.iterdir()] == ["holiday.jpg"]


def test_validate_reports_a_good_world(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(MINIMAL)
    result = sim("validate", world)
    assert (
        result.exit_code == 0 and "ok (1 spawners, 0 randomizers, categories: box)" in result.output
    )


def test_empty_output_section_still_gives_a_useful_dataset(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(MINIMAL + "\n[output]\n")
    out = tmp_path / "out"
    assert sim("run", world, "--out", out, "--quiet").exit_code == 0
    assert {p.name for p in out.iterdir()} == {
        "manifest.json",
        "frames.jsonl",
        "annotations",
        "images",
        "instances",
        "semantic",
        "depth",
    }


MORE_CASES = {
    "markup survives": (
        '[[spawners]]\ntype = "primitive"\ncount = 2.5\n',
        r"expected a whole number or \{ range = \[low, high\] \}, got 2\.5",
    ),
    "color component out of range": (
        '[[spawners]]\ntype = "primitive"\ncolor = [2.0, { uniform = [0, 1] }, 0]\n',
        r"spawners\[0\]\.color: color components are in \[0, 1\], got 2\.0",
    ),
    "reversed vector component": (
        '[[randomizers]]\ntype = "position"\nposition = { uniform = [[0, 0, 1], [1, 1, 0]] }\n',
        r"uniform needs low <= high in every component.*\(component 2 reversed\)",
    ),
    "camera on its target": (
        "[camera]\nposition = [0, 0, 1]\ntarget = [0, 0, 1]\n",
        r"camera: position and target coincide",
    ),
    "unknown target": (
        '[[spawners]]\ntype = "primitive"\n[[randomizers]]\ntype = "color"\ntargets = ["boxes"]\n',
        r"world\.toml:5: randomizers\[0\]\.targets\[0\]: target 'boxes' is neither a category nor a spawner name; did you mean 'box'\?",
    ),
    "loose bool": (
        '[[spawners]]\ntype = "primitive"\ndistractor = "yes"\n',
        r"spawners\[0\]\.distractor: Input should be a valid boolean",
    ),
    "hex without hash": (
        '[[spawners]]\ntype = "primitive"\ncolor = "ff8800"\n',
        r"expected a color as '#rrggbb'",
    ),
}


@pytest.mark.parametrize("case", sorted(MORE_CASES))
def test_more_bad_worlds(case, tmp_path):
    text, message = MORE_CASES[case]
    world = tmp_path / "world.toml"
    world.write_text(text)
    result = sim("validate", world)
    assert result.exit_code == 2, result.output
    assert re.search(message, one_line(result.output)), result.output


def test_a_randomizer_that_puts_the_camera_on_its_target_is_reported(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(MINIMAL + '[[randomizers]]\ntype = "camera_orbit"\ndistance = 0.0\n')
    result = sim("run", world, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "orbit distance 0.000 is inside the near plane" in one_line(result.output)


def test_version_flag_and_short_help():
    version = sim("--version")
    assert version.exit_code == 0 and re.fullmatch(r"sim \d+\.\d+\.\d+\n", version.output)
    short = sim("run", "-h")
    assert short.exit_code == 0 and "Render a world into a labeled dataset." in short.output


def test_exit_codes_tell_a_usage_error_from_a_run_that_failed(tmp_path):
    """2: nothing was started (a bad world); 1: a run started and a frame failed (what is
    done is kept and --resume finishes it)."""
    plugin = tmp_path / "flaky.py"
    plugin.write_text(
        "from simulator import Randomizer, Params, hookimpl\n"
        "class Flaky(Randomizer[Params]):\n"
        "    name = 'flaky'\n"
        "    def randomize(self, ctx, entities):\n"
        "        if ctx.frame == 5:\n"
        "            raise ValueError('frame five is cursed')\n"
        "@hookimpl\n"
        "def sim_register_randomizers(register):\n"
        "    register(Flaky)\n"
    )
    world = tmp_path / "world.toml"
    base = '[world]\nframes = 8\n[camera]\nresolution = [32, 24]\n[render]\npreset = "fast"\n'
    base += '[[spawners]]\ntype = "primitive"\n[plugins]\npaths = ["flaky.py"]\n'
    world.write_text(base + '[[randomizers]]\ntype = "flaky"\n')
    out = tmp_path / "out"
    failed = sim("run", world, "--out", out, "--quiet")
    assert failed.exit_code == 1, failed.output
    assert "frame five is cursed" in one_line(failed.output)
    assert f"resume with: sim run {world} --out {out} --resume" in one_line(failed.output)
    assert (out / "manifest.json").is_file()
    world.write_text(base + '[[randomizers]]\ntype = "flakey"\n')
    unusable = sim("run", world, "--out", tmp_path / "other", "--quiet")
    assert unusable.exit_code == 2 and not (tmp_path / "other").exists()


def test_run_json_prints_one_summary_object_for_scripts(tmp_path):
    import json

    world = tmp_path / "world.toml"
    world.write_text(
        '[world]\nframes = 3\n[camera]\nresolution = [32, 24]\n[render]\npreset = "fast"\n'
        '[[spawners]]\ntype = "primitive"\ncount = 2\n'
    )
    out = tmp_path / "out"
    result = sim("run", world, "--out", out, "--json", "--quiet")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    records = (out / "frames.jsonl").read_text().splitlines()
    objects = sum(len(json.loads(line)["objects"]) for line in records)
    assert summary["dataset"] == str(out) and summary["frames"] == len(records) == 3
    assert summary["objects"] == objects and summary["already_complete"] is False
    on_disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    assert abs(summary["bytes"] - on_disk) < 0.02 * on_disk  # the dataset's size
    again = json.loads(sim("run", world, "--out", out, "--json", "--resume").stdout)
    assert again["already_complete"] is True and again["frames"] == 3
