"""Bad input that used to crash: world files that are not UTF-8, nan and inf anywhere a number
goes, and plugins that leave values the engine cannot draw. One line each, exit code 2,
nothing written."""

import re
import textwrap

import pytest
from typer.testing import CliRunner

from simulator.cli import app

runner = CliRunner()

WORLD = """[world]
frames = 2
[camera]
resolution = [64, 48]
[[spawners]]
type = "primitive"
"""


def refused(world, tmp_path, *flags):
    """`sim run` of `world` must fail with exit code 2, one message and nothing written; the
    message, its lines joined."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(world), "--out", str(out), *flags])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    return " ".join(result.output.split())


BYTES = {
    "latin-1 byte in a comment": (
        WORLD.encode() + b"# caf\xe9\n",
        r"world\.toml:7: byte 0xe9 is not UTF-8 \(TOML files are UTF-8\)",
    ),
    "utf-16": (WORLD.encode("utf-16"), r"world\.toml: the world file is UTF-16, but TOML files"),
    "binary garbage": (bytes(range(256)) * 4, r"world\.toml: this is not a text file"),
}


@pytest.mark.parametrize("case", sorted(BYTES))
def test_world_files_that_are_not_utf8_are_one_clear_error(case, tmp_path):
    data, message = BYTES[case]
    world = tmp_path / "world.toml"
    world.write_bytes(data)
    assert re.search(message, refused(world, tmp_path))
    validated = runner.invoke(app, ["validate", str(world)])
    assert validated.exit_code == 2 and re.search(message, " ".join(validated.output.split()))


def test_a_byte_order_mark_is_fine(tmp_path):
    world = tmp_path / "world.toml"
    world.write_bytes(b"\xef\xbb\xbf" + WORLD.encode())
    assert runner.invoke(app, ["validate", str(world)]).exit_code == 0


NOT_FINITE = {
    "camera": ("[camera]\nfov = nan\n", r"camera\.fov: Input should be a finite number"),
    "spawner parameter": (
        "size = inf\n",
        r"spawners\[0\]\.size: expected a finite number, got inf",
    ),
    "vector": ("position = [0, nan, 0]\n", r"spawners\[0\]\.position: expected a finite number"),
    "distribution": (
        "size = { uniform = [0.1, inf] }\n",
        r"spawners\[0\]\.size: expected a finite number, got inf",
    ),
    "randomizer": (
        '[[randomizers]]\ntype = "light"\nintensity = -inf\n',
        r"randomizers\[0\]\.intensity: expected a finite number, got -inf",
    ),
}


@pytest.mark.parametrize("case", sorted(NOT_FINITE))
def test_nan_and_inf_are_refused_at_validation(case, tmp_path):
    text, message = NOT_FINITE[case]
    world = tmp_path / "world.toml"
    world.write_text(
        WORLD.replace(
            "[camera]\nresolution = [64, 48]\n",
            "[camera]\nresolution = [64, 48]\n" if case != "camera" else "",
        )
        + text
    )
    assert re.search(message, refused(world, tmp_path))


GARBAGE = {
    "a string position": (
        'entity.position = "abc"',
        r"entity 1\.position = 'abc' \(expected 3 finite numbers\)",
    ),
    "no position": (
        "entity.position = None",
        r"entity 1\.position = None \(expected 3 finite numbers\)",
    ),
    "a nan position": (
        "entity.position = [0.0, float('nan'), 0.0]",
        r"entity 1\.position = \[0\.0, nan, 0\.0\] \(expected 3 finite numbers\)",
    ),
    "a colour of four numbers": (
        "entity.color = [1, 0, 0, 1]",
        r"entity 1\.color = \[1, 0, 0, 1\] \(expected 3 finite numbers\)",
    ),
    "a roughness of 7": (
        "entity.roughness = 7",
        r"entity 1\.roughness = 7 \(expected a number in \[0, 1\]\)",
    ),
}

PLUGIN = """
from simulator import Params, Randomizer, hookimpl


class Garbage(Randomizer[Params]):
    name = "garbage"

    def randomize(self, ctx, entities):
        for entity in entities:
            {line}


@hookimpl
def sim_register_randomizers(register):
    register(Garbage)
