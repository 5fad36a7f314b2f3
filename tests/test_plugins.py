"""Plugins: local files, registration errors, and failures while a frame is built."""

import json
import re
import textwrap

import pytest
from typer.testing import CliRunner

from simulator.capture.pipeline import Pipeline, host_for
from simulator.cli import app
from simulator.errors import PluginError
from simulator.plugin.host import PluginHost
from simulator.world.load import load_world

runner = CliRunner()

PLUGIN = """
from pydantic import Field
from simulator import Entity, FrameContext, Params, Scalar, Spawner, hookimpl, meshes


class RingParams(Params):
    radius: Scalar = Field(0.5, description="Ring size.")


class Ring(Spawner):
    name = "ring"
    Params = RingParams

    def spawn(self, ctx: FrameContext) -> Entity:
        return Entity(meshes.torus(), scale=[self.params.radius.sample(ctx.rng)] * 3)


@hookimpl
def sim_register_spawners(register):
    register(Ring)
"""


def world_with(tmp_path, plugin_source: str, spawner: str = "ring", extra: str = "") -> str:
    (tmp_path / "rings.py").write_text(textwrap.dedent(plugin_source))
    world = tmp_path / "world.toml"
    world.write_text(
        textwrap.dedent(f"""
        [world]
        frames = 2
        [camera]
        resolution = [64, 48]
        [[spawners]]
        type = "{spawner}"
        {extra}
        [plugins]
        paths = ["rings.py"]
    """)
    )
    return str(world)


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_a_local_plugin_file_adds_a_spawner_with_typed_parameters(tmp_path):
    world = world_with(tmp_path, PLUGIN, extra="radius = { uniform = [0.4, 0.6] }")
    result = runner.invoke(app, ["run", world, "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 0, result.output
    assert '"category":"ring"' in (tmp_path / "out" / "frames.jsonl").read_text()


def test_a_local_plugin_parameter_is_validated(tmp_path):
    world = world_with(tmp_path, PLUGIN, extra='radius = "big"')
    result = runner.invoke(app, ["validate", world])
    assert result.exit_code == 2
    assert re.search(
        r"world\.toml:8: spawners\[0\]\.radius: expected a constant", one_line(result.output)
    )


def test_misspelled_hook_is_an_error_at_start_up(tmp_path):
    source = PLUGIN.replace("def sim_register_spawners", "def sim_register_spawner")
    world = world_with(tmp_path, source)
    result = runner.invoke(app, ["validate", world])
    assert result.exit_code == 2
    assert re.search(
        r"plugin 'rings': unknown hook 'sim_register_spawner'", one_line(result.output)
    )


def test_duplicate_names_name_both_plugins(tmp_path):
    source = PLUGIN.replace('name = "ring"', 'name = "primitive"')
    world = world_with(tmp_path, source, spawner="primitive")
    result = runner.invoke(app, ["validate", world])
    assert result.exit_code == 2
    assert (
        "spawner 'primitive' is registered twice: by plugin 'primitives' and by plugin 'rings'"
        in one_line(result.output)
    )


def test_import_error_names_the_file(tmp_path):
    world = world_with(tmp_path, "import not_a_module_anywhere\n")
    result = runner.invoke(app, ["validate", world])
    assert result.exit_code == 2
    assert re.search(
        r"plugin file .*rings\.py failed to import: ModuleNotFoundError", one_line(result.output)
    )


def test_exception_mid_frame_names_plugin_hook_frame_and_seed(tmp_path):
    source = PLUGIN.replace(
        "        return Entity(",
        "        if ctx.frame == 1:\n            raise RuntimeError('bent')\n"
        "        return Entity(",
    )
    world = world_with(tmp_path, source)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", world, "--out", str(out)])
    assert result.exit_code == 1
    assert re.search(
        r"spawner 'ring' \(type 'ring' from plugin 'rings'\) raised RuntimeError: bent "
        r"in spawn\(\) at frame 1 \(seed 0\); re-render that frame alone with: "
        r"sim run .*world\.toml --start 1 --frames 1",
        one_line(result.output),
    )
    assert not (out / "images" / "000001.jpg").exists(), "nothing of the failed frame is written"


def test_disabling_a_plugin_removes_its_components(tmp_path):
    host = PluginHost(disable=["lighting"])
    assert "light" not in host.randomizers and "color" in host.randomizers
    with pytest.raises(
        PluginError, match=r"cannot disable plugin 'lightning'.*did you mean 'lighting'"
    ):
        PluginHost(disable=["lightning"])


def test_bundled_plugins_register_every_component():
    host = PluginHost(entry_points=False)
    assert host.spawners.names() == ["model", "model_folder", "pipe", "primitive"]
    assert host.randomizers.names() == [
        "background",
        "background_image",
        "background_texture",
        "blur",
        "camera_lens",
        "camera_motion",
        "camera_orbit",
        "color",
        "color_jitter",
        "environment",
        "film",
        "grid",
        "jpeg_artifacts",
        "light",
        "lights",
        "material",
        "position",
        "rotation",
        "scale",
        "scatter",
        "sensor_noise",
        "settle",
        "sky",
        "studio",
        "surface_material",
        "texture",
        "throw",
    ]
    assert host.writers.names() == [
        "bop",
        "coco",
        "kitti",
        "mot",
        "native",
        "pointcloud",
        "vis",
        "voc",
        "yolo",
    ]


def test_undeclared_category_is_reported(tmp_path):
    source = PLUGIN.replace(
        "return Entity(meshes.torus(),", "return Entity(meshes.torus(), 'donut',"
    )
    source = source.replace(
        '    name = "ring"',
        '    name = "ring"\n\n    def categories(self):\n        return ["ring"]',
    )
    world = load_world(world_with(tmp_path, source, extra='category = ""'))
    with pytest.raises(PluginError, match="gave an entity the category 'donut'"):
        Pipeline(world, host_for(world)).build_scene(0)


def test_installed_packages_are_found_through_the_sim_entry_point_group(tmp_path, monkeypatch):
    """A real distribution on sys.path (a dist-info with entry_points.txt), as pip installs it."""
    package = tmp_path / "sim_rings"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    info = tmp_path / "sim_rings-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sim-rings\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[sim]\nrings = sim_rings\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    host = PluginHost()
    assert host.spawners.get("ring").plugin == "rings"
    assert "rings" in host.plugin_names()


def test_entry_point_that_fails_to_import_is_named(tmp_path, monkeypatch):
    info = tmp_path / "sim_broken-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sim-broken\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[sim]\nbroken = sim_broken_missing_module\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        PluginError,
        match=r"plugin 'broken' \(entry point sim_broken_missing_module\) "
        r"failed to import: ModuleNotFoundError",
    ):
        PluginHost()


def test_bundled_plugins_use_only_the_public_api():
    """plugins/ is written as a third party would: `simulator` or the submodules it exports."""
    import ast
    from pathlib import Path

    import simulator

    public = {"simulator", *(f"simulator.{n}" for n in simulator.__all__)}
    for path in sorted((Path(__file__).parent.parent / "plugins").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simulator"):
                assert node.module in public, f"{path.name} imports private {node.module}"
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("simulator"):
                        assert alias.name in public, f"{path.name} imports private {alias.name}"


RANDOMIZER_AND_WRITER = """
import csv
from pydantic import Field
from simulator import Params, Randomizer, Writer, hookimpl


class GrayParams(Params):
    level: float = Field(0.5, ge=0, le=1)


class Gray(Randomizer):
    name = "gray"
    Params = GrayParams

    def randomize(self, ctx, entities):
        for entity in entities:
            entity.color[:] = self.params.level


class BoxesCsv(Writer):
    name = "boxes_csv"

    def __init__(self, params, dataset):
        super().__init__(params, dataset)
        self._file = (dataset.root / "boxes.csv").open("w", newline="")
        self._rows = csv.writer(self._file)

    def write(self, frame):
        for obj in frame.objects:
            self._rows.writerow([frame.index, obj.category, *obj.bbox])

    def close(self):
        self._file.close()

    def abort(self):
        self._file.close()


@hookimpl
def sim_register_randomizers(register):
    register(Gray)


@hookimpl
def sim_register_writers(register):
    register(BoxesCsv)
"""


def test_a_local_plugin_adds_a_randomizer_and_a_writer(tmp_path):
    (tmp_path / "extras.py").write_text(RANDOMIZER_AND_WRITER)
    world = tmp_path / "world.toml"
    world.write_text(
        textwrap.dedent("""
        [world]
        frames = 2
        [camera]
        resolution = [64, 48]
        [[spawners]]
        type = "primitive"
        [[randomizers]]
        type = "gray"
        level = 0.25
        [output]
        writers = ["native", "boxes_csv"]
        [plugins]
        paths = ["extras.py"]
    """)
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(world), "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    rows = (out / "boxes.csv").read_text().splitlines()
    records = [json.loads(line) for line in (out / "frames.jsonl").read_text().splitlines()]
    assert rows == [
        f"{r['frame']},box,{','.join(map(str, o['bbox']))}" for r in records for o in r["objects"]
    ]
    assert all(e["color"] == [0.25, 0.25, 0.25] for r in records for e in r["scene"]["entities"])


TYPED = """
from pydantic import Field
from simulator import Entity, Params, Scalar, Spawner, Writer, hookimpl, meshes


class RingParams(Params):
    radius: Scalar = Field(0.5, description="Ring size.")


class Ring(Spawner[RingParams]):  # the type argument is the model: no `Params =` line
    name = "ring"

    def spawn(self, ctx):
        return Entity(meshes.torus(), scale=[self.params.radius.sample(ctx.rng)] * 3)


class BareRing(Spawner):  # no type argument: the model set by hand, as before
    name = "bare_ring"
    Params = RingParams

    def spawn(self, ctx):
        return Entity(meshes.torus(), scale=[self.params.radius.sample(ctx.rng)] * 3)


class StrictParams(Params):
    strict: bool = False


class Strict(Writer[StrictParams]):
    name = "strict"

    @classmethod
    def requires(cls, params):
        return {"visibility"} if params.strict else set()


@hookimpl
def sim_register_spawners(register):
    register(Ring)
    register(BareRing)


@hookimpl
def sim_register_writers(register):
    register(Strict)
"""


def typed_world(tmp_path, ring: str = "radius = 0.7", writer: str = "") -> str:
    extra = f'{ring}\n[[spawners]]\ntype = "bare_ring"\nradius = 0.3\n'
    extra += f'[output]\nlabels = []\nwriters = ["native", {{ type = "strict"{writer} }}]'
    return world_with(tmp_path, TYPED, extra=extra)


def test_a_typed_component_gets_its_model_from_the_type_argument(tmp_path):
    world = load_world(typed_world(tmp_path))
    host = host_for(world)
    ring, bare = host.spawners.get("ring").component, host.spawners.get("bare_ring").component
    assert ring.Params.__name__ == "RingParams" and bare.Params is ring.Params
    assert host.writers.get("strict").component.Params.__name__ == "StrictParams"
    pipeline = Pipeline(world, host)
    assert [type(b.params).__name__ for b in pipeline.spawners] == ["RingParams", "RingParams"]
    scene = pipeline.build_scene(0)
    assert [e.scale.tolist() for e in scene.entities] == [[0.7] * 3, [0.3] * 3]


def test_a_typed_components_parameters_are_validated_against_the_type_argument(tmp_path):
    result = runner.invoke(app, ["validate", typed_world(tmp_path, ring='radius = "big"')])
    assert result.exit_code == 2
    assert "spawners[0].radius: expected a constant" in one_line(result.output)
    result = runner.invoke(app, ["validate", typed_world(tmp_path, writer=", strict = true")])
    assert result.exit_code == 2
    assert "writer 'strict' needs the label(s) 'visibility'" in one_line(result.output)


def test_a_model_set_by_hand_must_agree_with_the_type_argument():
    from simulator import Params, Randomizer

    class Tilt(Params):
        degrees: float = 5.0

    class Other(Params):
        pass

    class Narrower(Tilt):
        pass

    class Agrees(Randomizer[Tilt]):
        Params = Narrower  # a subclass of the type argument is a Tilt too

    assert Agrees.Params is Narrower
    with pytest.raises(TypeError, match=r"Wrong\.Params is Other, which is not the Tilt"):

        class Wrong(Randomizer[Tilt]):
            Params = Other
