"""The procedural material library and the "surface_material" randomizer: every material is a
glTF metallic-roughness material with the textures its kind needs, in the ranges its kind has;
normal maps are unit tangent-space normals; planks have their seams, rust its patches; the
same seed makes the same materials, in any process; world files name them or get told which
names there are."""

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from simulator.capture.pipeline import Pipeline, host_for
from simulator.cli import app
from simulator.errors import WorldError
from simulator.scene import material_library as library
from simulator.scene import patterns
from simulator.world.load import load_world

NAMES = sorted(library.LIBRARY)
SEEDS = range(4)
# Effective roughness (factor x G) and the metallic values (factor x B) of each kind.
RANGES = {
    "metal_polished": ((0.0, 0.2), {255}),
    "metal_brushed": ((0.15, 0.55), {255}),
    "plastic_glossy": ((0.0, 0.3), {0}),
    "plastic_matte": ((0.4, 0.8), {0}),
    "rubber": ((0.8, 1.0), {0}),
    "painted": ((0.2, 0.65), {0}),
    "wood_oak": ((0.35, 0.8), {0}),
    "wood_walnut": ((0.35, 0.8), {0}),
    "wood_pine": ((0.35, 0.8), {0}),
    "wood_planks": ((0.3, 0.95), {0}),
    "tiles": ((0.05, 0.97), {0}),
    "concrete": ((0.75, 1.0), {0}),
    "marble": ((0.0, 0.25), {0}),
    "fabric": ((0.8, 1.0), {0}),
    "rusted": ((0.15, 1.0), {0, 255}),
}
FLAT = np.array([128, 128, 255], dtype=np.uint8)


def make(name: str, seed: int = 0, size: int = 256):
    return library.make_material(name, np.random.default_rng(seed), size)


def test_the_table_covers_the_library_and_the_families_cover_it_too():
    assert set(RANGES) == set(NAMES)
    members = [m for family in library.FAMILIES.values() for m in family]
    assert sorted(members) == NAMES  # each material in exactly one family
    for family, names in library.FAMILIES.items():  # a family named like a material is just it
        assert family not in library.LIBRARY or names == (family,)


@pytest.mark.parametrize("name", NAMES)
def test_a_material_is_gltf_metallic_roughness_with_textures_of_the_size_asked(name):
    for size in (256, 64):
        material = make(name, size=size)
        assert material.name == name
        assert material.base_color == (1.0, 1.0, 1.0, 1.0)
        assert material.roughness == 1.0  # the texture is the value
        assert material.base_color_texture is not None
        assert material.metallic_roughness_texture is not None
        textures = [material.base_color_texture, material.metallic_roughness_texture]
        if material.normal_texture is not None:
            textures.append(material.normal_texture)
        for texture in textures:
            assert texture.image.shape == (size, size, 3)
            assert texture.image.dtype == np.uint8
        if material.occlusion_texture is not None:  # packed ORM: occlusion in R
            assert material.occlusion_texture is material.metallic_roughness_texture
        else:  # R unused, so no occlusion
            assert (material.metallic_roughness_texture.image[..., 0] == 255).all()


@pytest.mark.parametrize("name", NAMES)
def test_roughness_and_metallic_are_in_the_range_of_their_kind(name):
    (low, high), metallic_values = RANGES[name]
    for seed in SEEDS:
        material = make(name, seed)
        orm = material.metallic_roughness_texture.image.astype(float)
        roughness = material.roughness * orm[..., 1] / 255
        metallic = np.rint(material.metallic * orm[..., 2])
        assert low <= roughness.min() and roughness.max() <= high, (seed, roughness.min())
        assert set(np.unique(metallic)) == metallic_values, seed
        assert material.metallic == (1.0 if 255 in metallic_values else 0.0)  # the record tells


def test_rust_is_a_rough_dielectric_in_patches_on_smoother_clean_metal():
    for seed in SEEDS:
        material = make("rusted", seed)
        orm = material.metallic_roughness_texture.image.astype(int)
        base = material.base_color_texture.image.astype(int)
        rust, clean = orm[..., 2] == 0, orm[..., 2] == 255
        assert (rust | clean).all()
        assert 0.15 < rust.mean() < 0.65  # patches, not all or nothing
        assert orm[..., 1][rust].min() > orm[..., 1][clean].max()  # every rust texel rougher
        reddish = base[..., 0] - base[..., 2]  # orange-brown oxide, grey steel
        assert reddish[rust].min() > 40 and np.abs(reddish[clean]).max() < 20


@pytest.mark.parametrize("name", [n for n in NAMES if make(n).normal_texture is not None])
def test_normal_maps_hold_unit_normals_out_of_the_surface(name):
    for seed in SEEDS:
        image = make(name, seed).normal_texture.image
        normal = image.astype(float) / 255 * 2 - 1
        length = np.linalg.norm(normal, axis=-1)
        assert np.abs(length - 1).max() < 0.01  # 8-bit quantisation only
        assert (normal[..., 2] > 0).all()
        assert (image != FLAT).any(axis=-1).any()  # it has relief