"""


@pytest.mark.parametrize("case", sorted(GARBAGE))
def test_a_plugin_that_leaves_garbage_is_named_with_its_hook(case, tmp_path):
    line, problem = GARBAGE[case]
    (tmp_path / "garbage.py").write_text(PLUGIN.format(line=line))
    world = tmp_path / "world.toml"
    world.write_text(
        '[plugins]\npaths = ["garbage.py"]\n' + WORLD
        + '[[randomizers]]\ntype = "color"\n[[randomizers]]\ntype = "garbage"\n'
    )  # fmt: skip
    message = refused(world, tmp_path)
    assert re.search(
        r"randomizer 'garbage' \(type 'garbage' from plugin 'garbage'\) left " + problem
        + r" in randomize\(\) at frame 0 \(seed \d+\); re-render that frame alone",
        message,
    ), message  # fmt: skip


def test_valid_values_of_other_types_are_taken_as_floats(tmp_path):
    """A plugin may assign a list or a tuple: it is drawn, as an array."""
    (tmp_path / "lists.py").write_text(
        textwrap.dedent(PLUGIN.format(line="entity.position = (0, 0, 0.5)"))
    )
    world = tmp_path / "world.toml"
    world.write_text(
        '[plugins]\npaths = ["lists.py"]\n' + WORLD + '[[randomizers]]\ntype = "garbage"\n'
    )
    result = runner.invoke(app, ["run", str(world), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "out" / "frames.jsonl").read_text().splitlines()
    assert len(lines) == 2 and all('"position":[0.0,0.0,0.5]' in line for line in lines)


OUTSIDE = {
    "a world name with a slash": (
        '[world]\nname = "../../elsewhere"\n',
        r"world\.name: '\.\./\.\./elsewhere' is not a plain name",
    ),
    "an empty world name": ('[world]\nname = ""\n', r"world\.name: '' is not a plain name"),
    "an absolute output dir": (
        '[output]\ndir = "/tmp/elsewhere"\n',
        r"output\.dir: '/tmp/elsewhere' must be a relative path without '\.\.'",
    ),
    "an output dir going up": (
        '[output]\ndir = "../elsewhere"\n',
        r"output\.dir: '\.\./elsewhere' must be a relative path",
    ),
    "an absolute writer path": (
        '[output]\nwriters = [{ type = "coco", path = "/tmp/evil.json" }]\n',
        r"output\.writers\[0\]\.path: '/tmp/evil\.json' must be a relative path",
    ),
    "a writer path going up": (
        '[output]\nwriters = [{ type = "coco", path = "../../evil.json" }]\n',
        r"output\.writers\[0\]\.path: '\.\./\.\./evil\.json' must be a relative path",
    ),
    "a writer name with a slash": (
        '[output]\nwriters = [{ type = "native", name = "../x" }]\n',
        r"output\.writers\[0\]\.name: '\.\./x' is not a plain name",
    ),
}


@pytest.mark.parametrize("case", sorted(OUTSIDE))
def test_a_world_file_cannot_write_outside_the_output_folder(case, tmp_path):
    text, message = OUTSIDE[case]
    world = tmp_path / "sub" / "world.toml"
    world.parent.mkdir()
    world.write_text(
        WORLD + text if not text.startswith("[world]") else WORLD.replace("[world]\n", text)
    )
    assert re.search(message, refused(world, tmp_path)), case
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sub", "world.toml"]


def test_resume_refuses_a_dataset_folder_with_a_link_out(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(WORLD)
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(world), "--out", str(out)]).exit_code == 0
    manifest = out / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"complete"', '"running"'))
    outside = tmp_path / "outside"
    outside.mkdir()
    (out / "images").rename(tmp_path / "images-moved")
    (out / "images").symlink_to(outside, target_is_directory=True)
    result = runner.invoke(app, ["run", str(world), "--out", str(out), "--resume"])
    assert result.exit_code == 2
    assert re.search(
        r"images is a symbolic link \(to .*outside\); sim writes only inside",
        " ".join(result.output.split()),
    )
    assert not any(outside.iterdir())


TOO_BIG = {
    "a count that cannot fit the masks": (
        '[[spawners]]\ntype = "primitive"\nname = "many"\ncount = { range = [0, 1000000000] }\n',
        r"the spawners may place up to 1,000,000,001 objects in a frame, but instance ids are 16-bit in the masks: at most 65,535 per frame",
    ),
    "a near plane too small for the depth buffer": (
        "[camera]\nnear = 0.000001\n",
        r"camera: far / near is 1e\+08: the 24-bit depth buffer cannot tell surfaces apart",
    ),
    "more frames than a run can plan": (
        "[world]\nframes = 1000000000000\n",
        r"world\.frames: Input should be less than or equal to 100000000",
    ),
}


@pytest.mark.parametrize("case", sorted(TOO_BIG))
def test_sizes_that_cannot_work_are_refused_before_rendering(case, tmp_path):
    text, message = TOO_BIG[case]
    world = tmp_path / "world.toml"
    base = WORLD.replace("[world]\nframes = 2\n", "") if text.startswith("[world]") else WORLD
    base = (
        base.replace("[camera]\nresolution = [64, 48]\n", "")
        if text.startswith("[camera]")
        else base
    )
    world.write_text(text + base)
    assert re.search(message, refused(world, tmp_path)), case


def test_more_workers_than_cores_are_cut_to_the_cores_and_said(tmp_path, monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    world = tmp_path / "world.toml"
    world.write_text(WORLD)
    result = runner.invoke(
        app, ["run", str(world), "--out", str(tmp_path / "out"), "--workers", "64"]
    )
    assert result.exit_code == 0, result.output
    assert "note: --workers 64 is more than this machine's 2 cores; using 2" in result.output


def test_frames_beyond_what_a_run_plans_are_refused(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(WORLD)
    message = refused(world, tmp_path, "--frames", "1000000000000")
    assert "1,000,000,000,000 frames is more than one run plans (100,000,000)" in message


@pytest.mark.parametrize(
    ("code", "text"),
    [(28, "No space left on device"), (30, "Read-only file system"), (13, "Permission denied")],
)
def test_filesystem_trouble_mid_run_is_one_line_that_says_it_resumes(
    tmp_path, monkeypatch, code, text
):
    from simulator.dataset import layout

    def trouble(root, jobs):
        raise OSError(code, text, str(root / "images" / "000001.jpg"))

    monkeypatch.setattr(layout, "write_files", trouble)
    world = tmp_path / "world.toml"
    world.write_text(WORLD)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(world), "--out", str(out)])
    assert result.exit_code == 1, result.output  # a run that started and failed, not a usage error
    message = " ".join(result.output.split())
    assert (
        f"error: cannot write {out / 'images' / '000001.jpg'}: {text}; the frames done are kept: "
        f"once that is fixed, resume with: sim run {world} --out {out} --resume"
    ) in message
    assert "Traceback" not in result.output


def test_an_output_path_under_a_file_is_one_line(tmp_path):
    (tmp_path / "afile").write_text("")
    world = tmp_path / "world.toml"
    world.write_text(WORLD)
    result = runner.invoke(app, ["run", str(world), "--out", str(tmp_path / "afile" / "out")])
    assert result.exit_code == 2
    assert "Not a directory; no dataset was started" in " ".join(result.output.split())


def test_a_missing_plugins_dir_is_an_error_not_silence(tmp_path):
    world = tmp_path / "world.toml"
    world.write_text(WORLD)
    message = refused(world, tmp_path, "--plugins-dir", str(tmp_path / "absent"))
    assert f"--plugins-dir {tmp_path / 'absent'} does not exist" in message


def test_progress_to_a_log_is_plain_lines_without_escape_codes(tmp_path):
    import subprocess
    import sys

    world = tmp_path / "world.toml"
    world.write_text(WORLD.replace("frames = 2", "frames = 6"))
    result = subprocess.run(
        [sys.executable, "-c", "from simulator.cli import main; main()", "run", str(world),
         "--out", str(tmp_path / "out")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "world: 0/6 frames, 0.0 frames/s, ETA -"
    assert re.fullmatch(r"world: 6/6 frames, [\d.]+ frames/s, ETA 0 s", lines[-2]), lines
    assert lines[-1].startswith("wrote 6 frames")
