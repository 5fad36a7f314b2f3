"""Materials, vertex colours, alpha and double-sided faces as the engine draws them: exact
pixels on a small buffer, against texture coordinates worked out by ray casting here."""

from dataclasses import replace

import numpy as np
import pytest
from small_frames import HEIGHT, WIDTH, camera

from simulator import meshes
from simulator.engine import Engine, renderer, shaders
from simulator.engine.materials import features
from simulator.scene.materials import Material, MeshGroup
from simulator.scene.meshes import TriangleMesh
from simulator.scene.patterns import normal_map
from simulator.scene.scene import CameraState, Entity, Film, Light, Scene
from simulator.scene.textures import TextureImage

# The quad: x in [-1, 1], z in [-0.75, 0.75] at y = 0, facing the camera on -Y.
HALF_X, HALF_Z = 1.0, 0.75
WALL = (0.2, 0.4, 0.6)


def unlit_scene() -> Scene:
    """Ambient light of 1 (a uniform environment) and mirror-smooth metals: a pixel shows
    its base colour (a mirror reflects all of a uniform light, tinted by its colour; no
    diffuse part, no light direction). The film encodes by the sRGB curve that colours are
    decoded by, so an sRGB colour comes out as it went in."""
    return Scene(
        camera(),
        lights=[Light("ambient", intensity=1.0)],
        background=np.zeros(3),
        film=Film(tone="linear"),
    )


