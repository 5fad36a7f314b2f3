"""The engine over many frames: geometry reused, Panda3D state caches bounded."""

from panda3d.core import RenderState, TransformState

from simulator.pipeline import Pipeline, host_for
from simulator.worldfile import load_world


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
