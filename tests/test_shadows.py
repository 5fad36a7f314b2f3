"""Shadows: the floor is dark exactly where the geometry says the light cannot reach it.

Expected pixels are not computed with the shader's formulas: each pixel is compared with two
renders of the same scene, one with the light's shadows off (lit) and one without the light
(shadowed), and which of the two it must equal comes from intersecting its camera ray with
the floor and the light's rays with the box, in numpy."""

import numpy as np
import pytest

from simulator import meshes, transforms
from simulator.capture.pipeline import Pipeline, host_for
from simulator.engine import renderer
from simulator.scene.scene import CameraState, Entity, Light, Scene
from simulator.world.load import parse_world

MARGIN = 0.02  # metres either side of a shadow's edge left unchecked (filtering, texels)


def scene_with(light: Light | None) -> Scene:
    camera = CameraState(160, 120, position=[0, -5, 6], target=[0, 0.3, 0])
    lights = [Light("ambient", intensity=0.25)] + ([light] if light else [])
    scene = Scene(camera, lights=lights, background=np.zeros(3))
    scene.add(Entity(meshes.plane(), "floor", scale=[8, 8, 1], color=[0.8, 0.8, 0.8]))
    scene.add(Entity(meshes.box(), "box", position=[0, 0, 1.5], color=[0.9, 0.3, 0.2]))
    return scene


def floor_points(scene: Scene, height: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(v, u) of every pixel and where its centre's ray meets the plane z = `height` (the
    floor's, by default)."""
    camera = scene.camera
    K = transforms.intrinsics(camera.width, camera.height, camera.fov)
    v, u = np.mgrid[0 : camera.height, 0 : camera.width]
    rays = np.linalg.inv(K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])
    pose = camera.cam_to_world()
    directions = (pose[:3, :3] @ rays).T
    origin = pose[:3, 3]
    t = (height - origin[2]) / directions[:, 2]
    return np.stack([v.ravel(), u.ravel()], 1), origin + t[:, None] * directions


def check(engine, light: Light, half_width: float) -> None:
    """The box's shadow is the square |x|, |y| < half_width on the floor."""
    lit_light = Light(**{**light.__dict__, "shadows": False})
    shadowed, lit, dark = (engine.render(scene_with(x)) for x in (light, lit_light, None))
    assert np.array_equal(shadowed.instance, lit.instance)
    assert np.array_equal(shadowed.depth, lit.depth)
    pixels, points = floor_points(scene_with(light))
    on_floor = shadowed.instance[pixels[:, 0], pixels[:, 1]] == 1
    inside = np.abs(points[:, :2]).max(axis=1)
    in_shadow = on_floor & (inside < half_width - MARGIN)
    in_light = on_floor & (inside > half_width + MARGIN)
    assert in_shadow.sum() > 150 and in_light.sum() > 3000  # both are really tested
    v, u = pixels[in_shadow].T
    assert np.array_equal(shadowed.color[v, u], dark.color[v, u])
    v, u = pixels[in_light].T
    assert np.array_equal(shadowed.color[v, u], lit.color[v, u])
    assert not np.array_equal(dark.color[v, u], lit.color[v, u])  # the light does light them


def test_a_directional_light_from_above_shadows_the_box_footprint(engine):
    check(engine, Light("directional", direction=[0, 0, -1], intensity=1.0, shadows=True), 0.5)


def test_a_spot_light_shadows_the_box_top_projected_from_the_light(engine):
    light = Light(
        "spot", position=[0, 0, 5], direction=[0, 0, -1], angle=50, intensity=20.0, shadows=True
    )
    # The top face (z = 2) seen from z = 5 covers the most floor: scaled by 5 / (5 - 2).
    check(engine, light, 0.5 * 5 / 3)


def test_a_slanted_directional_light_moves_the_shadow_along_it(engine):
    light = Light("directional", direction=[1, 0, -1], intensity=1.0, shadows=True)
    shadowed, dark = engine.render(scene_with(light)), engine.render(scene_with(None))
    pixels, points = floor_points(scene_with(light))
    on_floor = shadowed.instance[pixels[:, 0], pixels[:, 1]] == 1
    # Light falling at 45 degrees: the box (z 1 to 2) shadows x in [0.5, 2.5] behind it.
    x, y = points[:, 0], np.abs(points[:, 1])
    core = on_floor & (x > 0.5 + MARGIN) & (x < 2.5 - MARGIN) & (y < 0.5 - MARGIN)
    before = on_floor & (x < 0.5 - MARGIN) & (x > -3) & (y < 0.5 - MARGIN)
    assert core.sum() > 100 and before.sum() > 100
    v, u = pixels[core].T
    assert np.array_equal(shadowed.color[v, u], dark.color[v, u])
    v, u = pixels[before].T
    assert (shadowed.color[v, u].astype(int).sum(1) > dark.color[v, u].astype(int).sum(1)).all()


