"""simulator.testing: the component checks pass on sim's own components and fail, with pinned
messages, on broken ones; the sim_world fixture renders worlds with in-memory plugins."""

import random
import re
import types

import numpy as np
import pytest

from simulator import (
    Entity,
    FrameContext,
    KeypointSchema,
    Params,
    Randomizer,
    Scalar,
    Spawner,
    hookimpl,
    meshes,
)
from simulator.plugin.host import PluginHost
from simulator.testing import check_randomizer, check_spawner
from simulator.testing.checks import check_mesh
from simulator.testing.subject import Subject

pytest_plugins = ["simulator.testing"]

BUNDLED = PluginHost(entry_points=False)


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("primitive", {}),
        ("primitive", {"shape": {"choice": ["box", "torus"]}, "size": {"uniform": [0.3, 0.6]}}),
        ("model", {"model": "teapot"}),
    ],
)
def test_bundled_spawners_pass(name, params):
    report = check_spawner(BUNDLED.spawners.get(name).component, params)
    assert len(report.scenes) == len(report.frames) == 3
    assert report.random == bool(params.get("shape"))
    assert all(frame.objects for frame in report.frames)


@pytest.mark.parametrize("name", BUNDLED.randomizers.names())
def test_bundled_randomizers_pass(name, tmp_path):
    params = None
    if name == "background_image":  # a randomizer that needs a parameter: its photos
        from PIL import Image

        for i, color in enumerate(("red", "green", "blue")):
            Image.new("RGB", (64, 48), color).save(tmp_path / f"photo{i}.png")
        params = {"folder": str(tmp_path)}
    if name == "environment":  # and its HDR maps
        import cv2

        for i in range(2):
            cv2.imwrite(str(tmp_path / f"map{i}.hdr"), np.full((8, 16, 3), 0.5 + i, np.float32))
        params = {"folder": str(tmp_path)}
    if name == "camera_lens":  # an ideal lens by default: give it coefficients to draw
        params = {"k1": {"uniform": [-0.1, -0.02]}}
    clip = {"frames": 3, "fps": 12} if name in ("throw", "camera_motion") else None
    report = check_randomizer(BUNDLED.randomizers.get(name).component, params, clip=clip)
    # settle draws nothing: it simulates physics from where the objects are; throw and
    # camera_motion draw nothing at their defaults (no velocity, spin, motion or shake).
    assert report.random == (name not in ("settle", "throw", "camera_motion"))
    assert report.categories == ["box", "sphere", "cone"]


# --------------------------------------------------------------------- broken components


class ScatterParams(Params):
    size: Scalar = 0.5


class GlobalScatter(Spawner):
    """Places boxes with numpy's global generator."""

    name = "global_scatter"
    Params = ScatterParams

    def spawn(self, ctx: FrameContext) -> Entity:
        return Entity(meshes.box(), position=np.random.uniform(-1, 1, 3))


class PythonScatter(GlobalScatter):
    name = "python_scatter"

    def spawn(self, ctx: FrameContext) -> Entity:
        return Entity(meshes.box(), position=[random.uniform(-1, 1), 0, 0])


class OwnGenerator(GlobalScatter):
    """Samples its parameters from a generator of its own, the same every frame."""

    name = "own_generator"

    def spawn(self, ctx: FrameContext) -> Entity:
        size = self.params.size.sample(np.random.default_rng(0))
        return Entity(meshes.box(), scale=[size] * 3)


class Mislabeled(Spawner):
    name = "mislabeled"

    def spawn(self, ctx: FrameContext) -> Entity:
        return Entity(meshes.box(), category="crate")


class NoKeypoints(Spawner):
    name = "no_keypoints"

    def keypoints(self) -> dict[str, KeypointSchema]:
        return {self.name: KeypointSchema(("top", "bottom"))}

    def spawn(self, ctx: FrameContext) -> Entity:
        return Entity(meshes.box(), keypoints={"top": np.array([0, 0, 0.5])})


class FaceDown(Spawner):
    """A floor tile wound clockwise seen from above: culled, so never seen from above."""

    name = "face_down"

    def spawn(self, ctx: FrameContext) -> Entity:
        tile = meshes.plane()
        return Entity(meshes.TriangleMesh(tile.vertices, -tile.normals, tile.triangles[:, ::-1]))


