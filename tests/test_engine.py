"""The engine over many frames: geometry reused, Panda3D state caches bounded."""

from panda3d.core import RenderState, TransformState

from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import load_world


def test_state_caches_and_geometry_do_not_grow_with_frames(engine, write_world):
    world = load_world(write_world())
    pipeline = Pipeline(world, host_for(world))

    def render(frames):
        for index in frames:
            engine.render(pipeline.build_scene(index))
        return RenderState.get_num_states(), TransformState.get_num_states(), len(engine.geometry)

    after_50 = render(range(50))
    after_250 = render(range(50, 250))
    assert after_250[2] == after_50[2], "the same meshes are reused, not rebuilt"
    # Each frame sets unique colors and poses; without garbage collection these grow by
    # hundreds of states per 50 frames.
    assert after_250[0] <= after_50[0] + 20 and after_250[1] <= after_50[1] + 20


def test_no_graphics_pipe_is_one_clear_error():
    import pytest

    from simulator.engine import context
    from simulator.errors import RenderError

    with pytest.raises(
        RenderError,
        match=r"could not create an offscreen OpenGL context through "
        r"EGL .*apt-get install libegl1 libgl1-mesa-dri",
    ):
        context.make_pipe("p3no_such_display")


def test_where_surfaces_meet_at_equal_depth_the_first_entity_in_the_scene_wins(engine):
    """Ties are broken by scene order, never by Panda3D's state sorting (which follows memory
    addresses and so differs between runs and worker processes)."""
    import numpy as np

    from simulator import meshes
    from simulator.scene.scene import CameraState, Entity, Scene

    rng = np.random.default_rng(0)
    for _ in range(12):
        colors = rng.uniform(0, 1, (8, 3))
        scene = Scene(CameraState(160, 120, position=[0, 0, 5], target=[0, 0, 0]))
        for color in colors:  # the same plane eight times: every covered pixel is a tie
            scene.add(Entity(meshes.plane(), "plane", scale=[2, 2, 1], color=color))
        alone = Scene(CameraState(160, 120, position=[0, 0, 5], target=[0, 0, 0]))
        alone.add(Entity(meshes.plane(), "plane", scale=[2, 2, 1], color=colors[0]))
        tied, first = engine.render(scene), engine.render(alone)
        covered = first.instance > 0
        assert covered.sum() > 1000
        assert np.array_equal(tied.instance, first.instance)
        assert np.array_equal(tied.color, first.color)
