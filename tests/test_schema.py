"""`sim schema`: a JSON Schema that accepts every bundled world and rejects broken ones."""

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from simulator.cli import app
from simulator.plugin.host import PluginHost
from simulator.plugin.schema import world_schema

ROOT = Path(__file__).parent.parent
WORLDS = sorted([*(ROOT / "worlds").glob("*.toml"), ROOT / "bench" / "world.toml"])


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    schema = world_schema(PluginHost(entry_points=False))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


@pytest.mark.parametrize("path", WORLDS, ids=lambda p: p.stem)
def test_every_bundled_world_validates(validator, path):
    errors = list(validator.iter_errors(tomllib.loads(path.read_text())))
    assert not errors, [e.message for e in errors]


BROKEN = {
    "unknown section": '[[spawner]]\ntype = "primitive"\n',
    "unknown spawner": '[[spawners]]\ntype = "primitve"\n',
    "unknown parameter": '[[spawners]]\ntype = "primitive"\nshpe = "box"\n',
    "bad shape": '[[spawners]]\ntype = "primitive"\nshape = "tourus"\n',
    "bad distribution": '[[spawners]]\ntype = "primitive"\nsize = { unifrom = [1, 2] }\n',
    "bad color": '[[randomizers]]\ntype = "background"\ncolor = "#12345"\n',
    "negative count": '[[spawners]]\ntype = "primitive"\ncount = -1\n',
    "bad label": '[output]\nlabels = ["dpeth"]\n',
    "unknown writer": '[output]\nwriters = ["yolo5"]\n',
    "writer parameter": '[output]\nwriters = [{ type = "yolo", task = "keypoints" }]\n',
    "zero resolution": "[camera]\nresolution = [0, 480]\n",
    "bad curve": '[[randomizers]]\ntype = "film"\nexposure = { keyframes = [[0, 1]], curve = "ease" }\n',
    "key time": '[[randomizers]]\ntype = "film"\nexposure = { keyframes = [[2, 1]] }\n',
    "key value": '[[randomizers]]\ntype = "film"\nexposure = { keyframes = [[0, "bright"]] }\n',
    "joined names": '[[randomizers]]\ntype = "film"\n'
    'tone = { keyframes = [[0, "clamp"], [1, "aces"]], curve = "linear" }\n',
    "unknown keyed name": '[[randomizers]]\ntype = "film"\ntone = { keyframes = [[0, "acs"]] }\n',
    "keyed switch": '[[randomizers]]\ntype = "light"\non = { keyframes = [[0, "off"]] }\n',
    "keyed count": '[[randomizers]]\ntype = "lights"\ncount = { keyframes = [[0, 1.5]] }\n',
}

KEYED = """
[clip]
frames = 4
[[randomizers]]
type = "film"
tone = { keyframes = [[0, { choice = ["clamp", "linear"] }], [0.5, "aces"]], curve = "step" }
[[randomizers]]
type = "light"
on = { keyframes = [[0, true], [0.5, false]] }
[[randomizers]]
type = "lights"
count = { keyframes = [[0, 1], [1, { range = [3, 5] }]], curve = "smooth" }
kind = { keyframes = [[0, "point"], [0.5, "spot"]] }
[[randomizers]]
type = "surface_material"
material = { keyframes = [[0, "marble"], [0.5, "fabric"]] }
"""


def test_keyed_names_switches_and_counts_validate(validator):
    errors = list(validator.iter_errors(tomllib.loads(KEYED)))
    assert not errors, [e.message for e in errors]


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_worlds_are_rejected(validator, case):
    assert list(validator.iter_errors(tomllib.loads(BROKEN[case]))), case


def test_a_local_plugins_parameters_are_in_the_schema(tmp_path):
    (tmp_path / "rings.py").write_text(
        "from pydantic import Field\n"
        "from simulator import Entity, Params, Scalar, Spawner, hookimpl, meshes\n\n\n"
        "class RingParams(Params):\n"
        "    radius: Scalar = Field(0.5, description='Ring size.')\n\n\n"
        "class Ring(Spawner):\n"
        "    name = 'ring'\n    Params = RingParams\n\n"
        "    def spawn(self, ctx):\n        return Entity(meshes.torus())\n\n\n"
        "@hookimpl\ndef sim_register_spawners(register):\n    register(Ring)\n"
    )
    result = CliRunner().invoke(app, ["schema", "--plugins-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    ring = next(
        v for v in schema["properties"]["spawners"]["items"]["oneOf"] if v["title"] == "ring"
    )
    assert ring["properties"]["radius"]["description"] == "Ring size."
    validator = jsonschema.Draft7Validator(schema)
    assert not list(validator.iter_errors({"spawners": [{"type": "ring", "radius": 0.3}]}))
    assert list(validator.iter_errors({"spawners": [{"type": "ring", "radius": "big"}]}))