class Turntable(Spawner):
    """No randomness, but turns with the frame index: allowed."""

    name = "turntable"

    def spawn(self, ctx: FrameContext) -> Entity:
        return Entity(meshes.cone(), hpr=[30.0 * ctx.frame, 0, 0])


class Drift(Randomizer):
    """Moves objects further every call: state kept between frames."""

    name = "drift"

    def __init__(self, params: Params) -> None:
        super().__init__(params)
        self.offset = 0.0

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        self.offset += 0.1
        for entity in entities:
            entity.position = entity.position + np.array([self.offset, 0, 0])


class FirstFrameBase(Randomizer):
    """Draws a base height once, in whatever frame comes first: state leaks between frames."""

    name = "first_frame_base"

    def __init__(self, params: Params) -> None:
        super().__init__(params)
        self.base: float | None = None

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        if self.base is None:
            self.base = float(ctx.rng.uniform(0, 1))
        for entity in entities:
            entity.position = entity.position + np.array([0, 0, self.base])


class Relabel(Randomizer):
    name = "relabel"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        entities[1].category = "mystery"


class Exploder(Randomizer):
    name = "exploder"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        entities[0].position = np.array([np.inf, 0, 0])


def message(error: pytest.ExceptionInfo[AssertionError]) -> str:
    return str(error.value)


def test_global_numpy_random_state_fails():
    with pytest.raises(AssertionError) as error:
        check_spawner(GlobalScatter)
    assert message(error) == (
        "spawner GlobalScatter ('global_scatter'): draws from numpy's (np.random) global random state while building frame 0; draw only from ctx.rng, so that every frame is reproducible"
    )


def test_global_python_random_state_fails():
    with pytest.raises(AssertionError, match=r"draws from Python's \(random\) global random state"):
        check_spawner(PythonScatter)


def test_undeclared_category_fails():
    with pytest.raises(AssertionError) as error:
        check_spawner(Mislabeled)
    assert message(error) == (
        "spawner Mislabeled ('mislabeled'): building frame 0 failed: spawner 'mislabeled' gave an entity the category 'crate', which its categories() does not declare"
    )


def test_randomizer_giving_an_undeclared_category_fails():
    with pytest.raises(AssertionError) as error:
        check_randomizer(Relabel)
    assert message(error) == (
        "randomizer Relabel ('relabel'): building frame 0 failed: frame 0: entity 2 (from 'sphere') has the category 'mystery', which no spawner declares; declared: box, sphere, cone"
    )


def test_randomizer_keeping_state_between_frames_fails():
    with pytest.raises(AssertionError) as error:
        check_randomizer(Drift)
    assert message(error) == (
        "randomizer Drift ('drift'): building frame 0 twice gave different scenes (scene.entities[0].position[0]: -1.1 != -0.8); it must not keep state between frames or draw from unseeded generators: derive everything from ctx (ctx.rng, ctx.frame)"
    )


def test_state_leaking_into_later_frames_fails():
    with pytest.raises(AssertionError) as error:
        check_randomizer(FirstFrameBase)
    assert re.fullmatch(
        r"randomizer FirstFrameBase \('first_frame_base'\): frame 2 differs when the frames are built in another order \(scene\.entities\[0\]\.position\[2\]: [\d.]+ != [\d.]+\); state leaks from one frame to the next: derive everything from ctx \(ctx\.rng, ctx\.frame\)",
        message(error),
    )


def test_random_parameters_drawn_elsewhere_fail():
    with pytest.raises(AssertionError) as error:
        check_spawner(OwnGenerator, {"size": {"uniform": [0.2, 0.8]}})
    assert message(error) == (
        "spawner OwnGenerator ('own_generator'): its parameters are random (size) but its scenes do not change with its random stream: sample them with .sample(ctx.rng)"
    )


def test_declared_keypoints_must_be_set():
    with pytest.raises(AssertionError) as error:
        check_spawner(NoKeypoints)
    assert message(error) == (
        "spawner NoKeypoints ('no_keypoints'): frame 0, entity 0 (no_keypoints) lacks the keypoint(s) bottom that keypoints() declares; set Entity.keypoints (or TriangleMesh.keypoints) to points in the mesh's own frame"
    )