def test_a_height_field_gives_flat_normals_where_flat_and_tilts_away_from_a_rise():
    """Checked against the surface (x, y, depth * h) and its normal (-dh/dx, -dh/dy, 1) with
    +Y up the image: OpenGL's convention, as glTF's normal maps use."""
    size, depth = 32, 4.0
    height = np.zeros((size, size))
    height[:, 8:24] = np.arange(16) / 64  # rising to the right over columns 8..23
    image = patterns.normal_map(height, depth)
    assert (image[:, :7] == FLAT).all() and (image[:, 25:] == FLAT).all()
    expected = np.array([-depth / 64, 0.0, 1.0]) / np.linalg.norm([depth / 64, 0, 1])
    assert (image[:, 9:23] == np.rint((expected * 0.5 + 0.5) * 255)).all()
    upward = patterns.normal_map(np.rot90(height), depth)  # rising towards the top row
    assert (upward[9:23, :, 1] < 128).all() and (upward[9:23, :, 0] == 128).all()


def test_tile_tops_are_flat_and_grout_is_rough():
    for seed in SEEDS:
        material = make("tiles", seed)
        grout = material.metallic_roughness_texture.image[..., 1] > 200
        assert 0.02 < grout.mean() < 0.4
        near = grout.copy()  # texels within 3 of the grout: the bevel
        for shift in range(1, 4):
            for axis in (0, 1):
                near |= np.roll(grout, shift, axis) | np.roll(grout, -shift, axis)
        normals = material.normal_texture.image
        assert (normals[~near] == FLAT).all()
        assert (normals[near & ~grout] != FLAT).any(axis=-1).any()


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of the runs of True in a 1-D mask, a run over the end joined to one
    at the start (the texture wraps)."""
    if mask.all():
        return [(0, len(mask))]
    start = int(np.argmin(mask))  # begin at a False so no run is cut in two
    rolled = np.roll(mask, -start)
    found, i = [], 0
    while i < len(rolled):
        if rolled[i]:
            j = i
            while j < len(rolled) and rolled[j]:
                j += 1
            found.append(((i + start) % len(mask), j - i))
            i = j
        else:
            i += 1
    return found


def linear_luminance(image: np.ndarray) -> np.ndarray:
    c = image.astype(float) / 255
    rgb = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return rgb @ [0.2126, 0.7152, 0.0722]


def test_planks_have_dark_seams_at_even_spacing_and_staggered_end_joints():
    """The seams found from the image alone: rows (or columns, for planks turned) whose mean
    brightness is far below the rest; between two seams, a plank row has two end joints."""
    orientations = set()
    for seed in range(8):
        material = make("wood_planks", seed)
        light = linear_luminance(material.base_color_texture.image)
        across = [axis for axis in (1, 0) if (light.mean(axis) < 0.4 * np.median(light)).any()]
        assert len(across) == 1, seed  # seams along one direction only
        if across == [0]:  # planks run down the image: turn them to run across
            light = light.T
            normals = np.swapaxes(material.normal_texture.image, 0, 1)
            orm = np.swapaxes(material.metallic_roughness_texture.image, 0, 1)
        else:
            normals, orm = material.normal_texture.image, material.metallic_roughness_texture.image
        orientations.add(across[0])
        profile = light.mean(1)
        seams = runs(profile < 0.4 * np.median(profile))
        assert 3 <= len(seams) <= 6 and all(length == 2 for _, length in seams)
        starts = sorted(start for start, _ in seams)
        gaps = np.diff([*starts, starts[0] + 256])
        assert gaps.max() - gaps.min() <= 1  # even spacing
        for start, _ in seams:  # sunken (normals tilt at its edges) and in shadow (occlusion)
            assert (normals[(start - 1) % 256] != FLAT).any(axis=-1).all()
            assert (orm[start, :, 0] < np.median(orm[(start + 3) % 256, :, 0])).all()
        for start, end in zip(starts, [*starts[1:], starts[0] + 256], strict=True):
            band = light[np.arange(start + 3, end - 1) % 256]
            joints = runs(band.mean(0) < 0.4 * np.median(band))
            assert len(joints) == 2, seed
    assert orientations == {0, 1}  # the grain's direction varies


@pytest.mark.parametrize("name", NAMES)
def test_a_material_is_the_same_for_a_seed_and_differs_between_seeds(name):
    assert make(name, 7).key == make(name, 7).key
    assert len({make(name, seed).base_color_texture.key for seed in SEEDS}) == len(SEEDS)


@pytest.mark.parametrize("name", NAMES)
def test_textures_tile(name):
    """Across the wrap, neighbouring texels differ no more than anywhere inside."""
    material = make(name, 3)
    textures = [material.base_color_texture, material.metallic_roughness_texture]
    for image in (t.image.astype(int) for t in textures):
        for axis in (0, 1):
            inside = np.abs(np.diff(image, axis=axis)).max()
            across = np.abs(image.take(0, axis) - image.take(-1, axis)).max()
            assert across <= inside


def test_value_noise_tiles_and_spans_zero_to_one():
    rng = np.random.default_rng(1)
    noise = patterns.value_noise(rng, 64, 4)
    assert noise.min() >= 0 and noise.max() <= 1
    twice = np.tile(noise, (2, 2))
    steps = [np.abs(np.diff(twice, axis=a)).max() for a in (0, 1)]
    inside = [np.abs(np.diff(noise, axis=a)).max() for a in (0, 1)]
    assert steps == inside  # the seam in the middle of the tiling is no step at all
    assert patterns.stretch(noise).min() == 0 and patterns.stretch(noise).max() == 1


def test_a_pool_makes_each_variant_once_from_the_seed_and_name_alone():
    pool = library.MaterialPool(["wood", "metal_polished"], seed=5, variants=3, size=32)
    rng = np.random.default_rng(0)
    drawn = [pool.draw(rng) for _ in range(200)]
    assert pool.made <= (4 + 1) * 3
    assert {m.name for m in drawn} == {*library.FAMILIES["wood"], "metal_polished"}
    polished = sum(m.name == "metal_polished" for m in drawn)
    assert 60 < polished < 140  # entries equally likely: half, not a fifth
    fresh = library.MaterialPool(["marble"], seed=5, variants=3, size=32)  # another process
    for variant in range(3):
        assert fresh.get("wood_oak", variant) is not pool.get("wood_oak", variant)
        assert fresh.get("wood_oak", variant).key == pool.get("wood_oak", variant).key
    other = library.MaterialPool(["wood"], seed=6, variants=3, size=32)
    assert other.get("wood_oak", 0).key != pool.get("wood_oak", 0).key


WORLD = """
[world]
seed = 4
[[spawners]]
type = "primitive"
shape = "box"
count = 3
size = 0.4
position = {{ uniform = [[-1, -1, 0.2], [1, 1, 0.2]] }}
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 10
[[randomizers]]
type = "surface_material"
targets = ["box"]
{params}
"""


def pipeline(tmp_path: Path, params: str) -> Pipeline:
    path = tmp_path / "world.toml"
    path.write_text(WORLD.format(params=params))
    world = load_world(path)
    return Pipeline(world, host_for(world))


def test_the_randomizer_gives_its_targets_library_materials_recorded_in_the_frame(tmp_path):
    built = pipeline(tmp_path, 'materials = ["wood", "tiles"]\nvariants = 2\nsize = 32')
    keys = set()
    for frame in range(12):
        scene = built.build_scene(frame)
        record = scene.record()
        for entity, entry in zip(scene.entities, record["entities"], strict=True):
            if entity.category == "box":
                assert entity.material is not None
                assert entity.material.name in {*library.FAMILIES["wood"], "tiles"}
                assert entry["material"] == entity.material.record()
                assert entry["material"]["name"] == entity.material.name
                keys.add((entity.material.name, entity.material.key))
            else:  # the floor is not a target
                assert entity.material is None and "material" not in entry
    assert len(keys) <= 5 * 2  # at most names x variants materials in the run
    assert len({name for name, _ in keys}) >= 3
    again = pipeline(tmp_path, 'materials = ["wood", "tiles"]\nvariants = 2\nsize = 32')
    alone = again.build_scene(7)  # frame 7 alone, as another worker would build it
    assert [e.material.key for e in alone.entities if e.material] == [
        e.material.key for e in built.build_scene(7).entities if e.material
    ]


def test_by_default_the_randomizer_draws_from_the_whole_library(tmp_path):
    built = pipeline(tmp_path, "variants = 1\nsize = 16")
    names = {e.material.name for frame in range(40) for e in built.build_scene(frame) if e.material}
    assert len(names) >= 10 and names <= set(NAMES)
    assert {"metal", "plastic", "wood", "stone", "fabric"} == {
        family for family, members in library.FAMILIES.items() if names & set(members)
    }


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            'materials = ["wood", "granite"]',
            "unknown material 'granite'; the library has concrete, fabric, marble, metal_brushed, metal_polished, painted, plastic_glossy, plastic_matte, rubber, rusted, tiles, wood_oak, wood_pine, wood_planks, wood_walnut; families: fabric, metal, plastic, stone, wood",
        ),
        ('materials = ["wod_oak"]', "unknown material 'wod_oak'; did you mean 'wood_oak'?"),
        ("materials = []", "name at least one material or family"),
        ("variants = 0", "variants: Input should be greater than or equal to 1"),
    ],
)
def test_a_bad_parameter_is_one_clear_error_naming_it(tmp_path, params, message):
    with pytest.raises(WorldError) as error:
        pipeline(tmp_path, params)
    assert "world.toml:" in str(error.value) and "randomizers[0]" in str(error.value)
    assert message in " ".join(str(error.value).split())
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["run", str(tmp_path / "world.toml"), "--out", str(out)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert not out.exists()  # nothing written
