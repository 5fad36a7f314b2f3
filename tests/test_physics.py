"""settle: objects end on the ground, at rest, the same way every time."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

from sim_plugins import physics
from sim_plugins.collision import CACHE
from sim_plugins.physics import STEP, SettleParams, physics_scale, simulate
from simulator import Entity, TriangleMesh, meshes, transforms
from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import parse_world

PARAMS = SettleParams()  # the same physical settings as the settle randomizer's defaults

WORLD = """
[world]
seed = {seed}
[[spawners]]
type = "primitive"
shape = {{ choice = ["box", "sphere", "cylinder", "cone", "torus"] }}
count = 6
size = {{ uniform = [0.3, 0.6] }}
[[randomizers]]
type = "rotation"
uniform_3d = true
[[randomizers]]
type = "scatter"
low = [-1.5, -1.5, 0.4]
high = [1.5, 1.5, 1.2]
[[randomizers]]
type = "settle"
surface = {surface}
"""


def settled_scenes(surface=0.0, seeds=range(2), frames=range(5)):
    for seed in seeds:
        world = parse_world(WORLD.format(seed=seed, surface=surface))
        pipeline = Pipeline(world, host_for(world))
        for frame in frames:
            yield pipeline.build_scene(frame)


def lowest(entity) -> float:
    return float(transforms.transform_points(entity.matrix(), entity.mesh.vertices)[:, 2].min())


def test_objects_end_on_the_ground():
    for scene in settled_scenes(surface=0.2):
        for entity in scene.entities:
            # The ground plane, within Bullet's 1 mm collision margin.
            assert 0.2 - 1e-3 <= lowest(entity) <= 0.2 + 3e-3, entity.record()


def test_settled_objects_do_not_move_in_further_steps():
    checked = 0
    for seed in range(2):
        world = parse_world(
            WORLD.format(seed=seed, surface=0.0).replace(
                '[[randomizers]]\ntype = "settle"\nsurface = 0.0\n', ""
            )
        )
        pipeline = Pipeline(world, host_for(world))
        for frame in range(5):
            entities = pipeline.build_scene(frame).entities
            bullet, bodies, settled = simulate(entities, PARAMS)
            if not settled:
                continue
            rest = [np.array(node.get_pos()) for _, node in bodies]
            for _ in range(240):  # one more second
                bullet.do_physics(STEP, 1, STEP)
            moved = max(
                np.linalg.norm(np.array(n.get_pos()) - r)
                for (_, n), r in zip(bodies, rest, strict=True)
            )
            assert moved < 2e-3
            checked += 1
    assert checked >= 5, "most frames settle within the time limit"


def test_settling_is_deterministic():
    first = [[e.record() for e in s.entities] for s in settled_scenes(seeds=[1], frames=[2, 3])]
    again = [[e.record() for e in s.entities] for s in settled_scenes(seeds=[1], frames=[2, 3])]
    assert first == again


# --- collision shapes from the real geometry ------------------------------------------------


def bowl_mesh() -> TriangleMesh:
    """A hemispherical shell, 1 m across, 5 cm thick, open at the top (z = 0), closed solid."""
    angle = np.linspace(0, np.pi / 2, 12)
    outer = np.c_[0.5 * np.sin(angle), -0.5 * np.cos(angle)]
    inner = np.c_[0.45 * np.sin(angle[::-1]), -0.45 * np.cos(angle[::-1])]
    solid = trimesh.creation.revolve(np.vstack([outer, inner]), sections=32)
    return TriangleMesh(solid.vertices, solid.vertex_normals, solid.faces)


def bowl_and_ball(shape: str):
    bowl = Entity(bowl_mesh(), position=np.array([0.0, 0.0, 0.5]), instance_id=1)  # rim z=0.5
    ball = Entity(meshes.sphere(), position=np.array([0.05, 0.0, 1.2]), instance_id=2)
    ball.scale[:] = 0.3
    # A ball rolling round a bowl takes a while to stop: more than the default 4 s.
    params = SettleParams(shape=shape, resolution=20_000, drop=0.0, max_seconds=12.0)
    _, bodies, settled = simulate([bowl, ball], params)
    (_, bowl_node), (_, ball_node) = bodies
    return np.array(ball_node.get_pos(bowl_node)), settled  # the ball in the bowl's frame


def test_a_ball_comes_to_rest_inside_a_decomposed_bowl(tmp_path, monkeypatch):
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path))
    ball, settled = bowl_and_ball("auto")  # auto: the bowl fills 27 % of its hull
    assert settled
    assert inside(ball)
    # With the plain hull the bowl is a solid dome: the ball rolls off it.
    ball, _ = bowl_and_ball("hull")
    assert not inside(ball)


def inside(ball: np.ndarray) -> bool:
    """The ball's centre (in the bowl's frame, origin at the centre of the rim) below the rim
    and within the inner wall, less the ball's radius."""
    return bool(ball[2] < 0 and np.linalg.norm(ball) <= 0.45 - 0.15 + 2e-3)


