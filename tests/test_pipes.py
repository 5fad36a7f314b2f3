"""The procedural tobacco pipe: a closed, outward-facing mesh with keypoints, and a world."""

import json

import numpy as np
import pytest

from sim_plugins.pipe_mesh import PipeShape, pipe
from sim_plugins.pipes import Pipe
from simulator.run.runner import RunOptions, run
from simulator.testing import check_spawner
from simulator.world.load import load_world

SHAPES = [
    PipeShape(),
    PipeShape(bowl_height=0.5, bowl_radius=0.2, stem_length=0.6, bend=45),
    PipeShape(bowl_height=0.34, bowl_radius=0.13, shank_length=0.15, bend=0),
]


@pytest.mark.parametrize("shape", SHAPES)
def test_the_mesh_faces_outward_and_fits_the_unit_cube(shape):
    mesh = pipe(shape)
    corners = mesh.vertices[mesh.triangles].astype(float)
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    volume = np.einsum("ij,ij->i", corners[:, 0], np.cross(corners[:, 1], corners[:, 2])).sum() / 6
    assert volume > 0, "outward winding encloses a positive volume"
    real = np.linalg.norm(face, axis=1) > 1e-12
    agree = np.einsum("ij,ij->i", face[real], mesh.normals[mesh.triangles].mean(axis=1)[real]) > 0
    assert agree.mean() > 0.99
    low, high = mesh.bounds()
    assert np.isclose(max(high - low), 1.0)
    bowl, heel, tip = (mesh.keypoints[k] for k in ("bowl", "heel", "mouthpiece"))
    assert bowl[2] > heel[2] and tip[0] > bowl[0], "the bowl stands up, the stem goes +x"


def test_the_pipe_spawner_passes_the_plugin_checks():
    report = check_spawner(Pipe)
    assert report.random and report.categories == ["pipe"]


def test_the_pipes_world_labels_pipes_with_keypoints(tmp_path):
    root = run(load_world("worlds/pipes.toml"), RunOptions(tmp_path / "out", frames=3)).root
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    objects = [o for r in records for o in r["objects"]]
    assert objects and {o["category"] for o in objects} == {"pipe"}
    assert all(
        [k["name"] for k in o["keypoints"]] == ["bowl", "heel", "mouthpiece"] for o in objects
    )
    assert any(k["v"] == 2 for o in objects for k in o["keypoints"])
    coco = json.loads((root / "annotations" / "instances.json").read_text())
    assert coco["categories"][0]["skeleton"] == [[1, 2], [2, 3]]
    assert all(
        e["attributes"]["settled"] in (True, False)
        for r in records
        for e in r["scene"]["entities"]
        if e["source"] != "table"
    )