def test_invisible_entities_fail():
    with pytest.raises(AssertionError, match=r"face_down'\): no entity is visible in frames 0-2"):
        check_spawner(FaceDown)


def test_non_finite_positions_fail():
    with pytest.raises(AssertionError) as error:
        check_randomizer(Exploder)
    # The pipeline itself refuses the value now, naming the randomizer and the frame.
    assert message(error).startswith(
        "randomizer Exploder ('exploder'): building frame 0 failed: randomizer 'exploder' "
        "(type 'exploder' from plugin 'under_test') left entity 1.position = [inf, 0.0, 0.0] "
        "(expected 3 finite numbers) in randomize() at frame 0 (seed 0)"
    )


def test_parameters_are_validated():
    with pytest.raises(AssertionError) as error:
        check_spawner(GlobalScatter, {"size": "big"})
    assert message(error).startswith(
        "spawner GlobalScatter ('global_scatter'): the world around it does not load: <world>: spawners[0].size: expected a constant"
    )


def test_frame_driven_components_without_randomness_pass():
    report = check_spawner(Turntable, frames=2)
    assert not report.random
    assert [s.entities[0].hpr[0] for s in report.scenes] == [0.0, 30.0]


def test_small_objects_are_framed_by_the_camera():
    report = check_spawner(BUNDLED.spawners.get("primitive").component, {"size": 0.01})
    (obj,) = report.frames[0].objects
    assert obj.bbox[2] > 40, "the 1 cm box fills much of the 96 px wide image"


# ------------------------------------------------------------------------- the fixture


def ring_plugin() -> types.ModuleType:
    """A plugin module built in memory, as a test of a local plugin would have it."""

    class Ring(Spawner):
        name = "ring"

        def spawn(self, ctx: FrameContext) -> Entity:
            return Entity(meshes.torus(), position=ctx.rng.uniform(-1, 1, 3))

    module = types.ModuleType("rings")

    @hookimpl
    def sim_register_spawners(register):
        register(Ring)

    module.sim_register_spawners = sim_register_spawners
    return module


def test_sim_world_renders_a_world_with_an_in_memory_plugin(sim_world, tmp_path):
    world = {"world": {"seed": 3}, "spawners": [{"type": "ring", "count": 2}]}
    dataset = sim_world(world, ring_plugin())
    assert dataset.root.parent == tmp_path and dataset.manifest["status"] == "complete"
    assert [r["frame"] for r in dataset.records] == [0, 1]
    assert {o["category"] for o in dataset.objects} == {"ring"}
    assert dataset.coco is not None and dataset.coco["categories"][0]["name"] == "ring"
    again = sim_world(world, ring_plugin(), frames=1)
    assert again.root != dataset.root and again.records[0] == dataset.records[0]


def test_sim_world_takes_world_files_from_the_project_root(sim_world):
    dataset = sim_world("worlds/shapes.toml", frames=1, resolution=(64, 48))
    assert dataset.records[0]["width"] == 64 and dataset.objects


def test_in_memory_plugins_are_gone_after_the_run(sim_world):
    sim_world({"spawners": [{"type": "ring"}]}, ring_plugin(), frames=1)
    assert "ring" not in PluginHost().spawners


def test_in_memory_plugins_are_registered_in_process_not_through_files(sim_world):
    dataset = sim_world({"spawners": [{"type": "ring"}]}, ring_plugin(), frames=1)
    assert dataset.manifest["world"]["plugins"]["paths"] == []
    assert {o["category"] for o in dataset.objects} == {"ring"}


def test_one_check_can_be_called_alone():
    tile = meshes.plane()
    broken = meshes.TriangleMesh(tile.vertices, tile.normals, tile.triangles + 100)
    subject = Subject("spawner", Turntable, {}, frames=1)
    with pytest.raises(AssertionError) as error:
        check_mesh(subject, broken, "frame 0, entity 0")
    assert message(error).startswith(
        "spawner Turntable ('turntable'): frame 0, entity 0: mesh "
    ) and message(error).endswith(f": a triangle uses vertex 103 of {len(tile.vertices)}")
