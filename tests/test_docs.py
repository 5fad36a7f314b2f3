"""Docs that cannot rot: the hook reference is generated, and every hook is documented and tested."""

import re
import subprocess
import sys
from pathlib import Path

from PIL import Image

from simulator.docgen import hooks as hookdocs

ROOT = Path(__file__).parent.parent


def test_hook_reference_is_generated_from_the_hookspecs():
    assert (ROOT / "docs" / "plugins.md").read_text() == hookdocs.render(), (
        "docs/plugins.md is stale: run `python3 -m simulator.docgen.hooks > docs/plugins.md`"
    )


def test_every_hook_is_documented_with_its_exact_signature():
    text = (ROOT / "docs" / "plugins.md").read_text()
    for name, signature, _ in hookdocs.hooks():
        shown = str(signature).replace("'", "")
        assert f"### `{name}{shown}`" in text, f"{name} is missing from docs/plugins.md"


def test_every_hook_has_a_test():
    tests = "".join(
        p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_docs.py"
    )
    untested = [name for name, _, _ in hookdocs.hooks() if f"def {name}(" not in tests]
    assert not untested, f"hooks without a test implementing them: {untested}"


def test_cli_reference_is_generated_from_the_help():
    from simulator.docgen import cli as clidocs

    assert (ROOT / "docs" / "cli.md").read_text() == clidocs.render(), (
        "docs/cli.md is stale: run `python3 -m simulator.docgen.cli > docs/cli.md`"
    )
    assert {"run", "validate", "preview", "inspect", "replay", "schema"} <= set(
        clidocs.command_names()
    )


def test_randomizer_strips_doc_is_current_and_the_script_renders_every_strip(tmp_path):
    import subprocess
    import sys

    script = ROOT / "docs" / "randomizer_strips.py"
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    made = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    from simulator.plugin.host import PluginHost

    names = PluginHost(entry_points=False).randomizers.names()
    assert sorted(p.stem for p in (tmp_path / "images" / "randomizers").glob("*.png")) == names
    assert (tmp_path / "randomizers.md").read_text() == (
        ROOT / "docs" / "randomizers.md"
    ).read_text()


def test_world_format_names_every_bundled_plugin():
    from simulator.plugin.host import DEFAULT_PLUGINS

    text = " ".join((ROOT / "docs" / "world-format.md").read_text().split())
    listed = text.split("The bundled ones are", 1)[1].split(";", 1)[0]
    assert {m.rsplit(".", 1)[1] for m in DEFAULT_PLUGINS} == set(re.findall(r"`(\w+)`", listed))


def test_architecture_picture_and_table_are_drawn_from_the_imports(tmp_path):
    """docs/architecture.md's table of wings and arrows matches the code; the picture renders."""
    script = ROOT / "docs" / "architecture.py"
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    picture = tmp_path / "architecture.png"
    doc = (ROOT / "docs" / "architecture.md").read_text()
    drawn = subprocess.run(
        [sys.executable, str(script), "--picture", str(picture)], capture_output=True, text=True
    )
    assert drawn.returncode == 0, drawn.stderr
    assert (ROOT / "docs" / "architecture.md").read_text() == doc  # --check said it is current
    with Image.open(picture) as image:
        assert image.size[0] >= 1000 and image.size[1] >= 1000


def test_lighting_doc_shows_every_strip_and_the_script_renders_them(tmp_path):
    import subprocess
    import sys

    script = ROOT / "docs" / "lighting_strips.py"
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    made = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    drawn = sorted(p.stem for p in (tmp_path / "images" / "lighting").glob("*.png"))
    assert drawn == sorted(p.stem for p in (ROOT / "docs" / "images" / "lighting").glob("*.png"))
    for name in drawn:
        with Image.open(tmp_path / "images" / "lighting" / f"{name}.png") as image:
            assert image.size == (4 * 200, 150)


def test_labels_pictures_are_current_and_shown(tmp_path):
    """docs/labels_pictures.py redraws docs/images/labels/ as committed (a frame sim renders
    included), and labels.md shows every picture."""
    import numpy as np

    script = ROOT / "docs" / "labels_pictures.py"
    made = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True
    )
    assert made.returncode == 0, made.stderr
    drawn = sorted(p.name for p in (tmp_path / "images" / "labels").glob("*.png"))
    committed = ROOT / "docs" / "images" / "labels"
    assert (
        drawn
        == sorted(p.name for p in committed.glob("*.png"))
        == [
            "boxes.png",
            "camera.png",
            "pixels.png",
        ]
    )
    doc = (ROOT / "docs" / "labels.md").read_text()
    for name in drawn:
        assert f"](images/labels/{name})" in doc
        with (
            Image.open(tmp_path / "images" / "labels" / name) as new,
            Image.open(committed / name) as old,
        ):
            assert new.size == old.size, name
            a = np.asarray(new.convert("RGB"), dtype=np.int16)
            b = np.asarray(old.convert("RGB"), dtype=np.int16)
        # the same picture, up to a rasterizer's rounding: rerun the script when it differs
        assert np.abs(a - b).mean() < 0.5, f"{name} is stale: python3 docs/labels_pictures.py"