def decode(srgb):
    """sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1), written out here."""
    c = np.asarray(srgb, float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def encode(linear):
    """Linear light in [0, 1] to the sRGB encoding, x 255 (IEC 61966-2-1)."""
    c = np.asarray(linear, float)
    return 255 * np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def quad(
    material: Material | None = None, colors=None, facing: bool = True, grouped: bool = True
) -> TriangleMesh:
    x, z = HALF_X, HALF_Z
    vertices = np.array([[-x, 0, -z], [x, 0, -z], [x, 0, z], [-x, 0, z]])
    triangles = np.array([[0, 1, 2], [0, 2, 3]] if facing else [[0, 2, 1], [0, 3, 2]])
    groups = (MeshGroup("quad", 0, 2, material),) if grouped else ()
    return TriangleMesh(
        vertices,
        np.tile([0.0, -1.0 if facing else 1.0, 0.0], (4, 1)),  # outwards, as wound
        triangles,
        np.array([[0, 0], [1, 0], [1, 1], [0, 1]]),
        colors=colors,
        groups=groups,
    )


def metal(**fields) -> Material:
    return Material(metallic=1.0, roughness=0.0, **fields)


def pixel_uvs() -> tuple[np.ndarray, np.ndarray]:
    """Each pixel centre's texture coordinates on the quad (rays cast through K), and whether
    the ray hits the quad."""
    cam = camera()
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    rays = np.linalg.inv(cam.K) @ np.stack([cols.ravel(), rows.ravel(), np.ones(cols.size)])
    pose = cam.cam_to_world()
    world = pose[:3, :3] @ rays
    t = -pose[1, 3] / world[1]
    hit = pose[:3, 3, None] + t * world
    u = (hit[0] + HALF_X) / (2 * HALF_X)
    v = (hit[2] + HALF_Z) / (2 * HALF_Z)
    inside = (u > 0) & (u < 1) & (v > 0) & (v < 1)
    return np.stack([u, v], -1).reshape(HEIGHT, WIDTH, 2), inside.reshape(HEIGHT, WIDTH)


def checker_image(squares: int = 4, size: int = 64) -> np.ndarray:
    """A texture whose squares all differ (so a flip or a shift shows)."""
    rng = np.random.default_rng(3)
    colors = rng.integers(20, 236, (squares, squares, 3), dtype=np.uint8)
    return np.repeat(np.repeat(colors, size // squares, 0), size // squares, 1)


def texels(image: np.ndarray, margin: float = 2.5):
    """The texel each pixel samples, and which pixels sample at least `margin` texels from
    any edge between squares (trilinear filtering, up to the 2 x 2 mipmap level at about a
    texel a pixel, mixes nothing there)."""
    uv, inside = pixel_uvs()
    size, squares = image.shape[0], 4
    col = uv[..., 0] * size
    row = (1 - uv[..., 1]) * size  # the image's top row is v = 1
    step = size / squares
    away = (np.abs((col + step / 2) % step - step / 2) > margin) & (
        np.abs((row + step / 2) % step - step / 2) > margin
    )
    index = np.clip(row.astype(int), 0, size - 1), np.clip(col.astype(int), 0, size - 1)
    return image[index], inside & away


def shows(pixels: np.ndarray, rgb) -> bool:
    """Whether pixels show this colour. Channels of 0 may come out up to 3: even a mirror
    reflects a little white at an angle (Fresnel: 1e-5 of the light at 25 degrees), and the
    sRGB curve is steep near black."""
    difference = np.abs(pixels.astype(int) - np.asarray(rgb))
    return bool((difference <= np.where(np.asarray(rgb) == 0, 3, 1)).all())


def render(engine: Engine, *entities: Entity, scene: Scene | None = None):
    scene = scene or unlit_scene()
    for entity in entities:
        scene.add(entity)
    return engine.render(scene)


def wall() -> Entity:
    """A matte metal wall behind the quad, of colour WALL."""
    return Entity(
        meshes.plane(),
        "wall",
        position=[0, 1, 0],
        hpr=[0, 90, 0],
        scale=[20, 20, 1],
        color=WALL,
        metallic=1.0,
        roughness=0.0,
    )


def test_a_checker_texture_is_sampled_at_the_right_texture_coordinates(small):
    image = checker_image()
    passes = render(small, Entity(quad(metal(base_color_texture=TextureImage(image))), "quad"))
    expected, where = texels(image)
    assert where.sum() > 500
    assert np.array_equal(passes.color[where], expected[where])


def test_a_base_colour_factor_multiplies_the_texture(small):
    image = checker_image()
    factor = (0.5, 1.0, 0.25, 1.0)
    material = metal(base_color=factor, base_color_texture=TextureImage(image))
    passes = render(small, Entity(quad(material), "quad"))
    expected, where = texels(image)
    # sRGB factor x sRGB texel: both decoded, multiplied, encoded again.
    product = encode(decode(expected / 255) * decode(factor[:3]))
    assert np.abs(passes.color[where] - product[where]).max() <= 1


def test_an_entity_texture_shows_on_groups_without_a_material_only(small):
    image = checker_image()
    texture = TextureImage(image)
    plain = render(
        small,
        Entity(
            quad(grouped=False), "q", texture=texture, color=[1, 1, 1], metallic=1.0, roughness=0.0
        ),
    )
    grouped = render(
        small,
        Entity(quad(None), "q", texture=texture, color=[1, 1, 1], metallic=1.0, roughness=0.0),
    )
    # A group without a material is drawn exactly as a mesh without groups.
    assert np.array_equal(plain.color, grouped.color)
    expected, where = texels(image)
    assert np.array_equal(plain.color[where], expected[where])
    # A material's group shows the material, not the entity's texture.
    own = render(small, Entity(quad(metal(base_color=(0, 1, 0, 1))), "q", texture=texture))
    _, inside = pixel_uvs()
    assert shows(own.color[inside], (0, 255, 0))


def test_vertex_colours_show_and_multiply_the_base_colour(small):
    # Two triangles of their own vertices: red on the lower right, green on the upper left.
    x, z = HALF_X, HALF_Z
    corners = np.array([[-x, 0, -z], [x, 0, -z], [x, 0, z], [-x, 0, -z], [x, 0, z], [-x, 0, z]])
    colors = np.array([[1, 0, 0, 1]] * 3 + [[0, 1, 0, 1]] * 3, float)
    uvs = (corners[:, [0, 2]] + [x, z]) / [2 * x, 2 * z]
    mesh = TriangleMesh(
        corners, np.tile([0, -1.0, 0], (6, 1)), [[0, 1, 2], [3, 4, 5]], uvs, colors=colors
    )
    uv, inside = pixel_uvs()
    # Pixels more than a pixel's width from the diagonal u = v.
    lower = inside & (uv[..., 0] - uv[..., 1] > 0.05)
    upper = inside & (uv[..., 1] - uv[..., 0] > 0.05)
    for entity in (
        Entity(mesh, "q", color=[1, 1, 1], metallic=1.0, roughness=0.0),
        Entity(replace(mesh, key="", groups=(MeshGroup("q", 0, 2, metal()),)), "q"),
    ):
        passes = render(small, entity)
        assert shows(passes.color[lower], (255, 0, 0))
        assert shows(passes.color[upper], (0, 255, 0))
    # The base colour scales them.
    half = metal(base_color=(0.5, 0.5, 0.5, 1))
    passes = render(small, Entity(replace(mesh, key="", groups=(MeshGroup("q", 0, 2, half),)), "q"))
    assert (np.abs(passes.color[lower].astype(int) - (128, 0, 0)) <= 1).all()


def test_vertex_colours_are_interpolated_in_linear_light(small):
    # Red along the bottom edge, green along the top: the linear mix of the two across.
    colors = np.array([[1, 0, 0, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0, 1, 0, 1]], float)
    passes = render(small, Entity(quad(metal(), colors=colors), "q"))
    uv, inside = pixel_uvs()
    v = np.clip(uv[..., 1], 0, 1)
    red, green = encode(1 - v), encode(v)
    color = passes.color.astype(float)
    assert np.abs(color[..., 0] - red)[inside].max() <= 2
    assert np.abs(color[..., 1] - green)[inside].max() <= 2


def alpha_bands(alphas: list[int]) -> np.ndarray:
    """A white RGBA texture in vertical bands of these alphas, left to right."""
    image = np.full((16, 16 * len(alphas), 4), 255, np.uint8)
    for i, alpha in enumerate(alphas):
        image[:, 16 * i : 16 * (i + 1), 3] = alpha
    return image


def band_pixels(count: int) -> list[np.ndarray]:
    """The pixels of each band of alpha_bands(count alphas), a texel from its edges."""
    uv, inside = pixel_uvs()
    position = uv[..., 0] * count
    away = np.abs(position - np.rint(position)) * 16 > 1
    return [inside & away & (position.astype(int) == i) for i in range(count)]


def test_alpha_mask_cuts_exactly_below_the_cutoff_in_colour_and_labels(small):
    alphas = [255, 140, 115, 0]  # cutoff 0.5 = 127.5 / 255: the first two stay
    texture = TextureImage(alpha_bands(alphas))
    material = metal(base_color_texture=texture, alpha_mode="MASK", alpha_cutoff=0.5)
    scene = unlit_scene()
    back = scene.add(wall())
    front = scene.add(Entity(quad(material), "quad"))
    passes = small.render(scene)
    alone = small.render_alone([[front.instance_id]])[0]
    wall_color = np.rint(np.array(WALL) * 255)
    for alpha, band in zip(alphas, band_pixels(len(alphas)), strict=True):
        assert band.sum() > 50
        if alpha / 255 >= 0.5:
            assert (passes.instance[band] == front.instance_id).all()
            assert (passes.color[band] == 255).all()  # white, opaque where it stays
            assert (np.abs(passes.depth[band] - 3.0) < 1e-3).all()
            assert (alone[band] == front.instance_id).all()
        else:
            assert (passes.instance[band] == back.instance_id).all()
            assert (np.abs(passes.color[band] - wall_color) <= 1).all()
            assert (np.abs(passes.depth[band] - 4.0) < 1e-3).all()
            assert (alone[band] == 0).all()
    # The same mask with a higher cutoff cuts the second band too.
    higher = replace(material, alpha_cutoff=0.6)
    cut = render(small, Entity(quad(higher), "quad"))
    assert (cut.instance[band_pixels(4)[1]] == 0).all()


@pytest.mark.parametrize("alpha", [0.25, 0.75])
def test_alpha_blend_mixes_the_colour_and_counts_in_labels_from_one_half(small, alpha):
    color = (1.0, 0.8, 0.0)
    material = metal(base_color=(*color, alpha), alpha_mode="BLEND")
    scene = unlit_scene()
    back = scene.add(wall())
    front = scene.add(Entity(quad(material), "quad"))
    passes = small.render(scene)
    alone = small.render_alone([[front.instance_id]])[0]
    behind = render(small, wall())
    opaque = render(small, wall(), Entity(quad(metal(base_color=(*color, 1.0))), "quad"))
    _, inside = pixel_uvs()
    # Blended in the 8-bit sRGB target: source x alpha + what is behind x (1 - alpha).
    mixed = np.array(color) * 255 * alpha + behind.color[inside] * (1 - alpha)
    assert np.abs(passes.color[inside] - mixed).max() <= 1
    labels = opaque if alpha >= 0.5 else behind
    for name in ("instance", "depth", "distance", "normal"):
        assert np.array_equal(getattr(passes, name), getattr(labels, name)), name
    assert (alone[inside] == (front.instance_id if alpha >= 0.5 else 0)).all()
    assert back.instance_id in passes.instance


def test_a_single_sided_back_face_is_culled_and_a_double_sided_one_drawn(small):
    _, inside = pixel_uvs()
    for material in (None, metal(base_color=(1, 0, 0, 1))):
        away = render(small, Entity(quad(material, facing=False), "q", metallic=1.0, roughness=0.0))
        assert not away.instance.any()
    two_sided = metal(base_color=(1, 0, 0, 1), double_sided=True)
    passes = render(small, Entity(quad(two_sided, facing=False), "q"))
    assert (passes.instance[inside] == 1).all() and not passes.instance[~inside].any()
    assert shows(passes.color[inside], (255, 0, 0))
    # Seen from behind, its normal is turned towards the camera.
    assert np.allclose(passes.normal[inside], [0, 0, -1], atol=1e-5)


def test_emissive_adds_light_in_the_dark(small):
    dark = Scene(camera(), lights=[], background=np.zeros(3))
    glowing = metal(base_color=(0, 0, 0, 1), emissive=(0.0, 0.5, 1.0))
    passes = render(small, Entity(quad(glowing), "q"), scene=dark)
    _, inside = pixel_uvs()
    assert (np.abs(passes.color[inside].astype(int) - (0, 128, 255)) <= 1).all()


def boxes_with(materials: list[Material | None], colors=None) -> TriangleMesh:
    """The box primitive in six groups (one per face), with these materials."""
    box = meshes.box()
    groups = tuple(MeshGroup(f"face{i}", 2 * i, 2, m) for i, m in enumerate(materials))
    return TriangleMesh(
        box.vertices, box.normals, box.triangles, box.uvs, colors=colors, groups=groups
    )


def test_labels_never_change_with_materials(small):
    rng = np.random.default_rng(7)
    photo = TextureImage(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    opaque_rgba = TextureImage(
        np.concatenate([rng.integers(0, 256, (32, 32, 3)), np.full((32, 32, 1), 255)], 2)
    )
    looks = [
        Material(base_color=(1, 0, 0, 1)),
        Material(base_color=(0.2, 0.9, 0.3, 1), roughness=0.1, metallic=1.0),
        Material(base_color_texture=photo, emissive=(0.3, 0.1, 0)),
        Material(base_color_texture=opaque_rgba, metallic_roughness_texture=photo),
        Material(occlusion_texture=photo, normal_texture=photo, double_sided=True),
        None,
    ]
    colors = rng.random((len(meshes.box().vertices), 4))
    variants = [
        Entity(meshes.box(), "box", color=[0.8, 0.8, 0.8]),
        Entity(boxes_with([None] * 6), "box", color=[0.1, 0.5, 0.9], texture=photo),
        Entity(boxes_with(looks), "box"),
        Entity(boxes_with(looks[::-1], colors=colors), "box", roughness=0.9),
        Entity(replace(meshes.box(), key="", colors=colors), "box"),
    ]
    results = []
    for entity in variants:
        scene = Scene(camera(), background=np.zeros(3))  # the default lights, shadows off
        scene.add(Entity(meshes.plane(), None, position=[0, 0, -0.6], scale=[8, 8, 1]))
        entity.position, entity.hpr = np.array([0.0, 0.0, 0.0]), np.array([30.0, 20.0, 10.0])
        scene.add(entity)
        passes = small.render(scene)
        results.append((passes, small.render_alone([[2]])[0]))
    first, first_alone = results[0]
    assert (first.instance == 2).sum() > 300
    for passes, alone in results[1:]:
        for name in ("instance", "depth", "distance", "normal"):
            assert np.array_equal(getattr(passes, name), getattr(first, name)), name
        assert np.array_equal(alone, first_alone)
    box_pixels = first.instance == 2
    for passes, _ in results[1:]:
        assert not np.array_equal(passes.color[box_pixels], first.color[box_pixels])


def test_a_mesh_with_materials_draws_its_plain_groups_exactly_as_a_plain_mesh(small):
    photo = TextureImage(checker_image())
    red = Material(base_color=(1, 0, 0, 1))

    def draw(mesh, scene=None):
        scene = scene or Scene(camera(), background=np.zeros(3))
        scene.add(Entity(mesh, "box", hpr=[30, 20, 10], texture=photo, roughness=0.3))
        return small.render(scene)

    # Which face each pixel shows: every face in its own flat colour.
    # Each face glows its own code in the dark (no light: nothing but the emission shows).
    codes = [Material(base_color=(0, 0, 0, 1), emissive=(i / 8, 0, 0)) for i in range(1, 7)]
    coded = draw(boxes_with(codes), Scene(camera(), lights=[], background=np.zeros(3)))
    face = np.rint(coded.color[..., 0] / 255 * 8).astype(int) - 1
    plain = draw(meshes.box())
    mixed = draw(boxes_with([red, None, None, red, None, None]))
    assert np.array_equal(plain.instance, mixed.instance)
    drawn = plain.instance == 1
    for i in range(6):
        pixels = drawn & (face == i)
        if i in (0, 3):
            assert (mixed.color[pixels][:, 1:] < 60).all()  # red
        else:
            assert np.array_equal(mixed.color[pixels], plain.color[pixels])
    assert len(set(face[drawn].tolist())) == 3  # three faces in view


def test_a_cut_out_casts_no_shadow_where_it_is_cut(small):
    def draw(alpha: int | None):
        scene = Scene(
            camera(),
            lights=[Light("directional", direction=[0.3, 0.4, -1], shadows=True)],
            background=np.zeros(3),
        )
        scene.camera.position, scene.camera.target = np.array([0, -3, 3.0]), np.zeros(3)
        scene.add(Entity(meshes.plane(), "floor", position=[0, 0, -0.5], scale=[6, 6, 1]))
        if alpha is not None:
            cut = TextureImage(alpha_bands([alpha]))
            material = metal(base_color_texture=cut, alpha_mode="MASK", double_sided=True)
            scene.add(Entity(quad(material), "quad", position=[0, 0, 0.5], hpr=[0, -90, 0]))
        return small.render(scene)

    empty, cut, kept = draw(None), draw(0), draw(255)
    assert np.array_equal(empty.color, cut.color) and np.array_equal(empty.instance, cut.instance)
    floor = empty.instance == 1
    shadowed = floor & (kept.instance == 1) & (kept.color.sum(-1) < empty.color.sum(-1) - 30)
    assert shadowed.sum() > 50


def flat_map(rgb) -> TextureImage:
    return TextureImage(np.full((4, 4, 3), rgb, np.uint8))


def test_the_metallic_roughness_map_scales_the_metallic(small):
    # Ambient light only: a metal shows its base colour; a dielectric reflects 4 % and
    # scatters the rest diffusely.
    _, inside = pixel_uvs()
    base = (0.6, 0.3, 0.1, 1.0)
    shown = {}
    for blue in (0, 255):
        material = metal(base_color=base, metallic_roughness_texture=flat_map((0, 128, blue)))
        shown[blue] = render(small, Entity(quad(material), "q")).color[inside].astype(float)
    linear = decode(base[:3])
    assert np.abs(shown[255] - np.array(base[:3]) * 255).max() <= 1
    assert np.abs(shown[0] - encode(0.96 * linear + 0.04)).max() <= 1


def test_the_occlusion_map_darkens_the_ambient_light(small):
    _, inside = pixel_uvs()
    strength = 0.5
    material = metal(occlusion_texture=flat_map((64, 255, 255)), occlusion_strength=strength)
    passes = render(small, Entity(quad(material), "q"))
    occlusion = 1 + strength * (64 / 255 - 1)  # linear data, not sRGB
    assert np.abs(passes.color[inside] - encode(occlusion)).max() <= 1


def test_a_material_names_the_features_its_variant_draws():
    checker = TextureImage(checker_image())
    orm = flat_map((64, 128, 255))
    assert features(Material()) == frozenset()
    found = features(
        Material(
            base_color_texture=checker,
            alpha_mode="MASK",
            metallic_roughness_texture=orm,
            occlusion_texture=orm,  # glTF's packing: the same image
            normal_texture=flat_map((128, 128, 255)),
            emissive=(0.1, 0, 0),
        )
    )
    assert found == {"base", "cutout", "mr", "orm", "normal", "emissive"}
    separate = Material(metallic_roughness_texture=orm, occlusion_texture=flat_map((9, 9, 9)))
    assert features(separate) == {"mr", "occlusion"}
    # a map that changes nothing needs no code
    assert features(Material(occlusion_texture=orm, occlusion_strength=0.0)) == frozenset()
    assert features(Material(normal_texture=orm, normal_scale=0.0)) == frozenset()


def test_each_material_renders_the_same_bytes_in_its_variant_as_with_every_feature(monkeypatch):
    """Variants leave out the blocks no material of theirs uses (shaders.material_parts):
    drawn instead with the variant of every feature, each material (and a mesh whose groups
    mix materials) gives the same image, byte for byte, under a light that casts shadows."""
    rng = np.random.default_rng(11)
    bumps = TextureImage(normal_map(rng.uniform(0, 1, (32, 32)), 3.0))
    orm = TextureImage(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
    checker = TextureImage(checker_image())
    materials = [
        Material(base_color=(0.8, 0.5, 0.2, 1.0)),
        Material(base_color_texture=checker, roughness=0.4),
        Material(base_color_texture=checker, alpha_mode="MASK", alpha_cutoff=0.5,
                 base_color=(1, 1, 1, 0.6)),
        Material(metallic_roughness_texture=orm, occlusion_texture=orm, metallic=1.0),
        Material(metallic_roughness_texture=orm, occlusion_texture=flat_map((90, 0, 0))),
        Material(normal_texture=bumps, roughness=0.3),
        Material(emissive=(0.3, 0.1, 0.0), emissive_texture=checker),
    ]  # fmt: skip

    def scene() -> Scene:
        cam = CameraState(160, 120, fov=60, position=[0, -6, 2.5], target=[0, 0, 0])
        lights = [Light("ambient", intensity=0.3), Light("directional", shadows=True)]
        scene = Scene(cam, lights=lights, background=np.zeros(3), film=Film(tone="aces"))
        for i, material in enumerate(materials):
            x = -3 + i
            scene.add(Entity(meshes.sphere(), "ball", position=[x, 0, 0], scale=[0.45] * 3,
                             material=material))  # fmt: skip
        two = quad()
        half = (MeshGroup("a", 0, 1, materials[5]), MeshGroup("b", 1, 1, materials[3]))
        scene.add(Entity(replace(two, groups=half, key=""), "mixed", position=[0, 1, 1.5]))
        return scene

    engine = Engine(160, 120)
    variants = engine.render(scene())
    every = frozenset(shaders.MATERIAL_FEATURES)
    monkeypatch.setattr(renderer, "_variant", lambda e: every if renderer_variant(e) else None)
    full = engine.render(scene())
    engine.close()
    assert len(np.unique(variants.instance)) == len(materials) + 2  # and the background
    assert (variants.instance > 0).sum() > 1500
    assert variants.color.tobytes() == full.color.tobytes()
    assert variants.instance.tobytes() == full.instance.tobytes()


renderer_variant = renderer._variant
