"""The lights randomizer: count, kind, colour temperature and intensity do what they say."""

import numpy as np
import pytest

from sim_plugins.lighting import kelvin_rgb
from simulator.capture.pipeline import Pipeline, host_for
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 4
[camera]
resolution = [160, 120]  # the size of the shared engine fixture
[render]
metering = false  # automatic exposure would even out the intensities compared here
[[spawners]]
type = "primitive"
shape = "sphere"
size = 1.5
color = [0.8, 0.8, 0.8]
[[randomizers]]
type = "lights"
{params}
"""


def pipeline(params: str) -> Pipeline:
    world = parse_world(WORLD.format(params=params))
    return Pipeline(world, host_for(world))


def test_count_and_kind_make_those_lights():
    scene = pipeline('count = 3\nkind = "point"\ndistance = 4').build_scene(0)
    kinds = [light.kind for light in scene.lights]
    assert kinds == ["ambient", "point", "point", "point"]
    for light in scene.lights[1:]:
        assert np.linalg.norm(light.position) == pytest.approx(4.0)
    directional = pipeline('count = 2\nkind = "directional"').build_scene(1)
    assert [light.kind for light in directional.lights] == ["ambient", "directional", "directional"]


def test_colour_temperature_runs_from_warm_to_cool():
    warm, neutral, cool = kelvin_rgb(2700), kelvin_rgb(6500), kelvin_rgb(10000)
    assert warm[0] > warm[1] > warm[2]
    assert neutral.min() > 0.95
    assert cool[2] > cool[1] > cool[0]
    scene = pipeline("count = 1\nkelvin = 2000").build_scene(0)
    light = scene.lights[1]
    assert light.color[0] > 2 * light.color[2]


def test_intensity_brightens_the_image_and_changes_no_label(engine):
    dim_params = 'count = 1\nkind = "directional"\nintensity = 0.2\nambient = 0.1'
    dim, bright = (
        pipeline(p).build_scene(0) for p in (dim_params, dim_params.replace("0.2", "1.0"))
    )
    a, b = engine.render(dim), engine.render(bright)
    assert np.array_equal(a.instance, b.instance) and np.array_equal(a.depth, b.depth)
    sphere = a.instance == 1
    assert b.color[sphere].mean() > a.color[sphere].mean() + 20


def test_too_many_lights_is_reported():
    from simulator.errors import PluginError

    with pytest.raises(PluginError, match="at most 8 lights besides the ambient, drew 9"):
        pipeline("count = 9").build_scene(0)


def test_roughness_and_metallic_shape_the_highlight(engine):
    from simulator import meshes
    from simulator.scene.scene import CameraState, Entity, Light, Scene

    def render(roughness: float, metallic: float):
        scene = Scene(
            CameraState(160, 120, position=[0, -4, 0], target=[0, 0, 0]),
            lights=[Light("directional", direction=[0.0, 1.0, 0.0], intensity=1.0)],
            background=np.zeros(3),
        )
        scene.add(
            Entity(
                meshes.sphere(),
                "ball",
                scale=[2, 2, 2],
                color=[0.9, 0.1, 0.1],
                roughness=roughness,
                metallic=metallic,
            )
        )
        return engine.render(scene)

    glossy, matte, metal = render(0.3, 0.0), render(0.9, 0.0), render(0.3, 1.0)
    assert np.array_equal(glossy.instance, matte.instance)  # labels never change

    def brightest(passes) -> np.ndarray:
        sphere = passes.color[passes.instance == 1].astype(int)
        return sphere[sphere.sum(axis=1).argmax()]

    # A glossy dielectric has a bright, white highlight that a matte one lacks.
    assert brightest(glossy)[1] > brightest(matte)[1] + 60
    # A metal's highlight takes its own (red) color: green stays well below red (a
    # dielectric's highlight is white: green as high as red).
    red, green, _ = brightest(metal)
    assert red > 200 and red - green > 100
    assert brightest(glossy)[0] - brightest(glossy)[1] < 30


def test_a_spot_light_lights_its_cone_only(engine):
    from simulator import meshes
    from simulator.scene.scene import CameraState, Entity, Light, Scene

    scene = Scene(
        CameraState(160, 120, position=[0, -6, 0], target=[0, 0, 0]),
        lights=[
            Light("spot", position=[-1.2, -3, 0], direction=[0, 1, 0], angle=12, intensity=12.0)
        ],
        background=np.zeros(3),
    )
    lit = scene.add(Entity(meshes.sphere(), "ball", position=[-1.2, 0, 0], color=[1, 1, 1]))
    dark = scene.add(Entity(meshes.sphere(), "ball", position=[1.2, 0, 0], color=[1, 1, 1]))
    passes = engine.render(scene)
    inside = passes.color[passes.instance == lit.instance_id].mean()
    outside = passes.color[passes.instance == dark.instance_id].mean()
    assert inside > 100 and outside < 5
    record = scene.record()["lights"][0]
    assert record["kind"] == "spot" and record["angle"] == 12.0


def test_the_lights_randomizer_makes_aimed_spots():
    scene = pipeline('count = 2\nkind = "spot"\ndistance = 3\nspot_angle = 20').build_scene(0)
    for light in scene.lights[1:]:
        assert light.kind == "spot" and light.angle == 20.0
        assert np.allclose(light.direction, -light.position / np.linalg.norm(light.position))
