"""USD stages as model files: written here with Pixar's library (usd-core, the `usd` extra),
read back by sim in metres and Z up, with their transforms, normals, uvs, colours and
UsdPreviewSurface materials; the rendered box is the authored points projected."""

import importlib
import json
import warnings

import numpy as np
import pytest
from PIL import Image
from pxr import Gf, Sdf, Usd, UsdGeom, UsdShade

import simulator.scene.models as models
from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.scene import transforms
from simulator.scene.models import MissingAssetWarning, read_model
from simulator.world.load import parse_world

# A 12 x 2 x 4 cm block, authored with Y up: 12 along x, 2 up (y), 4 along z.
HALF = np.array([6.0, 1.0, 2.0])
CORNERS = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)]) * HALF
QUADS = [[0, 1, 3, 2], [4, 6, 7, 5], [0, 4, 5, 1], [2, 3, 7, 6], [0, 2, 6, 4], [1, 5, 7, 3]]
TRANSLATE, TURN = np.array([3.0, 1.0, -2.0]), 30.0  # cm, and degrees about the stage's up (y)


def block_stage(path, *, up="Y", metres=0.01, texture=None, color=None):
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y if up == "Y" else UsdGeom.Tokens.z)
    UsdGeom.SetStageMetersPerUnit(stage, metres)
    xform = UsdGeom.Xform.Define(stage, "/part")
    xform.AddTranslateOp().Set(Gf.Vec3d(*TRANSLATE))
    xform.AddRotateYOp().Set(TURN)
    mesh = UsdGeom.Mesh.Define(stage, "/part/block")
    mesh.CreatePointsAttr([Gf.Vec3f(*p) for p in CORNERS])
    mesh.CreateFaceVertexCountsAttr([4] * 6)
    mesh.CreateFaceVertexIndicesAttr([i for quad in QUADS for i in quad])
    st = UsdGeom.PrimvarsAPI(mesh).CreatePrimvar(
        "st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.faceVarying
    )
    st.Set([Gf.Vec2f(u, v) for _ in QUADS for u, v in ((0, 0), (1, 0), (1, 1), (0, 1))])
    if color is not None:
        mesh.CreateDisplayColorPrimvar(UsdGeom.Tokens.vertex).Set([Gf.Vec3f(*c) for c in color])
    material = UsdShade.Material.Define(stage, "/part/look")
    shader = UsdShade.Shader.Define(stage, "/part/look/surface")
    shader.CreateIdAttr("UsdPreviewSurface")
    shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(0.5, 0.2, 0.05))
    shader.CreateInput("metallic", Sdf.ValueTypeNames.Float).Set(0.3)
    shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(0.4)
    if texture is not None:
        reader = UsdShade.Shader.Define(stage, "/part/look/image")
        reader.CreateIdAttr("UsdUVTexture")
        reader.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(texture)
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(
            reader.ConnectableAPI(), "rgb"
        )
    material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
    UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(material)
    stage.GetRootLayer().Save()
    return path


def expected_vertices(up="Y", metres=0.01) -> np.ndarray:
    """The corners as sim should place them, worked out here: turned about the stage's y,
    moved, to metres, and Y up turned to Z up ((x, y, z) -> (x, -z, y))."""
    a = np.radians(TURN)
    turn = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    world = (CORNERS @ turn.T + TRANSLATE) * metres
    if up == "Y":
        world = np.column_stack([world[:, 0], -world[:, 2], world[:, 1]])
    return world


def test_a_stage_lands_in_metres_z_up_with_its_transforms(tmp_path):
    mesh = read_model(block_stage(tmp_path / "part.usda"))
    assert len(mesh.triangles) == 12  # six quads, fanned
    want = expected_vertices()
    for corner in want:  # every corner is a vertex, and nothing else is
        assert np.linalg.norm(mesh.vertices - corner, axis=1).min() < 1e-6
    assert np.allclose(mesh.bounds()[0], want.min(0), atol=1e-6)
    assert np.allclose(mesh.bounds()[1], want.max(0), atol=1e-6)
    # faces wind outwards and the computed normals are the faces' own (flat: faceVarying uvs)
    v = mesh.vertices[mesh.triangles]
    face = np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0])
    centre = want.mean(0)
    assert (np.einsum("ij,ij->i", face, v.mean(1) - centre) > 0).all()
    n = mesh.normals[mesh.triangles].mean(1)
    assert (np.einsum("ij,ij->i", n, face) > 0).all()


