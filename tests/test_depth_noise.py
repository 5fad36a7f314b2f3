"""The depth_noise labeler: a noisy depth map beside the exact one, whose statistics over a
flat floor seen head on at known heights follow the model's formulas (Nguyen et al.'s axial
sigma, Kinect-style disparity steps), with holes at depth edges and grazing surfaces."""

import json

import numpy as np
import pytest

from simulator.capture.frame import Renderer
from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 11
frames = 2
[camera]
resolution = [160, 120]
fov = 60
position = [{x}, 0, {height}]
target = [0, 0, 0]
[output]
labels = ["boxes", "depth", "normals"]
depth_format = "npy"
writers = ["native"]
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
size = 40
{box}
[[labelers]]
type = "depth_noise"
{params}
"""
BOX = '[[spawners]]\ntype = "primitive"\nname = "box"\nshape = "box"\nposition = [0, 0, 0.5]'
QUIET = "lateral = 0\nsubpixel = 0\nmax_angle = 90\nrange = [0.01, 100]"


def _frame(height=2.0, params="", box="", x=0.0, index=0):
    world = parse_world(WORLD.format(height=height, params=params, box=box, x=x))
    renderer = Renderer(world)
    try:
        return renderer.frame(index)
    finally:
        renderer.close()


@pytest.mark.parametrize("height", [1.0, 2.5, 4.0])
def test_axial_noise_has_the_models_sigma_at_each_distance(height):
    frame = _frame(height, QUIET + "\naxial_base = 0.0012\naxial_quadratic = 0.0019")
    clean, noisy = frame.passes.depth, frame.maps["depth_noisy"]
    assert noisy.dtype == np.float32 and noisy.shape == (120, 160)
    assert np.allclose(clean, height, atol=1e-5)  # the floor fills the frame, head on
    error = noisy.astype(np.float64) - clean
    sigma = 0.0012 + 0.0019 * (height - 0.4) ** 2
    n = error.size
    assert abs(error.mean()) < 4 * sigma / np.sqrt(n)
    assert error.std() == pytest.approx(sigma, rel=4 / np.sqrt(2 * n))
    # Gaussian: 68.3 % within one sigma
    assert (np.abs(error) < sigma).mean() == pytest.approx(0.6827, abs=0.015)


@pytest.mark.parametrize("height", [1.0, 3.0])
def test_depth_is_quantised_in_disparity_steps(height):
    frame = _frame(height, "lateral = 0\naxial_base = 0\naxial_quadratic = 0\nsubpixel = 8")
    clean, noisy = frame.passes.depth.astype(np.float64), frame.maps["depth_noisy"]
    f = 80 / np.tan(np.radians(30))  # K[0][0] at 160 px wide, fov 60
    steps = 0.075 * f * 8 / noisy.astype(np.float64)
    assert np.abs(steps - np.rint(steps)).max() < 1e-3 * steps.max() / 100
    # the nearest step: at most half a step's depth away, z^2 / (2 b f 8)
    assert np.abs(noisy - clean).max() <= clean.max() ** 2 / (2 * 0.075 * f * 8) * 1.001
    assert len(np.unique(noisy)) <= 2  # a flat floor head on: one or two steps


def test_holes_at_depth_edges_and_grazing_surfaces_and_the_clean_depth_kept():
    params = "lateral = 0\nedge_jump = 0.4\nmax_angle = 70\nrange = [0.01, 100]"
    frame = _frame(2.5, params, BOX, x=4.0)  # looking at the floor 58 degrees off head on
    clean, noisy, normal = frame.passes.depth, frame.maps["depth_noisy"], frame.passes.normal
    plain = _frame(2.5, params, BOX, x=4.0)
    assert clean.tobytes() == plain.passes.depth.tobytes()  # deterministic, clean untouched
    assert noisy.tobytes() == plain.maps["depth_noisy"].tobytes()
    # edges, computed here: a 4-neighbour more than 40 cm nearer or farther
    z = clean.astype(np.float64)
    edge = np.zeros(z.shape, bool)
    for dz, a, b in (
        (np.abs(z[1:] - z[:-1]), np.s_[1:], np.s_[:-1]),
        (np.abs(z[:, 1:] - z[:, :-1]), np.s_[:, 1:], np.s_[:, :-1]),
    ):
        edge[a] |= dz > 0.4
        edge[b] |= dz > 0.4
    assert edge.sum() > 50  # the box's outline
    # grazing, computed here from the normal pass and the rays through K
    K = frame.scene.camera.K
    v, u = np.mgrid[0:120, 0:160]
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones(u.shape)], -1)
    cosine = np.abs((rays * normal).sum(-1)) / np.linalg.norm(rays, axis=-1)
    grazing = cosine < np.cos(np.radians(70))
    assert grazing.sum() > 500  # the far floor, seen nearly edge on
    assert (grazing & ~edge).sum() > 100
    assert ((noisy == 0) == (edge | grazing)).all()


def test_the_noisy_map_is_written_beside_the_depth_and_differs_per_frame(tmp_path):
    world = parse_world(WORLD.format(height=2.0, params="", box=BOX, x=0.0))
    root = run(world, RunOptions(tmp_path / "out")).root
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    maps = []
    for record in records:
        name = f"{record['frame']:06d}"
        assert record["files"]["depth_noisy"] == f"depth_noisy/{name}.npy"
        noisy = np.load(root / record["files"]["depth_noisy"])
        depth = np.load(root / record["files"]["depth"])
        assert noisy.dtype == np.float32 and noisy.shape == depth.shape
        hit = noisy > 0
        assert hit.mean() > 0.9
        # lateral jitter moves the box's edges: most pixels are near their clean depth
        assert (np.abs(noisy[hit] - depth[hit]) < 0.05).mean() > 0.97
        maps.append(noisy)
    assert not np.array_equal(maps[0], maps[1])  # fresh draws per frame, the same scene


def test_depth_noise_names_what_it_needs():
    world = parse_world(
        WORLD.format(height=2.0, params="", box="", x=0.0).replace('"normals"', '"masks"')
    )
    renderer = Renderer(world)
    try:
        with pytest.raises(Exception, match=r'add "normals" to \[output\] labels'):
            renderer.frame(0)
    finally:
        renderer.close()
    with pytest.raises(WorldError, match="a folder sim writes already"):
        Renderer(parse_world(WORLD.format(height=2.0, params='output = "depth"', box="", x=0.0)))


def test_each_camera_of_a_rig_gets_its_own_noise():
    rig = "\n[camera.rig]\nbaseline = 0.1\n" + BOX
    world = parse_world(WORLD.format(height=2.0, params="", box=rig, x=0.0))
    renderer = Renderer(world)
    try:
        frame = renderer.frame(0)
    finally:
        renderer.close()
    left, right = frame.maps["depth_noisy"], frame.views["right"].maps["depth_noisy"]
    # the floor: the same clean depth in both, different draws
    both = (frame.passes.depth == 2.0) & (frame.views["right"].passes.depth == 2.0)
    both &= (left > 0) & (right > 0)
    assert both.sum() > 5000
    assert (left[both] != right[both]).mean() > 0.3
    assert left.tobytes() == _frame(2.0, "", BOX).maps["depth_noisy"].tobytes()
