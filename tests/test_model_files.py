"""Model files at their real size: each format read by sim equals the same file read by
trimesh on its own, after units and axes; materials, groups and colours come through; the
rendered object sits where its vertices project; bad files are one clear error each."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image
from trimesh.visual.material import PBRMaterial

from simulator import transforms
from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.scene import models
from simulator.scene.models import MissingAssetWarning, normalized, read_model
from simulator.world.load import parse_world

Y_UP = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # glTF (x, y, z) -> (x, -z, y)


def part_mm() -> trimesh.Trimesh:
    """A 120 x 40 x 20 mm box whose low corner is at (10, -5, 3) mm (not centred)."""
    box = trimesh.creation.box(extents=[120.0, 40.0, 20.0])
    box.apply_translation([70.0, 15.0, 13.0])
    return box


WRITERS = {
    "stl": lambda m, p: m.export(p),
    "stl_ascii": lambda m, p: m.export(p, file_type="stl_ascii"),
    "ply": lambda m, p: m.export(p),
    "obj": lambda m, p: m.export(p),
    "glb": lambda m, p: m.export(p),
    "off": lambda m, p: m.export(p),
}


def write(kind: str, mesh: trimesh.Trimesh, folder: Path, stem: str = "part") -> Path:
    path = folder / f"{stem}.{kind.split('_')[0]}"
    WRITERS[kind](mesh, path)
    return path


def canonical(corners: np.ndarray) -> np.ndarray:
    """Triangles as an order-free table: each triangle's sorted corners and its face normal
    (so winding counts), rows sorted."""
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    ordered = np.array([c[np.lexsort(c.T[::-1])] for c in corners.round(9)])
    rows = np.column_stack([ordered.reshape(len(corners), 9), normal.round(6)])
    return rows[np.lexsort(rows.T[::-1])]


def trimesh_corners(path: Path, scale: float) -> np.ndarray:
    """The file's triangles read by trimesh alone, in sim's axes and metres."""
    ref = trimesh.load_mesh(path, process=False)
    corners = np.asarray(ref.vertices)[np.asarray(ref.faces)] * scale
    return corners @ Y_UP.T if path.suffix == ".glb" else corners


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_each_format_reads_the_geometry_trimesh_reads_in_metres(kind, tmp_path):
    path = write(kind, part_mm(), tmp_path)
    mesh = read_model(path, "mm")
    expected = trimesh_corners(path, 0.001)
    assert np.allclose(canonical(mesh.vertices[mesh.triangles]), canonical(expected), atol=1e-6)
    low, high = mesh.bounds()
    size = [0.12, 0.02, 0.04] if kind == "glb" else [0.12, 0.04, 0.02]
    corner = [0.010, -0.023, -0.005] if kind == "glb" else [0.010, -0.005, 0.003]
    assert np.allclose(high - low, size, atol=1e-6)
    assert np.allclose(low, corner, atol=1e-6), "the file's origin is kept"
    assert np.allclose(np.linalg.norm(mesh.normals, axis=1), 1, atol=1e-5)
    assert [(g.first, g.count) for g in mesh.groups] == [(0, 12)]


def test_a_slow_read_is_reported_with_its_triangles_and_time(tmp_path, monkeypatch, capsys):
    path = write("ply", part_mm(), tmp_path)
    monkeypatch.setattr(models, "SLOW", 0.0)
    read_model(path, unit="mm")
    read_model(path, unit="mm")  # the same file again: from memory, not reported
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("note: read")]
    assert len(lines) == 1
    assert re.fullmatch(rf"note: read {re.escape(str(path))}: 12 triangles in \d+\.\d s", lines[0])


def test_flat_faces_get_flat_normals_where_the_file_has_none(tmp_path):
    mesh = read_model(write("stl", part_mm(), tmp_path), "mm")
    corners = mesh.vertices[mesh.triangles].astype(float)
    face = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    face /= np.linalg.norm(face, axis=1, keepdims=True)
    for i in range(3):  # every corner's normal is its face's (the box's edges are 90 degrees)
        assert np.allclose(mesh.normals[mesh.triangles[:, i]], face, atol=1e-6)


def test_units_scale_and_normalize_centres(tmp_path):
    path = write("stl", part_mm(), tmp_path)
    low_m, high_m = read_model(path, "cm").bounds()
    assert np.allclose(high_m - low_m, [1.2, 0.4, 0.2])
    low_in, high_in = read_model(path, "in").bounds()
    assert np.allclose(high_in - low_in, [3.048, 1.016, 0.508])
    low_x, high_x = read_model(path, 0.5).bounds()
    assert np.allclose(high_x - low_x, [60, 20, 10])
    low_n, high_n = normalized(read_model(path, "mm")).bounds()
    assert np.allclose(high_n - low_n, [1, 1 / 3, 1 / 6]) and np.allclose(low_n + high_n, 0)


def two_node_scene() -> tuple[trimesh.Scene, dict[str, np.ndarray]]:
    transforms_by_node = {
        "lid": trimesh.transformations.compose_matrix(
            translate=[0.3, 0.1, -0.2], angles=[0, np.pi / 2, 0]
        ),
        "cup": trimesh.transformations.compose_matrix(translate=[-0.2, 0.0, 0.05]),
    }
    scene = trimesh.Scene()
    for node, extents in (("lid", [0.2, 0.1, 0.05]), ("cup", [0.1, 0.1, 0.3])):
        box = trimesh.creation.box(extents=extents)
        scene.add_geometry(
            box, node_name=node, geom_name=node + "_mesh", transform=transforms_by_node[node]
        )
    return scene, transforms_by_node


def test_gltf_nodes_land_where_their_transforms_say(tmp_path):
    scene, node_transforms = two_node_scene()
    scene.export(tmp_path / "pair.glb")
    mesh = read_model(tmp_path / "pair.glb")
    assert sorted(g.name for g in mesh.groups) == ["cup", "lid"]
    for group in mesh.groups:
        extents = {"lid": [0.2, 0.1, 0.05], "cup": [0.1, 0.1, 0.3]}[group.name]
        box = trimesh.creation.box(extents=extents)
        local = np.asarray(box.vertices)[np.asarray(box.faces)]
        matrix = node_transforms[group.name]
        expected = (local @ matrix[:3, :3].T + matrix[:3, 3]) @ Y_UP.T
        triangles = mesh.triangles[group.first : group.first + group.count]
        assert np.allclose(canonical(mesh.vertices[triangles]), canonical(expected), atol=1e-6)


def test_obj_groups_and_mtl_materials_reach_the_groups(tmp_path):
    texture = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3) * 5
    Image.fromarray(texture).save(tmp_path / "wood.png")
    (tmp_path / "parts.mtl").write_text(
        "newmtl red\nKd 1 0 0\nNs 98\nnewmtl wood\nKd 0.5 0.5 0.5\nd 0.5\nmap_Kd wood.png\n"
    )
    (tmp_path / "parts.obj").write_text(
        "mtllib parts.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\n"
        "vt 0 0\nvt 1 0\nvt 1 1\n"
        "g base\nusemtl red\nf 1 2 3\nf 1 3 4\ng lid\nusemtl wood\nf 1/1 2/2 6/3\n"
    )
    mesh = read_model(tmp_path / "parts.obj")
    groups = {g.name: g for g in mesh.groups}
    assert set(groups) == {"base", "lid"}
    assert groups["base"].count == 2 and groups["lid"].count == 1
    red, wood = groups["base"].material, groups["lid"].material
    assert red.base_color == (1.0, 0.0, 0.0, 1.0) and red.base_color_texture is None
    assert red.roughness == pytest.approx((2 / 100) ** 0.25)  # trimesh's Ns conversion
    assert wood.base_color == pytest.approx((128 / 255,) * 3 + (0.5,))  # trimesh keeps 8 bits
    assert wood.alpha_mode == "BLEND"
    assert np.array_equal(wood.base_color_texture.image, texture)
    lid = mesh.triangles[groups["lid"].first]
    assert sorted(map(tuple, mesh.uvs[lid].round(6))) == [(0, 0), (1, 0), (1, 1)]


def test_a_missing_texture_warns_once_and_keeps_the_colour_factor(tmp_path):
    (tmp_path / "lost.mtl").write_text("newmtl blue\nKd 0 0 1\nmap_Kd nothere.png\n")
    (tmp_path / "lost.obj").write_text(
        "mtllib lost.mtl\nv 0 0 0\nv 1 0 0\nv 1 1 0\nusemtl blue\nf 1 2 3\n"
    )
    with pytest.warns(MissingAssetWarning, match=r"lost\.obj names 'nothere\.png'") as caught:
        mesh = read_model(tmp_path / "lost.obj")
        read_model(tmp_path / "lost.obj")  # read once: no second warning
    assert len(caught) == 1
    (group,) = mesh.groups
    assert group.material.base_color == (0.0, 0.0, 1.0, 1.0)
    assert group.material.base_color_texture is None


def test_ply_vertex_colours_reach_colors(tmp_path):
    box = part_mm()
    rgba = np.random.default_rng(3).integers(0, 256, (8, 4)).astype(np.uint8)
    rgba[:, 3] = 255
    box.visual.vertex_colors = rgba
    path = write("ply", box, tmp_path)
    mesh = read_model(path, "mm")
    assert mesh.colors is not None
    by_position = {
        tuple((v * 0.001).round(6)): c / 255 for v, c in zip(box.vertices, rgba, strict=True)
    }
    for vertex, color in zip(mesh.vertices.astype(float), mesh.colors, strict=True):
        assert np.allclose(color, by_position[tuple(vertex.round(6))], atol=1e-6)
    assert mesh.groups[0].material is not None, "a painted scan shows its own colours"


def srgb(linear: np.ndarray) -> np.ndarray:
    linear = np.asarray(linear, float)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def test_gltf_material_factors_and_maps_reach_the_group(tmp_path):
    rng = np.random.default_rng(5)
    images = {k: rng.integers(0, 256, (4, 4, 3), dtype=np.uint8) for k in "bmnoe"}
    base = rng.integers(0, 256, (4, 4, 4), dtype=np.uint8)
    box = trimesh.creation.box()
    box.unmerge_vertices()
    uv = rng.random((len(box.vertices), 2))
    box.visual = trimesh.visual.TextureVisuals(
        uv=uv,
        material=PBRMaterial(
            name="painted",
            baseColorFactor=[0.5, 0.25, 1.0, 0.8],
            baseColorTexture=Image.fromarray(base, "RGBA"),
            metallicFactor=0.25,
            roughnessFactor=0.75,
            metallicRoughnessTexture=Image.fromarray(images["m"]),
            normalTexture=Image.fromarray(images["n"]),
            occlusionTexture=Image.fromarray(images["o"]),
            emissiveFactor=[0.2, 0.4, 0.6],
            emissiveTexture=Image.fromarray(images["e"]),
            alphaMode="MASK",
            alphaCutoff=0.3,
            doubleSided=True,
        ),
    )
    box.export(tmp_path / "painted.glb")
    (group,) = read_model(tmp_path / "painted.glb").groups
    material = group.material
    factor = np.round(np.array([0.5, 0.25, 1.0, 0.8]) * 255) / 255  # trimesh keeps 8 bits
    assert np.allclose(material.base_color[:3], srgb(factor[:3]), atol=1e-6)
    assert material.base_color[3] == pytest.approx(factor[3])
    assert (material.metallic, material.roughness) == (0.25, 0.75)
    assert np.allclose(material.emissive, srgb([0.2, 0.4, 0.6]), atol=1e-6)
    assert (material.alpha_mode, material.alpha_cutoff, material.double_sided) == (
        "MASK",
        pytest.approx(0.3),
        True,
    )
    assert np.array_equal(material.base_color_texture.image, base)
    assert np.array_equal(material.metallic_roughness_texture.image, images["m"])
    assert np.array_equal(material.normal_texture.image, images["n"])
    assert np.array_equal(material.occlusion_texture.image, images["o"])
    assert np.array_equal(material.emissive_texture.image, images["e"])


WORLD = """
[world]
frames = 1
[camera]
resolution = [96, 72]
position = [0.16, -0.2, 0.12]
target = [0.07, 0.02, 0.01]
[[spawners]]
type = "model"
path = "{path}"
unit = "mm"
hpr = [25, 10, 5]
position = [0.0, 0.02, -0.01]
"""


@pytest.mark.parametrize("kind", ["stl", "ply", "obj", "glb", "off"])
def test_the_rendered_box_is_the_files_vertices_projected(kind, tmp_path):
    path = write(kind, part_mm(), tmp_path)
    world = parse_world(WORLD.format(path=path.name), tmp_path / "world.toml")
    root = run(world, RunOptions(tmp_path / "out")).root
    record = json.loads((root / "frames.jsonl").read_text())
    (obj,) = record["objects"]
    (entity,) = record["scene"]["entities"]
    size = [0.12, 0.02, 0.04] if kind == "glb" else [0.12, 0.04, 0.02]
    assert entity["dimensions"] == pytest.approx(size, abs=1e-6)
    assert entity["scale"] == [1.0, 1.0, 1.0]
    pose = transforms.pose_matrix(entity["position"], entity["hpr"], entity["scale"])
    corners = trimesh_corners(path, 0.001).reshape(-1, 3)
    camera = record["camera"]
    uv = (
        transforms.project(
            transforms.transform_points(pose, corners),
            np.array(camera["K"]),
            np.array(camera["cam_to_world"]),
        )[:, :2]
        + 0.5
    )
    x, y, w, h = obj["bbox"]
    assert w > 30 and h > 10, "the part fills a good share of the frame"
    # A pixel is drawn when its centre is inside the silhouette: each edge within one pixel.
    assert abs(x - uv[:, 0].min()) <= 1 and abs(y - uv[:, 1].min()) <= 1
    assert abs(x + w - uv[:, 0].max()) <= 1 and abs(y + h - uv[:, 1].max()) <= 1


def spawn(tmp_path: Path, spawner: str, frames: int = 1):
    text = f"[world]\nframes = {frames}\n[camera]\nresolution = [64, 48]\n{spawner}"
    world = parse_world(text, tmp_path / "world.toml")
    pipeline = Pipeline(world, host_for(world))
    return pipeline, [pipeline.build_scene(i) for i in range(frames)]


def test_keypoints_in_file_units_are_mapped_like_the_mesh(tmp_path):
    write("stl", part_mm(), tmp_path)
    (tmp_path / "part.keypoints.json").write_text(
        json.dumps({"keypoints": {"tip": [130.0, 15.0, 23.0], "heel": [10.0, -5.0, 3.0]}})
    )
    _, (scene,) = spawn(tmp_path, '[[spawners]]\ntype = "model"\npath = "part.stl"\nunit = "mm"')
    (entity,) = scene.entities
    assert np.allclose(entity.keypoints["tip"], [0.13, 0.015, 0.023])
    assert np.allclose(entity.keypoints["heel"], [0.01, -0.005, 0.003])
    _, (scene,) = spawn(
        tmp_path,
        '[[spawners]]\ntype = "model"\npath = "part.stl"\nnormalize = true\nsize = 0.6',
    )
    (entity,) = scene.entities
    # normalised: centred on the box's centre (70, 15, 13) mm, longest side (120 mm) 1
    assert np.allclose(entity.keypoints["tip"], [60 / 120, 0, 10 / 120])
    low, high = entity.bounds()
    assert np.allclose((high - low) * entity.scale, [0.6, 0.2, 0.1])


def test_size_without_normalize_is_refused_for_real_size_files(tmp_path):
    write("stl", part_mm(), tmp_path)
    with pytest.raises(WorldError, match=r"world\.toml:\d+: .*part\.stl keeps its real size"):
        spawn(tmp_path, '[[spawners]]\ntype = "model"\npath = "part.stl"\nsize = 0.5')


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("trunc.stl", None, r"trunc\.stl: the model file has no triangles that could be read"),
        (
            "junk.glb",
            b"not a glb at all, just bytes" * 4,
            r"junk\.glb: cannot read this model file: ",
        ),
        (
            "short.ply",
            b"ply\nformat binary_little_endian 1.0\nelement vertex 5\nproperty float x\nend_header\n\0",
            r"short\.ply: cannot read this model file: ",
        ),
        (
            "points.obj",
            b"v 0 0 0\nv 1 0 0\nv 0 1 0\n",
            r"points\.obj: the model file has no triangles",
        ),
        ("part.xyz", b"0 0 0\n", r"part\.xyz: unknown model file extension '\.xyz'"),
    ],
)
def test_bad_files_are_one_clear_error(name, content, message, tmp_path):
    path = tmp_path / name
    if content is None:  # a binary STL cut in half
        data = part_mm().export(file_type="stl")
        content = data[: len(data) // 2]
    path.write_bytes(content)
    with pytest.raises(WorldError, match=message):
        read_model(path)


def test_a_unit_that_does_not_exist_is_refused(tmp_path):
    path = write("stl", part_mm(), tmp_path)
    with pytest.raises(
        WorldError, match=r"part\.stl: unknown unit 'furlong' \(one of m, cm, mm, in"
    ):
        read_model(path, "furlong")
    with pytest.raises(WorldError, match=r"world\.toml:\d+: .*unknown unit 'furlong'"):
        spawn(tmp_path, '[[spawners]]\ntype = "model"\npath = "part.stl"\nunit = "furlong"')


def test_a_broken_model_stops_sim_run_before_anything_is_written(tmp_path):
    from typer.testing import CliRunner

    from simulator.cli import app

    (tmp_path / "part.stl").write_bytes(b"solid broken\nfacet normal 0 0 1\n")
    (tmp_path / "world.toml").write_text('[[spawners]]\ntype = "model"\npath = "part.stl"\n')
    result = CliRunner().invoke(
        app, ["run", str(tmp_path / "world.toml"), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert "part.stl: the model file has no triangles" in result.output.replace("\n", "")
    assert not (tmp_path / "out").exists()


def library(tmp_path: Path) -> Path:
    root = tmp_path / "parts"
    root.mkdir()
    write("stl", part_mm(), root, "plate")
    write("obj", trimesh.creation.box(extents=[3.0, 2.0, 1.0]), root, "bracket")
    (root / "models.json").write_text(
        json.dumps(
            {
                "unit": "mm",
                "license": "CC-BY-4.0",
                "source": "https://example.com/parts",
                "attribution": "ACME Parts",
                "models": {"plate.stl": {"category": "plate"}},
            }
        )
    )
    (root / "bracket.json").write_text(
        json.dumps({"unit": "cm", "license": "CC0-1.0", "category": "bracket"})
    )
    return root


FOLDER = '[[spawners]]\ntype = "model_folder"\nfolder = "{folder}"\ncount = 4\n'


def test_manifests_give_each_file_its_category_unit_and_license(tmp_path):
    library(tmp_path)
    pipeline, scenes = spawn(tmp_path, FOLDER.format(folder="parts"), frames=3)
    assert pipeline.categories == ["bracket", "plate"]
    sizes = {"plate": [0.12, 0.04, 0.02], "bracket": [0.03, 0.02, 0.01]}  # mm; cm
    for entity in (e for s in scenes for e in s.entities):
        assert np.allclose(entity.dimensions(), sizes[entity.category])
    assert {a["category"]: (a["unit"], a["license"]) for a in pipeline.assets} == {
        "plate": ("mm", "CC-BY-4.0"),
        "bracket": ("cm", "CC0-1.0"),
    }


def test_the_dataset_manifest_lists_every_asset_with_its_license(tmp_path):
    root = library(tmp_path)
    text = f"[world]\nframes = 1\n[camera]\nresolution = [48, 36]\n{FOLDER.format(folder='parts')}"
    out = run(parse_world(text, tmp_path / "world.toml"), RunOptions(tmp_path / "out")).root
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["assets"], key=lambda a: a["path"]) == [
        {
            "spawner": "model_folder",
            "path": str(root / "bracket.obj"),
            "category": "bracket",
            "unit": "cm",
            "license": "CC0-1.0",
            "source": "https://example.com/parts",
            "attribution": "ACME Parts",
        },
        {
            "spawner": "model_folder",
            "path": str(root / "plate.stl"),
            "category": "plate",
            "unit": "mm",
            "license": "CC-BY-4.0",
            "source": "https://example.com/parts",
            "attribution": "ACME Parts",
        },
    ]


def test_a_bad_manifest_is_named(tmp_path):
    root = library(tmp_path)
    (root / "bracket.json").write_text(json.dumps({"licence": "CC0-1.0"}))
    with pytest.raises(WorldError, match=r"bracket\.json: unknown key 'licence'"):
        spawn(tmp_path, FOLDER.format(folder="parts"))
    (root / "bracket.json").write_text(json.dumps({"unit": "yard"}))
    with pytest.raises(WorldError, match=r"bracket\.json: unknown unit 'yard'"):
        spawn(tmp_path, FOLDER.format(folder="parts"))


def test_a_bop_models_folder_is_a_library_of_object_ids_in_millimetres(tmp_path):
    models = tmp_path / "lm" / "models"
    models.mkdir(parents=True)
    sizes = {1: [120.0, 40.0, 20.0], 2: [30.0, 30.0, 60.0]}
    info = {}
    for obj_id, extents in sizes.items():
        write("ply", trimesh.creation.box(extents=extents), models, f"obj_{obj_id:06d}")
        low = [-e / 2 for e in extents]
        info[str(obj_id)] = {
            "diameter": float(np.linalg.norm(extents)),
            **{f"min_{a}": v for a, v in zip("xyz", low, strict=True)},
            **{f"size_{a}": v for a, v in zip("xyz", extents, strict=True)},
        }
    (models / "models_info.json").write_text(json.dumps(info))
    pipeline, scenes = spawn(tmp_path, FOLDER.format(folder="lm"), frames=3)
    assert pipeline.categories == ["obj_000001", "obj_000002"]
    for entity in (e for s in scenes for e in s.entities):
        entry = info[str(int(entity.category.split("_")[1]))]
        expected = np.array([entry[f"size_{a}"] for a in "xyz"]) / 1000
        assert np.allclose(entity.dimensions(), expected)
    assert {a["unit"] for a in pipeline.assets} == {"mm"}
    (models / "obj_000002.ply").unlink()
    with pytest.raises(
        WorldError, match=r"models_info\.json lists objects without model files: obj_000002\.ply"
    ):
        spawn(tmp_path, FOLDER.format(folder="lm"))


def test_ply_texture_coordinates_and_texture_reach_the_mesh(tmp_path):
    rng = np.random.default_rng(2)
    box = part_mm()
    box.unmerge_vertices()
    uv = rng.random((len(box.vertices), 2))
    texture = rng.integers(0, 256, (4, 4, 3), dtype=np.uint8)
    Image.fromarray(texture).save(tmp_path / "scan.png")
    box.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(texture))
    text = trimesh.exchange.ply.export_ply(box, encoding="ascii").decode()
    text = text.replace("format ascii 1.0\n", "format ascii 1.0\ncomment TextureFile scan.png\n")
    (tmp_path / "scan.ply").write_text(text)
    mesh = read_model(tmp_path / "scan.ply", "mm")
    (group,) = mesh.groups
    assert np.array_equal(group.material.base_color_texture.image, texture)
    expected = trimesh_corners(tmp_path / "scan.ply", 0.001)
    assert np.allclose(canonical(mesh.vertices[mesh.triangles]), canonical(expected), atol=1e-6)

    def table(positions, uvs, faces):
        """Each triangle's corners as (x, y, z, u, v) rows, sorted: order-free."""
        corners = np.concatenate([positions[faces], uvs[faces]], axis=2).astype(float).round(5)
        rows = np.array([c[np.lexsort(c.T[::-1])].ravel() for c in corners])
        return rows[np.lexsort(rows.T[::-1])]

    expected_table = table(np.asarray(box.vertices) * 0.001, uv, np.asarray(box.faces))
    assert np.allclose(table(mesh.vertices, mesh.uvs, mesh.triangles), expected_table, atol=1e-5)
