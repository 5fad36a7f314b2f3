"""Models from files (glTF, GLB, egg, bam) and Panda3D's bundled models."""

import json
from pathlib import Path

import numpy as np
import pytest
from gltf_writer import stretched_box, write_glb, write_gltf

from sim_plugins.models import BUNDLED
from simulator.engine.geometry import geom_node, load_model
from simulator.run.runner import RunOptions, run
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import ModelAsset
from simulator.world.load import load_world


def write_egg(mesh: TriangleMesh, path: Path) -> Path:
    vertices = "\n".join(
        f"  <Vertex> {i} {{ {x} {y} {z} <Normal> {{ {a} {b} {c} }} }}"
        for i, ((x, y, z), (a, b, c)) in enumerate(zip(mesh.vertices, mesh.normals, strict=True))
    )
    polygons = "\n".join(
        f"  <Polygon> {{ <VertexRef> {{ {i} {j} {k} <Ref> {{ pool }} }} }}"
        for i, j, k in mesh.triangles
    )
    path.write_text(
        f"<CoordinateSystem> {{ Z-up }}\n<VertexPool> pool {{\n{vertices}\n}}\n"
        f"<Group> part {{\n{polygons}\n}}\n"
    )
    return path


def write_bam(mesh: TriangleMesh, path: Path) -> Path:
    assert geom_node(mesh).write_bam_file(str(path))
    return path


WRITERS = {"gltf": write_gltf, "glb": write_glb, "egg": write_egg, "bam": write_bam}


@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_model_files_load_normalised_to_a_unit_longest_side(suffix, tmp_path):
    path = WRITERS[suffix](stretched_box(), tmp_path / f"part.{suffix}")
    low, high = load_model(ModelAsset(str(path))).get_tight_bounds()
    extent = sorted(np.array(high - low).round(4).tolist())
    assert extent == [0.25, 0.5, 1.0]
    assert np.allclose(np.array(low + high), 0, atol=1e-6)


@pytest.mark.parametrize("suffix", ["gltf", "glb"])
def test_gltf_y_up_becomes_z_up(suffix, tmp_path):
    """glTF is Y up: the box's 1-long glTF Y side must stand along the world's Z."""
    path = WRITERS[suffix](stretched_box(), tmp_path / f"part.{suffix}")
    low, high = load_model(ModelAsset(str(path))).get_tight_bounds()
    assert np.allclose(np.array(high - low), [1.0, 0.25, 0.5], atol=1e-4)


@pytest.mark.parametrize("suffix", sorted(WRITERS))
def test_a_world_spawns_a_model_file_and_labels_it(suffix, tmp_path):
    WRITERS[suffix](stretched_box(), tmp_path / f"bracket.{suffix}")
    world = tmp_path / "world.toml"
    world.write_text(f"""
[world]
frames = 1
[camera]
resolution = [96, 72]
position = [0, -4, 0]
target = [0, 0, 0]
[[spawners]]
type = "model"
path = "bracket.{suffix}"
normalize = true
size = 2
hpr = [20, 10, 0]
""")
    root = run(load_world(world), RunOptions(tmp_path / "out")).root
    record = json.loads((root / "frames.jsonl").read_text())
    assert [o["category"] for o in record["objects"]] == ["bracket"]
    assert record["objects"][0]["area"] > 200


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_models_load(name):
    low, high = load_model(ModelAsset(f"models/{name}")).get_tight_bounds()
    assert np.isclose(max(high - low), 1.0, atol=1e-4)


def test_a_sidecar_keypoint_file_labels_a_model_files_keypoints(tmp_path):
    from simulator import transforms

    # The glTF box is 2 x 1 x 0.5 in glTF axes (Y up): its top face is at glTF y = +0.5.
    write_glb(stretched_box(), tmp_path / "crate.glb")
    (tmp_path / "crate.keypoints.json").write_text(
        json.dumps(
            {
                "keypoints": {"top": [0.0, 0.5, 0.0], "end": [1.0, 0.0, 0.0]},
                "skeleton": [["top", "end"]],
            }
        )
    )
    world = tmp_path / "world.toml"
    world.write_text("""
[world]
frames = 1
[camera]
resolution = [128, 96]
position = [1, -4, 3]
target = [0, 0, 0]
[[spawners]]
type = "model"
path = "crate.glb"
normalize = true
size = 2
[output]
labels = ["keypoints"]
""")
    root = run(load_world(world), RunOptions(tmp_path / "out")).root
    record = json.loads((root / "frames.jsonl").read_text())
    keypoints = {k["name"]: k for k in record["objects"][0]["keypoints"]}
    camera = record["camera"]
    # The box's longest side is 2 and size = 2, so file units are metres; glTF +Y is world +Z.
    expected = {"top": [0.0, 0.0, 0.5], "end": [1.0, 0.0, 0.0]}
    for name, point in expected.items():
        uv = (
            transforms.project(
                np.array([point]), np.array(camera["K"]), np.array(camera["cam_to_world"])
            )[0, :2]
            + 0.5
        )
        assert (keypoints[name]["x"], keypoints[name]["y"]) == pytest.approx(tuple(uv), abs=1e-4)
    assert keypoints["top"]["v"] == 2
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["keypoints"] == {
        "crate": {"names": ["top", "end"], "skeleton": [["top", "end"]]}
    }


def test_a_broken_keypoint_file_is_a_clear_error(tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    write_glb(stretched_box(), tmp_path / "crate.glb")
    (tmp_path / "crate.keypoints.json").write_text('{"keypoints": {"top": [0, 1]}}')
    world = tmp_path / "world.toml"
    world.write_text('[[spawners]]\ntype = "model"\npath = "crate.glb"\n')
    result = CliRunner().invoke(app, ["validate", str(world)])
    assert result.exit_code == 2
    assert "crate.keypoints.json: each keypoint is [x, y, z]" in result.output.replace("\n", "")
