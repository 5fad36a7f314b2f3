"""Models from files (glTF, GLB, egg, bam) and Panda3D's bundled models."""

import json
from pathlib import Path

import numpy as np
import pytest
from gltf_writer import stretched_box, write_glb, write_gltf
from sim_plugins.models import BUNDLED

from simulator.engine.geometry import geom_node, load_model
from simulator.meshes import TriangleMesh
from simulator.runner import run
from simulator.scene import ModelAsset
from simulator.worldfile import load_world


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
size = 2
hpr = [20, 10, 0]
""")
    root = run(load_world(world), tmp_path / "out").root
    record = json.loads((root / "frames.jsonl").read_text())
    assert [o["category"] for o in record["objects"]] == ["bracket"]
    assert record["objects"][0]["area"] > 200


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_models_load(name):
    low, high = load_model(ModelAsset(f"models/{name}")).get_tight_bounds()
    assert np.isclose(max(high - low), 1.0, atol=1e-4)