def test_decompositions_are_kept_on_disk_for_the_next_run(tmp_path):
    script = (
        "import sys; sys.path.insert(0, 'tests'); from test_physics import bowl_mesh\n"
        "from sim_plugins import decomposition as d\n"
        "parts = d.convex_parts(bowl_mesh(), 16, 20_000)\n"
        "print(d.runs, len(parts), sum(len(p) for p in parts))\n"
    )
    env = {**os.environ, "SIM_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    runs, parts, points = first.stdout.split()
    assert runs == "1" and int(parts) > 4, first.stderr
    assert again.stdout.split() == ["0", parts, points]  # read back, the same parts
    assert len(list((tmp_path / "collision").glob("*.npz"))) == 1
    # Other parameters are another key: computed anew.
    other = script.replace("16, 20_000", "8, 20_000")
    third = subprocess.run([sys.executable, "-c", other], env=env, capture_output=True, text=True)
    assert third.stdout.split()[0] == "1"


def test_a_slow_decomposition_is_reported_with_its_time_and_cache(tmp_path):
    script = (
        "import sys; sys.path.insert(0, 'tests'); from test_physics import bowl_mesh\n"
        "from sim_plugins import decomposition as d\n"
        "d.SLOW = 0.0\n"
        "d.convex_parts(bowl_mesh(), 16, 20_000)\n"
        "d.convex_parts(bowl_mesh(), 16, 20_000)\n"
    )
    env = {**os.environ, "SIM_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    lines = [line for line in first.stderr.splitlines() if line.startswith("note: decomposed")]
    assert len(lines) == 1, first.stderr  # computed once; the second call is from memory
    assert re.search(r"triangles\) into \d+ convex parts in \d+\.\d s; cached in ", lines[0])
    assert str(tmp_path / "collision") in lines[0]
    again = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert "note: decomposed" not in again.stderr  # read back from disk: nothing to report


def test_an_open_mesh_is_refused_by_decomposition_and_hull_for_auto():
    open_bowl = trimesh.creation.revolve(np.c_[np.linspace(0, 0.5, 8), np.linspace(0, 0.5, 8)])
    mesh = TriangleMesh(open_bowl.vertices, open_bowl.vertex_normals, open_bowl.faces)
    entity = Entity(mesh, instance_id=1)
    with pytest.raises(ValueError, match=r"not closed \(watertight\).*shape = \"hull\""):
        simulate([entity], SettleParams(shape="decomposition"))
    assert CACHE.collider(entity, SettleParams(shape="auto").spec()).kind == "hull"


def test_mass_is_density_times_the_volume():
    box = Entity(meshes.box(), instance_id=1)
    box.scale[:] = [0.5, 0.2, 0.1]
    bowl = Entity(bowl_mesh(), instance_id=2)
    _, bodies, _ = simulate([box, bowl], SettleParams(density=800.0, max_seconds=0.1))
    expected = [
        800.0
        * trimesh.Trimesh(
            meshes.box().vertices * [0.5, 0.2, 0.1], meshes.box().triangles
        ).convex_hull.volume,
        800.0
        * trimesh.creation.revolve(
            np.vstack(
                [
                    np.c_[0.5 * np.sin(a := np.linspace(0, np.pi / 2, 12)), -0.5 * np.cos(a)],
                    np.c_[0.45 * np.sin(a[::-1]), -0.45 * np.cos(a[::-1])],
                ]
            ),
            sections=32,
        ).volume,
    ]
    masses = [node.node().get_mass() for _, node in bodies]
    assert masses == pytest.approx(expected, rel=1e-5)
    assert masses[0] == pytest.approx(800.0 * 0.01, rel=1e-5)


def test_the_shape_cache_is_hit_on_the_second_frame():
    world = parse_world(
        '[world]\nseed = 3\n[[spawners]]\ntype = "primitive"\nshape = "cone"\ncount = 3\n'
        'size = 0.5\n[[randomizers]]\ntype = "scatter"\nlow = [-2, -2, 0.5]\nhigh = [2, 2, 1]\n'
        '[[randomizers]]\ntype = "settle"\n'
    )
    pipeline = Pipeline(world, host_for(world))
    pipeline.build_scene(0)
    builds, hits = CACHE.builds, CACHE.hits
    pipeline.build_scene(1)
    assert CACHE.builds == builds  # the same cone at the same size: nothing built
    assert CACHE.hits == hits + 3


# --- small objects: millimetre parts, the physics scale, the bin's floor ---------------------

PARTS = Path(__file__).resolve().parent.parent / "worlds" / "parts"


def part(name: str, position, hpr, instance_id: int = 1) -> Entity:
    """A part of worlds/parts at its real size (the files are in millimetres)."""
    solid = trimesh.load(PARTS / "models" / name, force="mesh")
    mesh = TriangleMesh(solid.vertices * 1e-3, solid.vertex_normals, solid.faces)
    return Entity(mesh, position=np.array(position, float), hpr=np.array(hpr, float),
                  instance_id=instance_id)  # fmt: skip


DROPS = [  # (part, orientation): tilted, so each must tip onto a face (none so steep that
    # the outcome depends on the step: a washer at 30 degrees slides 2 to 10 mm by the step)
    ("nut.ply", [10, 25, 10]),
    ("washer.off", [40, -12, 5]),
    ("spacer.stl", [0, 70, 20]),
    ("bolt.stl", [30, 80, 5]),
    ("elbow.obj", [60, 20, 100]),
]


def drop_alone(name, hpr, params, fine=False, monkeypatch=None):
    entity = part(name, [0.01, -0.02, 0.03], hpr)
    if fine:  # the reference: steps ten times shorter, rest only when still to 1 mm/s
        monkeypatch.setattr(physics, "STEP", STEP / 10)
        monkeypatch.setattr(physics, "CHECK", physics.CHECK * 10)
        params = params.model_copy(update={"max_seconds": 10.0, "rest_speed": 1e-3})
    _, ((_, node),), settled = simulate([entity], params)
    k = physics_scale([entity])
    rested = Entity(entity.mesh, position=np.array(node.get_pos()) / k,
                    hpr=np.array(node.get_hpr()), instance_id=1)  # fmt: skip
    if fine:
        monkeypatch.undo()
    return rested, settled


def up_axis(entity) -> np.ndarray:
    """Where the part's own z axis points, after settling."""
    return transforms.hpr_matrix(entity.hpr)[:, 2]


def test_millimetre_parts_rest_on_a_plane_within_3_s_where_a_fine_run_rests(monkeypatch):
    params = SettleParams(density=7800, drop=0.0, max_seconds=3.0)
    for name, hpr in DROPS:
        rested, settled = drop_alone(name, hpr, params)
        reference, reference_settled = drop_alone(name, hpr, params, True, monkeypatch)
        assert settled and reference_settled, name
        extent = np.ptp(rested.mesh.vertices, axis=0)
        # On the plane, not in it: within the margin, a 50th of the smallest extent.
        assert -1e-5 <= lowest(rested) <= extent.min() / 50 + 1e-5, name
        # The same face down and within a fifth of its size of where the fine run ends (how
        # far a part slides after it lands varies with the step: measured 0.1 to 4.8 mm, the
        # bolt's 4.8 of its 45 mm).
        assert abs(up_axis(rested) @ up_axis(reference)) > np.cos(np.radians(15)), name
        assert np.linalg.norm(rested.position - reference.position) < extent.max() / 5, name


def test_a_scaled_drop_is_the_same_drop():
    # A 2 cm cube is simulated 9x larger (3^2: 3 x 3 x 2 cm reaches 10 cm); falling freely for
    # 0.3 s (no damping, nothing below), it falls g t^2 / 2 as in life, to within the
    # integration step's error.
    cube = Entity(meshes.box(), position=np.array([0.1, 0.2, 3.0]), instance_id=1)
    cube.scale[:] = 0.02
    assert physics_scale([cube]) == 9.0
    params = SettleParams(surface=None, drop=0.0, damping=0.0, max_seconds=0.3)
    _, ((_, node),), _ = simulate([cube], params)
    fallen = 3.0 - node.get_pos()[2] / 9.0
    assert fallen == pytest.approx(9.81 * 0.3**2 / 2, abs=9.81 * 0.3 * STEP)
    assert node.get_pos()[0] / 9.0 == pytest.approx(0.1, abs=1e-6)


def test_parts_resting_on_the_bin_floor_do_not_sink_into_it():
    tote_solid = trimesh.load(PARTS / "tote.ply", force="mesh")
    tote = Entity(
        TriangleMesh(tote_solid.vertices * 1e-3, tote_solid.vertex_normals, tote_solid.faces),
        instance_id=9,
    )
    floor = 0.004  # the tote's floor is 4 mm thick, standing on z = 0
    parts = [part(n, [0.06 * i - 0.12, 0.02 * (i % 2), 0.03], h, i + 1)
             for i, (n, h) in enumerate(DROPS)]  # fmt: skip
    params = SettleParams(surface=None, density=7800, drop=0.0)
    _, bodies, settled = simulate(parts, params, [tote])
    k = physics_scale(parts)
    assert CACHE.collider(tote, params.spec(), static=True, factor=k).kind == "slabs"
    assert settled
    for entity, node in bodies:
        rested = Entity(entity.mesh, position=np.array(node.get_pos()) / k,
                        hpr=np.array(node.get_hpr()), instance_id=1)  # fmt: skip
        # No deeper than 0.05 mm into the floor, no higher than the part's margin above it.
        margin = np.ptp(entity.mesh.vertices, axis=0).min() / 50
        assert floor - 5e-5 <= lowest(rested) <= floor + margin + 5e-5, entity.mesh