def test_a_z_up_stage_in_metres_is_taken_as_it_is_and_a_unit_replaces_the_stages(tmp_path):
    path = block_stage(tmp_path / "z.usdc", up="Z", metres=1.0)
    mesh = read_model(path)
    assert np.allclose(mesh.bounds()[1], expected_vertices("Z", 1.0).max(0), atol=1e-6)
    millimetres = read_model(path, unit="mm")
    assert np.allclose(millimetres.bounds()[1], expected_vertices("Z", 0.001).max(0), atol=1e-9)


def test_the_preview_surface_and_display_colours_reach_the_material(tmp_path):
    colors = np.random.default_rng(2).random((8, 3))
    mesh = read_model(block_stage(tmp_path / "part.usda", color=colors))
    (group,) = mesh.groups
    material = group.material
    assert material is not None

    def srgb(c):
        c = np.asarray(c, float)
        return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)

    assert material.base_color == pytest.approx((*srgb([0.5, 0.2, 0.05]), 1.0), abs=1e-6)
    assert (material.metallic, material.roughness) == pytest.approx((0.3, 0.4))
    assert mesh.colors is not None
    want = expected_vertices()
    for vertex, color in zip(mesh.vertices, mesh.colors, strict=True):
        corner = np.linalg.norm(want - vertex, axis=1).argmin()
        assert color[:3] == pytest.approx(srgb(colors[corner]), abs=1e-6)


def test_a_texture_is_read_and_a_missing_one_warns(tmp_path):
    image = np.random.default_rng(1).integers(0, 255, (8, 8, 3), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "look.png")
    mesh = read_model(block_stage(tmp_path / "part.usda", texture="./look.png"))
    texture = mesh.groups[0].material.base_color_texture  # type: ignore[union-attr]
    assert texture is not None and np.array_equal(texture.image, image)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_model(block_stage(tmp_path / "gone.usda", texture="./nowhere.png"))
    assert any(issubclass(w.category, MissingAssetWarning) for w in caught)


def test_a_broken_stage_is_one_clear_error(tmp_path):
    bad = tmp_path / "bad.usda"
    bad.write_text('#usda 1.0\ndef Mesh "m" {\n  point3f[] points = [(0, 0, 0)\n')
    with pytest.raises(WorldError, match="cannot read this USD file"):
        read_model(bad)


WORLD = """
[world]
frames = 1
[camera]
resolution = [96, 72]
position = [0.16, -0.2, 0.12]
target = [0.03, -0.02, 0.02]
[[spawners]]
type = "model"
path = "part.usda"
hpr = [25, 10, 5]
position = [0.0, 0.02, -0.01]
"""


def test_the_rendered_box_is_the_stages_points_projected(tmp_path):
    block_stage(tmp_path / "part.usda")
    world = parse_world(WORLD, tmp_path / "world.toml")
    root = run(world, RunOptions(tmp_path / "out")).root
    record = json.loads((root / "frames.jsonl").read_text())
    (obj,) = record["objects"]
    (entity,) = record["scene"]["entities"]
    want = expected_vertices()
    assert entity["dimensions"] == pytest.approx(want.max(0) - want.min(0), abs=1e-6)
    pose = transforms.pose_matrix(entity["position"], entity["hpr"], entity["scale"])
    camera = record["camera"]
    uv = (
        transforms.project(
            transforms.transform_points(pose, want),
            np.array(camera["K"]),
            np.array(camera["cam_to_world"]),
        )[:, :2]
        + 0.5
    )
    x, y, w, h = obj["bbox"]
    assert w > 20 and h > 10
    assert abs(x - uv[:, 0].min()) <= 1 and abs(y - uv[:, 1].min()) <= 1
    assert abs(x + w - uv[:, 0].max()) <= 1 and abs(y + h - uv[:, 1].max()) <= 1


def test_without_the_usd_extra_a_usd_file_says_how_to_install_it(tmp_path, monkeypatch):
    real = importlib.import_module

    def without_pxr(name, *args):
        if name == "simulator.scene.usd":
            raise ModuleNotFoundError("No module named 'pxr'", name="pxr")
        return real(name, *args)

    monkeypatch.setattr(models.importlib, "import_module", without_pxr)
    with pytest.raises(WorldError, match=r'pip install "sim\[usd\]"'):
        read_model(block_stage(tmp_path / "part.usda"))
