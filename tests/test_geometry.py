"""Meshes and transforms, checked against independent math and Panda3D's own conventions."""

import numpy as np
import pytest
from panda3d.core import LVecBase3f, TransformState

from simulator import meshes, transforms


@pytest.mark.parametrize("name", sorted(meshes.PRIMITIVES))
def test_primitive_normals_point_out_and_agree_with_winding(name):
    mesh = meshes.PRIMITIVES[name]()
    corners = mesh.vertices[mesh.triangles].astype(float)
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    assert np.all(np.linalg.norm(face, axis=1) > 0), "degenerate triangles"
    assert np.allclose(np.linalg.norm(mesh.normals, axis=1), 1, atol=1e-5)
    vertex_normals = mesh.normals[mesh.triangles].mean(axis=1)
    assert np.all(np.einsum("ij,ij->i", face, vertex_normals) > 0), "winding disagrees with normals"
    if name != "plane":  # closed solids: normals point away from the centre
        centroids = corners.mean(axis=1)
        if name == "torus":
            ring = centroids.copy()
            ring[:, 2] = 0
            centroids -= 0.35 * ring / np.linalg.norm(ring, axis=1, keepdims=True)
        assert np.all(np.einsum("ij,ij->i", centroids, vertex_normals) > 0)


@pytest.mark.parametrize("name", sorted(meshes.PRIMITIVES))
def test_primitives_fit_the_unit_cube(name):
    low, high = meshes.PRIMITIVES[name]().bounds()
    assert np.isclose(max(high - low), 1.0)
    assert np.allclose((low + high)[:2], 0)


@pytest.mark.parametrize("hpr", [(30, 0, 0), (0, 40, 0), (0, 0, 50), (-120, 70, -20)])
def test_hpr_matches_panda3d(hpr):
    panda = TransformState.make_hpr(LVecBase3f(*hpr)).get_mat()
    # Panda3D multiplies row vectors: its matrix is the transpose of ours.
    ours = np.array([[panda.get_cell(j, i) for j in range(3)] for i in range(3)])
    assert np.allclose(ours, transforms.hpr_matrix(hpr), atol=1e-6)
    assert np.allclose(transforms.hpr_matrix(transforms.matrix_hpr(ours)), ours, atol=1e-6)


def test_look_at_is_a_right_handed_rotation_facing_the_target():
    m = transforms.look_at([3, -4, 2], [0, 0, 0.5])
    rotation = m[:3, :3]
    assert np.allclose(rotation.T @ rotation, np.eye(3))
    assert np.isclose(np.linalg.det(rotation), 1)
    forward = np.array([0, 0, 0.5]) - np.array([3, -4, 2])
    assert np.allclose(rotation[:, 2], forward / np.linalg.norm(forward))
    assert rotation[2, 1] < 0, "image y (down) must point down in the world"


def test_projecting_the_target_hits_the_principal_point():
    K = transforms.intrinsics(640, 480, 60)
    uv = transforms.project(np.array([[0, 0, 0.5]]), K, transforms.look_at([3, -4, 2], [0, 0, 0.5]))
    assert np.allclose(uv[0, :2], [319.5, 239.5])
    assert np.isclose(K[0, 0], 320 / np.tan(np.radians(30)))


def test_random_rotations_are_rotations():
    generator = np.random.default_rng(3)
    for _ in range(20):
        r = transforms.random_rotation(generator)
        assert np.allclose(r.T @ r, np.eye(3)) and np.isclose(np.linalg.det(r), 1)
