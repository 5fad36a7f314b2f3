"""Tests of sim-pipes-lite: sim's plugin checks, the mesh's geometry, the example world."""

import numpy as np
import pytest
from simulator.testing import check_randomizer, check_spawner

import sim_pipes_lite
from sim_pipes_lite import LitePipe, WoodTone, mesh

pytest_plugins = ["simulator.testing"]  # the sim_world fixture


def test_lite_pipe_passes_the_spawner_checks():
    report = check_spawner(LitePipe, {"bend": {"uniform": [10, 40]}}, frames=4)
    assert report.random and report.categories == ["lite_pipe"]


def test_wood_tone_passes_the_randomizer_checks():
    report = check_randomizer(WoodTone, {"lightness": {"uniform": [0.2, 0.4]}})
    colors = np.array([e.color for scene in report.scenes for e in scene.entities])
    assert np.all(colors[:, 0] >= colors[:, 1]) and np.all(colors[:, 1] >= colors[:, 2])


@pytest.mark.parametrize("bend", [0.0, 25.0, -10.0])
def test_triangles_face_their_normals_and_enclose_the_pipe(bend):
    pipe = mesh.pipe(0.12, 0.04, 0.02, bend)
    v, n = pipe.vertices.astype(float), pipe.normals.astype(float)
    a, b, c = (v[pipe.triangles[:, k]] for k in range(3))
    facing = np.cross(b - a, c - a)
    assert np.all(np.einsum("ij,ij->i", facing, n[pipe.triangles].sum(axis=1)) > 0)
    assert np.allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-6)
    volume = np.einsum("ij,ij->i", a, np.cross(b, c)).sum() / 6  # > 0: wound outwards
    assert 2e-5 < volume < 1e-4


def test_pipes_with_the_same_rounded_dimensions_share_a_mesh():
    assert mesh.pipe(0.12, 0.04, 0.02, 10.0) is mesh.pipe(0.12, 0.04, 0.02, 10.0)
    assert mesh.pipe(0.12, 0.04, 0.02, 10.0).key != mesh.pipe(0.125, 0.04, 0.02, 10.0).key
    report = check_spawner(LitePipe, {"step": 0.02, "angle_step": 30}, frames=4, count=3)
    shapes = [entity.mesh for scene in report.scenes for entity in scene.entities]
    assert len({id(s) for s in shapes}) == len({s.key for s in shapes}) <= 4 * 1 * 2


def test_keypoints_sit_on_the_pipe():
    pipe = mesh.pipe(0.12, 0.04, 0.02, 0.0)
    assert np.allclose(pipe.keypoints["bowl"], [0, 0, 0.04])
    assert np.allclose(pipe.keypoints["mouthpiece"][[1, 2]], [0, 0.3 * 0.04])
    assert pipe.bounds()[1][0] == pytest.approx(pipe.keypoints["mouthpiece"][0], abs=1e-6)


def test_example_world_labels_keypoints(sim_world):
    dataset = sim_world("worlds/pipes.toml", sim_pipes_lite, frames=2, resolution=(160, 120))
    pipes = [o for o in dataset.objects if o["category"] == "lite_pipe"]
    assert pipes and all(len(o["keypoints"]) == 3 for o in pipes)
    assert any(k["v"] == 2 for o in pipes for k in o["keypoints"])
    assert dataset.coco["categories"][0]["keypoints"] == ["bowl", "heel", "mouthpiece"]