def test_a_plane_between_the_light_and_a_box_shadows_it(engine):
    """A flat entity with things on its dark side stays in the shadow map: a 1.5 m sheet at
    z = 3, 1 m aside, shadows the box's top (z = 2) under light falling at 45 degrees."""
    light = Light("directional", direction=[1, 0, -1], intensity=1.0, shadows=True)

    def with_sheet(light: Light | None) -> Scene:
        scene = scene_with(light)
        scene.add(Entity(meshes.plane(), "sheet", position=[-1, 0, 3], scale=[1.5, 1.5, 1]))
        return scene

    sheet, bare = engine.render(with_sheet(light)), engine.render(scene_with(light))
    dark = engine.render(with_sheet(None))
    pixels, points = floor_points(scene_with(light), height=2.0)
    on_top = sheet.instance[pixels[:, 0], pixels[:, 1]] == 2
    top = on_top & (np.abs(points[:, :2]).max(axis=1) < 0.5 - MARGIN)
    assert top.sum() > 100
    v, u = pixels[top].T
    assert np.array_equal(sheet.color[v, u], dark.color[v, u])
    assert (bare.color[v, u].astype(int).sum(1) > dark.color[v, u].astype(int).sum(1)).all()


def test_a_floor_left_out_of_the_shadow_map_changes_no_shadow(engine, monkeypatch):
    """A floor with everything above it and the light and camera above is not drawn into the
    shadow map (it shadows nothing), and the frame is as if it were: the same labels, and the
    same colours but at a few contact pixels."""
    light = Light("directional", direction=[0.3, 0.2, -1], intensity=1.0, shadows=True, size=2.0)
    scene = scene_with(light)
    scene.entities[1].position = np.array([0.0, 0.0, 0.5])  # resting on the floor
    assert renderer.cannot_cast([light], scene.entities, lambda e: engine.arrays(e.mesh)[0],
                                scene.camera.cam_to_world()[:3, 3]) == [1]  # fmt: skip
    left_out = engine.render(scene)
    monkeypatch.setattr(renderer, "cannot_cast", lambda *args: [])
    drawn = engine.render(scene)
    assert np.array_equal(left_out.instance, drawn.instance)
    changed = np.abs(left_out.color.astype(int) - drawn.color).max(-1)
    assert (changed > 0).sum() <= 10 and changed.max() <= 16


def test_point_lights_cannot_cast_shadows():
    with pytest.raises(ValueError, match="directional and spot"):
        Light("point", shadows=True)


WORLD = """
[world]
seed = 5
[camera]
resolution = [160, 120]
[[spawners]]
type = "primitive"
shape = "box"
[[randomizers]]
type = "{kind}"
{params}
"""


def lights(kind: str, params: str, frames: int = 1) -> list[list[Light]]:
    world = parse_world(WORLD.format(kind=kind, params=params))
    pipeline = Pipeline(world, host_for(world))
    return [pipeline.build_scene(i).lights for i in range(frames)]


def test_the_light_randomizers_turn_shadows_on_off_or_by_chance():
    assert [x.shadows for x in lights("light", "shadows = true")[0]] == [False, True]
    assert [x.shadows for x in lights("light", "")[0]] == [False, False]
    spots = lights("lights", 'count = 3\nkind = "spot"\nshadows = true')[0]
    assert [x.shadows for x in spots] == [False, True, True, True]
    points = lights("lights", 'count = 2\nkind = "point"\nshadows = true')[0]
    assert not any(x.shadows for x in points)
    drawn = [x.shadows for frame in lights("light", "shadows = 0.5", 40) for x in frame[1:]]
    assert 5 < sum(drawn) < 35
    again = [x.shadows for frame in lights("light", "shadows = 0.5", 40) for x in frame[1:]]
    assert drawn == again


def test_shadows_are_recorded_with_the_light():
    light = lights("light", "shadows = true")[0][1]
    assert light.record()["shadows"] is True
    assert "shadows" not in lights("light", "")[0][1].record()
