"""The Cycles renderer ([render] renderer = "cycles"): Blender's path-traced RGB behind the
same world file, with sim's exact labels. Tiny frames (64 x 48, a few samples), CPU device.

What is checked: the film's numpy twin against the engine's own pixels; light units against
the engine (white furnace, a sun-, point- and spot-lit white plane, an environment); the
camera's intrinsics against Blender's own projection; Cycles' object-index pass against
sim's instance mask; the labels of a Cycles run byte for byte those of the Panda3D run, its
images deterministic for a seed and the same under two workers; bpy missing; a feature
Cycles cannot express warned once.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from datasets import dataset_files
from small_frames import HEIGHT, WIDTH
from small_frames import camera as small_camera

from simulator.capture.pipeline import Pipeline, host_for
from simulator.cycles import INSTALL, film, frame_seed, notices, open_cycles
from simulator.cycles.camera import camera_lens, lens_of
from simulator.engine.film import film_gain
from simulator.errors import Interrupted
from simulator.run.options import RunCallbacks
from simulator.run.runner import RunOptions, run
from simulator.scene import meshes
from simulator.scene.environment import Environment
from simulator.scene.materials import Material, MeshGroup
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene
from simulator.scene.textures import TextureImage
from simulator.world.load import load_world, parse_world

bpy = pytest.importorskip("bpy", reason="the cycles extra (pip install -e '.[cycles]')")

SAMPLES = 16


@pytest.fixture(scope="module")
def cycles(small):
    renderer = open_cycles(WIDTH, HEIGHT, small.geometry.drawn, samples=SAMPLES, device="cpu")
    yield renderer
    renderer.close()


def _linear(srgb: np.ndarray) -> np.ndarray:
    x = np.asarray(srgb, float) / 255
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def _both(small, cycles, scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    passes = small.render(scene)
    return passes.color, cycles.render(scene, film_gain(scene, small.environments), 7)


# -- the film ---------------------------------------------------------------------------


@pytest.mark.parametrize("tone", film.TONES)
def test_the_film_twin_gives_the_engines_pixels_on_a_flat_lit_quad(small, tone):
    """A white dielectric in a uniform ambient renders at exactly its radiance in the engine
    (engine.shaders), so each frame's pixels are the tone curve of one known value."""
    values = [0.0005, 0.002, 0.01, 0.05, 0.18, 0.5, 0.9, 1.4, 3.0, 8.0]
    got, want = [], []
    for value in values:
        scene = Scene(
            small_camera(),
            lights=[Light("ambient", intensity=value)],
            film=Film(tone=tone),
        )
        scene.add(Entity(meshes.plane(), hpr=[0, 90, 0], scale=[4, 4, 1], color=[1, 1, 1]))
        got.append(small.render(scene).color[HEIGHT // 2, WIDTH // 2])
        want.append(film.to_8bit(film.tone(np.full(3, value, np.float32), tone)))
    np.testing.assert_array_equal(np.array(got), np.array(want))


def test_develop_lays_a_transparent_film_over_the_background_after_the_tone_curve():
    rgba = np.zeros((1, 3, 4), np.float32)
    rgba[0, 1] = [0.25, 0.25, 0.25, 0.5]  # half covered by a surface of radiance 0.5
    rgba[0, 2] = [0.5, 0.5, 0.5, 1.0]
    out = film.develop(rgba, np.ones(3), "linear", np.array([1.0, 0.0, 0.0]))
    half = film.encode_srgb(np.float32(0.5))
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(out[0, 2], film.to_8bit(np.full(3, half)))
    np.testing.assert_array_equal(
        out[0, 1], film.to_8bit(np.array([0.5 * half + 0.5, 0.5 * half, 0.5 * half]))
    )


# -- light units --------------------------------------------------------------------------

VIEW = CameraState(WIDTH, HEIGHT, fov=30, position=[0, -3, 3], target=[0, 0, 0])
DOWN = np.array([0.0, 0.0, -1.0])


def _plane(**looks) -> Entity:
    return Entity(
        meshes.plane(), scale=[8, 8, 1], **{"color": [1, 1, 1], "roughness": 1.0, **looks}
    )


def _ball() -> Entity:
    return Entity(meshes.sphere(), scale=[3, 3, 3], color=[1, 1, 1], roughness=1.0)


UNITS = {
    "furnace": ([Light("ambient", intensity=1.0)], None, _ball),
    "sun": ([Light("directional", intensity=1.0, direction=DOWN)], None, _plane),
    "slanted sun": ([Light("directional", direction=[0.5, 0.3, -1.0])], None, _plane),
    "point": ([Light("point", intensity=2.0, position=[0, 0, 1.5])], None, _plane),
    "spot": (
        [Light("spot", intensity=2.0, position=[0, 0, 1.5], direction=DOWN, angle=40)],
        None,
        _plane,
    ),
    "environment": ([], Environment(np.full((16, 32, 3), 0.8, np.float32)), _ball),
}


@pytest.mark.parametrize("name", UNITS)
def test_light_units_agree_with_the_engine(small, cycles, name):
    """The mean linear radiance of the frame's centre, Cycles over the engine, within 4 %.

    Measured (64 samples): 0.994 for the furnaces (Cycles' multiple bounces inside its
    energy-conserving Principled BSDF against the engine's split sum) and 1.023 to 1.026 for
    the lit planes: the Principled BSDF's rough diffuse plus its multiscatter specular
    returns a little more of a rough white surface's light than glTF's single-scatter GGX
    over Lambert. Units off by a convention would be off by pi or 4 pi."""
    lights, environment, thing = UNITS[name]
    scene = Scene(
        VIEW, lights=lights, environment=environment, film=Film(exposure=-1, tone="linear")
    )
    scene.add(thing())
    engine, path_traced = _both(small, cycles, scene)
    centre = (slice(18, 30), slice(26, 38))
    ratio = _linear(path_traced[centre]).mean() / _linear(engine[centre]).mean()
    assert ratio == pytest.approx(1.0, abs=0.04)


def test_the_environment_seen_behind_the_scene_is_the_engines(small, cycles):
    scene = Scene(VIEW, lights=[], environment=Environment(np.full((16, 32, 3), 0.3, np.float32)))
    engine, path_traced = _both(small, cycles, scene)
    np.testing.assert_allclose(path_traced.astype(int), engine.astype(int), atol=1)


def test_an_environment_turns_the_way_the_engine_turns_it(small, cycles):
    """Half the sky bright, half dark, turned by 90 degrees: the same half is seen."""
    image = np.zeros((32, 64, 3), np.float32)
    image[:, :32] = 1.0  # u < 0.5: azimuth 0 to 180 degrees (+X through +Y)
    environment = Environment(image, rotation=90.0)
    camera = CameraState(WIDTH, HEIGHT, fov=90, position=[0, 0, 0], target=[1, 0, 0])
    scene = Scene(camera, lights=[], environment=environment, film=Film(tone="linear"))
    engine, path_traced = _both(small, cycles, scene)
    agree = np.abs(engine.astype(int) - path_traced.astype(int)).max(axis=2) <= 2
    assert agree[:, 2:-2].mean() > 0.95  # all but the seam's anti-aliased column


# -- the camera ---------------------------------------------------------------------------


def test_the_blender_camera_projects_points_where_k_does():
    """An off-centre K (principal point moved), through Blender's own camera projection."""
    from bpy_extras.object_utils import world_to_camera_view
    from mathutils import Matrix, Vector

    from simulator.cycles.camera import camera_matrix

    camera = CameraState(WIDTH, HEIGHT, fov=55, position=[1, -4, 2], target=[0.2, 0, 0.3])
    K = camera.K.copy()
    K[0, 2] += 7.25
    K[1, 2] -= 3.5
    lens = lens_of(K, WIDTH, HEIGHT, camera.near, camera.far)
    data = bpy.data.cameras.new("projection-check")
    data.sensor_fit = "HORIZONTAL"
    for name in ("lens", "sensor_width", "shift_x", "shift_y", "clip_start", "clip_end"):
        setattr(data, name, getattr(lens, name))
    ob = bpy.data.objects.new("projection-check", data)
    ob.matrix_world = Matrix(camera_matrix(camera).tolist())
    scene = bpy.context.scene
    scene.render.resolution_x, scene.render.resolution_y = WIDTH, HEIGHT
    points = np.random.default_rng(3).uniform(-1, 1, (20, 3))
    try:
        seen = np.array([world_to_camera_view(scene, ob, Vector(p))[:] for p in points])
    finally:
        bpy.data.objects.remove(ob)
        bpy.data.cameras.remove(data)
    world_to_cam = camera.world_to_cam()
    cam = points @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    pixels = cam @ K.T
    pixels = pixels[:, :2] / pixels[:, 2:]
    # Blender: (0, 0) is the image's bottom-left corner, (1, 1) its top right
    blender = np.column_stack([seen[:, 0] * WIDTH - 0.5, (1 - seen[:, 1]) * HEIGHT - 0.5])
    np.testing.assert_allclose(blender, pixels, atol=1e-4)
    np.testing.assert_allclose(seen[:, 2], cam[:, 2], rtol=1e-6)
    assert camera_lens(camera).shift_x == 0 and camera_lens(camera).shift_y == 0


# -- alignment ----------------------------------------------------------------------------

ALIGN_WORLD = """
[world]
name = "align"
seed = 5
frames = 3
[camera]
resolution = [64, 48]
[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "torus", "cone"] }
count = 4
[[spawners]]
type = "model"
model = "teapot"
category = "teapot"
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
[[randomizers]]
type = "position"
targets = ["primitive", "teapot"]
[[randomizers]]
type = "rotation"
targets = ["primitive", "teapot"]
[[randomizers]]
type = "camera_orbit"
"""


def _near_an_edge(mask: np.ndarray) -> np.ndarray:
    """Pixels within 1 px (8-neighbourhood) of a change of id in `mask`."""
    padded = np.pad(mask, 1, mode="edge")
    near = np.zeros(mask.shape, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            shifted = padded[1 + dy : 1 + dy + mask.shape[0], 1 + dx : 1 + dx + mask.shape[1]]
            near |= shifted != mask
    return near


@pytest.mark.filterwarnings("ignore:Cycles. model:simulator.cycles.notices.CyclesFeatureWarning")
def test_cycles_object_index_pass_agrees_with_sims_instance_mask(small, cycles, tmp_path):
    """At one sample through each pixel's centre, Cycles sees the entity sim's mask names
    everywhere but on a few edge pixels (where both sample a surface's border)."""
    world = parse_world(ALIGN_WORLD, tmp_path / "align.toml")
    pipeline = Pipeline(world, host_for(world))
    wrong = total = 0
    for index in range(3):
        scene = pipeline.build_scene(index)
        sim_mask = small.render(scene).instance
        blender = cycles.render_index(scene)
        differ = blender != sim_mask
        assert not (differ & ~_near_an_edge(sim_mask)).any(), f"frame {index}: off an edge"
        wrong, total = wrong + int(differ.sum()), total + differ.size
        assert len(np.unique(sim_mask)) > 3  # the frame shows several entities
    assert wrong / total < 0.005


def test_a_masked_material_is_cut_where_the_engine_cuts_it(small, cycles):
    alpha = np.zeros((8, 8, 4), np.uint8)
    alpha[..., :3] = 200
    alpha[:, :4, 3] = 255  # the texture's left half is there, its right half cut away
    material = Material(base_color_texture=TextureImage(alpha), alpha_mode="MASK")
    scene = Scene(small_camera())
    scene.add(Entity(meshes.plane(), hpr=[0, 90, 0], scale=[1.5, 1.5, 1], material=material))
    sim_mask = small.render(scene).instance
    blender = cycles.render_index(scene)
    assert 0 < (sim_mask == 1).mean() < 0.5
    differ = blender != sim_mask
    assert not (differ & ~_near_an_edge(sim_mask)).any()


def test_a_texture_lands_on_the_same_pixels(small, cycles):
    """A texture half dark, half light (left to right) and with its top quarter red: the
    two renderers agree on which is where."""
    texture = np.full((16, 16, 3), 230, np.uint8)
    texture[:, :8] = 20
    texture[:4] = [230, 0, 0]
    scene = Scene(
        small_camera(), lights=[Light("ambient", intensity=1.0)], film=Film(tone="linear")
    )
    scene.add(
        Entity(meshes.plane(), hpr=[0, 90, 0], scale=[2, 2, 1], texture=TextureImage(texture))
    )
    engine, path_traced = _both(small, cycles, scene)
    inner = (slice(6, -6), slice(6, -6))
    difference = np.abs(engine.astype(int) - path_traced.astype(int))[inner].max(axis=2)
    assert np.median(difference) <= 3 and (difference > 40).mean() < 0.1


def test_a_feature_cycles_cannot_express_is_warned_once(small, cycles, monkeypatch):
    monkeypatch.setattr(notices, "_told", set())
    grey = TextureImage(np.full((4, 4, 3), 128, np.uint8))
    scene = Scene(small_camera())
    for name in ("a", "b"):  # two materials with occlusion maps: one warning
        material = Material(name=name, occlusion_texture=grey)
        scene.add(
            Entity(meshes.box(), position=[len(scene.entities) - 0.5, 0, 0], material=material)
        )
    with pytest.warns(notices.CyclesFeatureWarning, match="occlusion maps") as caught:
        cycles.render(scene, np.ones(3), 1)
        cycles.render(scene, np.ones(3), 2)
    assert len(caught) == 1


def test_a_gpu_asked_for_on_a_machine_without_one_falls_back_to_the_cpu(monkeypatch, capsys):
    from simulator.cycles.devices import choose_device

    monkeypatch.setattr(notices, "_told", set())
    prefs = bpy.context.preferences.addons["cycles"].preferences
    prefs.refresh_devices()
    if any(d.type in ("OPTIX", "CUDA") for d in prefs.devices):
        pytest.skip("this machine has a GPU")
    assert choose_device("gpu") == "CPU"
    assert "Cycles found no GPU (OptiX or CUDA): rendering on the CPU" in capsys.readouterr().err
    assert choose_device("cpu") == "CPU"


def test_vertex_colours_and_material_groups_reach_cycles(small, cycles):
    """A quad whose two triangles are two groups: the left one's own red material, the
    right one the entity's look (white); yellow vertex colours multiply both."""
    quad = meshes.plane()
    colors = np.tile([1.0, 1.0, 0.0, 1.0], (4, 1))  # yellow: multiplies both groups
    red = Material(base_color=(1.0, 0.0, 0.0, 1.0))
    mesh = meshes.TriangleMesh(
        quad.vertices,
        quad.normals,
        quad.triangles,
        quad.uvs,
        colors=colors,
        groups=(MeshGroup("red", 0, 1, red), MeshGroup("rest", 1, 1, None)),
    )
    scene = Scene(
        small_camera(), lights=[Light("ambient", intensity=1.0)], film=Film(tone="linear")
    )
    scene.add(Entity(mesh, hpr=[0, 90, 0], scale=[2, 2, 1], color=[1, 1, 1]))
    engine, path_traced = _both(small, cycles, scene)
    inner = (slice(8, -8), slice(8, -8))
    difference = np.abs(engine.astype(int) - path_traced.astype(int))[inner].max(axis=2)
    assert np.median(difference) <= 3
    red, green = engine[inner][..., 0] > 200, engine[inner][..., 1] > 200
    assert (red & ~green).mean() > 0.3 and (red & green).mean() > 0.3  # red, and yellow


# -- runs ---------------------------------------------------------------------------------

RUN_WORLD = """
[world]
name = "cyc"
seed = 3
frames = 2
[camera]
resolution = [64, 48]
[render]
renderer = "RENDERER"
samples = 4
[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "torus"] }
count = 3
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
[[randomizers]]
type = "position"
targets = ["primitive"]
[[randomizers]]
type = "color"
[[randomizers]]
type = "camera_orbit"
"""


def _run(write_world, tmp_path, renderer: str, name: str, **options) -> dict[str, bytes]:
    world = write_world(RUN_WORLD.replace("RENDERER", renderer), f"{name}.toml")
    summary = run(load_world(world), RunOptions(tmp_path / name, **options))
    return dataset_files(summary.root)


def _images(files: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in files.items() if k.startswith("images/")}


def test_a_cycles_run_has_the_panda3d_runs_labels_and_its_own_deterministic_images(
    write_world, tmp_path
):
    panda = _run(write_world, tmp_path, "panda3d", "panda")
    once = _run(write_world, tmp_path, "cycles", "once")
    twice = _run(write_world, tmp_path, "cycles", "twice", workers=2, shard_size=1)
    labels = lambda files: {k: v for k, v in files.items() if not k.startswith("images/")}  # noqa: E731
    assert labels(once) == labels(panda) and labels(twice) == labels(panda)
    assert len(_images(once)) == 2 and _images(once) == _images(twice)
    assert all(_images(once)[k] != _images(panda)[k] for k in _images(panda))


def test_an_interrupted_cycles_run_resumes_to_the_same_bytes(write_world, tmp_path):
    world = load_world(write_world(RUN_WORLD.replace("RENDERER", "cycles")))
    whole = run(world, RunOptions(tmp_path / "whole", shard_size=1)).root

    def stop(index: int) -> None:
        raise KeyboardInterrupt

    out = tmp_path / "cut"
    with pytest.raises(Interrupted):
        run(world, RunOptions(out, shard_size=1), RunCallbacks(on_frame=stop))
    assert len(dataset_files(out)) < len(dataset_files(whole))
    run(world, RunOptions(out, shard_size=1, resume=True))
    assert dataset_files(out) == dataset_files(whole)


def test_frame_seeds_differ_between_frames_and_worlds():
    seeds = {frame_seed(seed, index) for seed in range(3) for index in range(50)}
    assert len(seeds) == 150 and all(0 <= s < 2**31 for s in seeds)


# -- bad input ----------------------------------------------------------------------------


def test_without_bpy_sim_run_says_how_to_install_it_in_one_line_and_writes_nothing(
    write_world, tmp_path
):
    world = write_world(RUN_WORLD.replace("RENDERER", "panda3d"))
    out = tmp_path / "out"
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["bpy"] = None  # as if the cycles extra were not installed
        from simulator.cli import main
        sys.argv = ["sim", "run", {str(world)!r}, "--out", {str(out)!r}, "--renderer", "cycles"]
        main()
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == f"error: {INSTALL}"
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_an_unknown_renderer_is_one_clear_message(write_world, tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    world = write_world(RUN_WORLD.replace("RENDERER", "panda3d"))
    result = CliRunner().invoke(
        app, ["run", str(world), "--out", str(tmp_path / "o"), "--renderer", "povray"]
    )
    assert result.exit_code == 2
    assert "--renderer" in result.output and "cycles" in result.output
    assert not (tmp_path / "o").exists()
