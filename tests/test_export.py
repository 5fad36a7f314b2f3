"""`sim export`: a frame as glTF 2.0, read back by independent readers.

Readers: pygltflib for the document (its JSON), with this file's own numpy reading of the
binary chunk and its own node-matrix walk (scipy for the root's quaternion); trimesh loading
the .glb as a second opinion on the geometry and uvs; Blender's glTF importer (the cycles
extra) for the camera's view. What is compared is computed here from sim's scene: each
entity's `matrix()` applied to its mesh's vertices, the camera's K and pose, the lights.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import panda3d
import pygltflib
import pytest
import trimesh
from PIL import Image
from scipy.spatial.transform import Rotation
from typer.testing import CliRunner

from simulator.capture.pipeline import Pipeline, host_for
from simulator.cli import app
from simulator.engine.geometry import GeometryCache
from simulator.errors import OutputError
from simulator.export.frame import export_frame
from simulator.export.gltf import scene_document
from simulator.run.replay import world_of
from simulator.run.runner import RunOptions, run
from simulator.scene import meshes, transforms
from simulator.scene.environment import Environment
from simulator.scene.materials import Material, MeshGroup
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import CameraState, Entity, Light, ModelAsset, Scene
from simulator.scene.textures import TextureImage
from simulator.world.load import load_world

runner = CliRunner()
TINY_WORLD = """
[world]
name = "tiny"
seed = 5
frames = 2

[camera]
resolution = [64, 48]

[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "torus"] }
count = 2

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
type = "color"

[[randomizers]]
type = "camera_orbit"

[[randomizers]]
type = "sky"
"""


# -- an independent reading of the file ---------------------------------------------------

_DTYPES = {5126: np.float32, 5125: np.uint32, 5123: np.uint16, 5121: np.uint8}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


class Glb:
    def __init__(self, path: Path) -> None:
        self.gltf = pygltflib.GLTF2().load(str(path))
        self.blob = self.gltf.binary_blob()
        self.json = json.loads(self.gltf.gltf_to_json())
        self.world = self._world_matrices()

    def accessor(self, index: int) -> np.ndarray:
        a = self.gltf.accessors[index]
        view = self.gltf.bufferViews[a.bufferView]
        width = _WIDTH[a.type]
        start = view.byteOffset + (a.byteOffset or 0)
        data = np.frombuffer(self.blob, _DTYPES[a.componentType], a.count * width, start)
        return data.reshape(a.count, width) if width > 1 else data

    def view_bytes(self, index: int) -> bytes:
        view = self.gltf.bufferViews[index]
        return self.blob[view.byteOffset : view.byteOffset + view.byteLength]

    def _world_matrices(self) -> dict[int, np.ndarray]:
        out: dict[int, np.ndarray] = {}

        def walk(index: int, parent: np.ndarray) -> None:
            node = self.gltf.nodes[index]
            local = np.eye(4)
            if node.matrix is not None:
                local = np.array(node.matrix, float).reshape(4, 4).T
            if node.rotation is not None:
                local[:3, :3] = Rotation.from_quat(node.rotation).as_matrix()
            out[index] = parent @ local
            for child in node.children or []:
                walk(child, out[index])

        for root in self.gltf.scenes[self.gltf.scene].nodes:
            walk(root, np.eye(4))
        return out

    def entity_nodes(self) -> dict[int, int]:
        """Node index by instance id."""
        return {
            n.extras["instance_id"]: i
            for i, n in enumerate(self.gltf.nodes)
            if n.extras and "instance_id" in n.extras
        }

    def node(self, name: str) -> int:
        return next(i for i, n in enumerate(self.gltf.nodes) if n.name == name)


def decode(srgb):
    """sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1), written out here."""
    c = np.asarray(srgb, float)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def sim_to_gltf(points: np.ndarray) -> np.ndarray:
    """sim's Z-up (x, y, z) is glTF's Y-up (x, z, -y)."""
    p = np.asarray(points, float)
    return np.column_stack([p[:, 0], p[:, 2], -p[:, 1]])


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points, float) @ matrix[:3, :3].T + matrix[:3, 3]


# -- a scene with every feature -----------------------------------------------------------


def _texture(seed: int, channels: int = 3, size: tuple[int, int] = (4, 6)) -> TextureImage:
    rng = np.random.default_rng(seed)
    return TextureImage(rng.integers(0, 256, (*size, channels), dtype=np.uint8))


def _scene() -> Scene:
    box = meshes.box()
    rng = np.random.default_rng(3)
    painted = Material(
        name="painted",
        base_color=(0.9, 0.5, 0.2, 0.8),
        base_color_texture=_texture(1, 4),
        metallic=0.7,
        roughness=0.3,
        metallic_roughness_texture=_texture(2),
        normal_texture=_texture(3),
        normal_scale=0.6,
        occlusion_texture=_texture(4),
        occlusion_strength=0.5,
        emissive=(0.5, 0.25, 0.0),
        emissive_texture=_texture(5),
        alpha_mode="MASK",
        alpha_cutoff=0.3,
        double_sided=True,
        texture_scale=(3.0, 2.0),
    )
    grouped = TriangleMesh(
        box.vertices,
        box.normals,
        box.triangles,
        box.uvs,
        colors=rng.random((len(box.vertices), 4)),
        groups=(MeshGroup("painted", 0, 4, painted), MeshGroup("rest", 4, 8, None)),
    )
    scene = Scene(
        CameraState(64, 48, fov=70, position=[3, -4, 2], target=[0, 0.5, 0.2], roll=10),
        lights=[
            Light("ambient", color=[0.5, 0.6, 1.0], intensity=0.2),
            Light("directional", intensity=0.9, direction=[-0.3, 0.5, -1.0], size=12.0),
            Light("point", color=[1.0, 0.8, 0.6], intensity=2.0, position=[1, 2, 3]),
            Light("spot", intensity=3.0, position=[0, -2, 4], direction=[0, 0.4, -1], angle=40),
            Light("spot", intensity=1.0, position=[2, 0, 1], direction=[-1, 0, 0], angle=120),
        ],
        environment=Environment(np.random.default_rng(4).random((8, 16, 3)), rotation=30.0),
    )
    scene.add(
        Entity(
            grouped,
            "part",
            position=[0.5, 0.2, 0.3],
            hpr=[30, 10, -20],
            scale=[1.0, 2.0, 0.5],
            color=[0.2, 0.4, 0.6],
            texture=_texture(6),
            roughness=0.8,
            metallic=0.1,
        )
    )
    whole = Material(name="whole", base_color=(0.1, 0.9, 0.3, 1.0), roughness=0.2)
    scene.add(Entity(meshes.sphere(), "ball", position=[-1, 0, 0.5], material=whole))
    scene.add(Entity(meshes.sphere(), "ball", position=[1, 1, 0.5], color=[1.0, 0.0, 0.0]))
    tiles = Material(name="tiles", base_color=(0.5, 0.5, 0.5, 1.0), base_color_texture=_texture(7))
    teapot = ModelAsset("models/teapot")
    scene.add(Entity(teapot, "teapot", position=[0, 1, 0], hpr=[90, 0, 0], material=tiles))
    return scene


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Scene, Glb, Path, list[str]]:
    scene = _scene()
    document, notes = scene_document(scene, GeometryCache().drawn)
    path = tmp_path_factory.mktemp("export") / "scene.glb"
    path.write_bytes(document.glb())
    return scene, Glb(path), path, notes


def _sim_vertices(entity: Entity) -> np.ndarray:
    """The entity's world-space vertices in sim, computed from its mesh and matrix()."""
    if isinstance(entity.mesh, TriangleMesh):
        vertices = entity.mesh.vertices
    else:
        vertices = GeometryCache().arrays(entity.mesh)[0]
    return apply(entity.matrix(), vertices)


def test_vertices_after_the_node_transforms_are_the_scenes_world_space_vertices(exported):
    scene, glb, path, _ = exported
    nodes = glb.entity_nodes()
    assert sorted(nodes) == [e.instance_id for e in scene.entities]
    for entity in scene.entities:
        node = glb.gltf.nodes[nodes[entity.instance_id]]
        mesh = glb.gltf.meshes[node.mesh]
        expected = sim_to_gltf(_sim_vertices(entity))
        for primitive in mesh.primitives:
            local = glb.accessor(primitive.attributes.POSITION)
            world = apply(glb.world[nodes[entity.instance_id]], local)
            np.testing.assert_allclose(world, expected, atol=1e-5)
        triangles = np.concatenate([glb.accessor(p.indices) for p in mesh.primitives])
        if isinstance(entity.mesh, TriangleMesh):
            np.testing.assert_array_equal(triangles, entity.mesh.triangles.ravel())
    # trimesh's reading of the same file: every geometry placed by the scene graph
    loaded = trimesh.load(path, process=False)
    by_id = {e.instance_id: e for e in scene.entities}
    placed = 0
    for node_name in loaded.graph.nodes_geometry:
        transform, geometry = loaded.graph[node_name]
        instance = int(node_name.split()[0])
        mesh = loaded.geometry[geometry]
        world = apply(transform, mesh.vertices)
        expected = sim_to_gltf(_sim_vertices(by_id[instance]))
        np.testing.assert_allclose(world, expected, atol=1e-5)
        placed += 1
    assert placed == 5  # the grouped box is two primitives, so two trimesh geometries


def test_normals_uvs_and_vertex_colours_keep_sims_values_in_gltfs_conventions(exported):
    scene, glb, path, _ = exported
    part = scene.entities[0]
    mesh = part.mesh
    assert isinstance(mesh, TriangleMesh) and mesh.colors is not None and mesh.uvs is not None
    node = glb.entity_nodes()[part.instance_id]
    primitive = glb.gltf.meshes[glb.gltf.nodes[node].mesh].primitives[0]
    np.testing.assert_allclose(glb.accessor(primitive.attributes.NORMAL), mesh.normals, atol=1e-6)
    # glTF's v runs down from the image's top row; sim's up from its bottom row
    uv = glb.accessor(primitive.attributes.TEXCOORD_0)
    np.testing.assert_allclose(uv, np.column_stack([mesh.uvs[:, 0], 1 - mesh.uvs[:, 1]]), atol=1e-7)
    colors = glb.accessor(primitive.attributes.COLOR_0)
    np.testing.assert_allclose(colors[:, :3], decode(mesh.colors[:, :3]), rtol=1e-6)
    np.testing.assert_allclose(colors[:, 3], mesh.colors[:, 3], rtol=1e-6)
    # trimesh flips glTF's v back on loading: it reads sim's own uvs
    loaded = trimesh.load(path, process=False)
    name = next(n for n in loaded.graph.nodes_geometry if n.startswith(f"{part.instance_id} "))
    geometry = loaded.geometry[loaded.graph[name][1]]
    np.testing.assert_allclose(geometry.visual.uv, mesh.uvs, atol=1e-6)


def test_materials_are_sims_factors_linearised_with_their_textures_embedded(exported):
    scene, glb, _, _ = exported
    part, whole, red, teapot = scene.entities
    materials = glb.json["materials"]

    def material_of(entity: Entity, primitive: int = 0) -> dict:
        node = glb.gltf.nodes[glb.entity_nodes()[entity.instance_id]]
        return materials[glb.gltf.meshes[node.mesh].primitives[primitive].material]

    painted = material_of(part, 0)
    pbr = painted["pbrMetallicRoughness"]
    np.testing.assert_allclose(pbr["baseColorFactor"], [*decode([0.9, 0.5, 0.2]), 0.8])
    assert (pbr["metallicFactor"], pbr["roughnessFactor"]) == (0.7, 0.3)
    np.testing.assert_allclose(painted["emissiveFactor"], decode([0.5, 0.25, 0.0]))
    assert painted["alphaMode"] == "MASK" and painted["alphaCutoff"] == 0.3
    assert painted["doubleSided"] is True
    assert painted["normalTexture"]["scale"] == 0.6
    assert painted["occlusionTexture"]["strength"] == 0.5
    sim_material = part.mesh.groups[0].material  # type: ignore[union-attr]
    maps = {
        "baseColorTexture": (pbr, sim_material.base_color_texture),
        "metallicRoughnessTexture": (pbr, sim_material.metallic_roughness_texture),
        "normalTexture": (painted, sim_material.normal_texture),
        "occlusionTexture": (painted, sim_material.occlusion_texture),
        "emissiveTexture": (painted, sim_material.emissive_texture),
    }
    for name, (holder, texture) in maps.items():
        info = holder[name]
        assert info["extensions"]["KHR_texture_transform"] == {
            "offset": [0.0, -1.0],
            "scale": [3.0, 2.0],
        }, name
        image = glb.gltf.images[glb.gltf.textures[info["index"]].source]
        assert image.mimeType == "image/png" and image.uri is None, name  # embedded
        pixels = np.asarray(Image.open(io.BytesIO(glb.view_bytes(image.bufferView))))
        np.testing.assert_array_equal(pixels, texture.image, err_msg=name)
    assert "KHR_texture_transform" in glb.json["extensionsUsed"]
    # the other group takes the entity's own look, single-sided
    look = material_of(part, 1)
    np.testing.assert_allclose(
        look["pbrMetallicRoughness"]["baseColorFactor"], [*decode([0.2, 0.4, 0.6]), 1.0]
    )
    assert look["pbrMetallicRoughness"]["roughnessFactor"] == 0.8
    assert look["pbrMetallicRoughness"]["metallicFactor"] == 0.1
    assert look["doubleSided"] is False and look["alphaMode"] == "OPAQUE"
    texture = glb.gltf.textures[look["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
    image = glb.gltf.images[texture.source]
    pixels = np.asarray(Image.open(io.BytesIO(glb.view_bytes(image.bufferView))))
    np.testing.assert_array_equal(pixels, part.texture.image)  # type: ignore[union-attr]
    # a whole-object material replaces the look; two spheres share one mesh's accessors
    np.testing.assert_allclose(
        material_of(whole)["pbrMetallicRoughness"]["baseColorFactor"],
        [*decode([0.1, 0.9, 0.3]), 1.0],
    )
    np.testing.assert_allclose(
        material_of(red)["pbrMetallicRoughness"]["baseColorFactor"], [1.0, 0.0, 0.0, 1.0]
    )
    nodes = glb.entity_nodes()
    spheres = [glb.gltf.meshes[glb.gltf.nodes[nodes[e.instance_id]].mesh] for e in (whole, red)]
    assert (
        spheres[0].primitives[0].attributes.POSITION == spheres[1].primitives[0].attributes.POSITION
    )
    # a Panda3D model comes as the engine draws it, with its material's maps: the teapot has
    # no texture coordinates, so the export's are 0, where the engine samples the maps too
    teapot_pbr = material_of(teapot)["pbrMetallicRoughness"]
    assert teapot_pbr["baseColorFactor"] == pytest.approx([*decode([0.5] * 3), 1.0])
    assert "baseColorTexture" in teapot_pbr
    # every primitive whose material reads a map has the uvs to read it by
    for mesh in glb.json["meshes"]:
        for primitive in mesh["primitives"]:
            material = json.dumps(materials[primitive["material"]])
            assert ('"index"' not in material) or "TEXCOORD_0" in primitive["attributes"]


def test_the_camera_has_the_frames_intrinsics_and_pose(exported):
    scene, glb, path, _ = exported
    camera = scene.camera
    node = glb.node("sim camera")
    perspective = glb.gltf.cameras[glb.gltf.nodes[node].camera].perspective
    fy = camera.K[1, 1]
    assert perspective.yfov == pytest.approx(2 * np.arctan(camera.height / 2 / fy), abs=1e-12)
    assert perspective.aspectRatio == pytest.approx(64 / 48)
    assert (perspective.znear, perspective.zfar) == (camera.near, camera.far)
    # glTF's camera looks down its -Z with +Y up: OpenCV's +Z forward, +Y down, turned
    pose = glb.world[node] @ np.diag([1.0, -1.0, -1.0, 1.0])
    np.testing.assert_allclose(pose[:3, 3], sim_to_gltf(camera.position[None])[0], atol=1e-9)
    np.testing.assert_allclose(
        pose[:3, :3], sim_to_gltf(camera.cam_to_world()[:3, :3].T).T, atol=1e-9
    )
    # the pose projects the scene's points where K does
    points = _sim_vertices(scene.entities[0])
    pixels = transforms.project(points, camera.K, camera.cam_to_world())[:, :2]
    in_camera = apply(np.linalg.inv(glb.world[node]), sim_to_gltf(points))  # -Z forward
    f = (48 / 2) / np.tan(perspective.yfov / 2)
    u = 64 / 2 - 0.5 + f * in_camera[:, 0] / -in_camera[:, 2]
    v = 48 / 2 - 0.5 - f * in_camera[:, 1] / -in_camera[:, 2]
    np.testing.assert_allclose(np.column_stack([u, v]), pixels, atol=1e-6)
    loaded = trimesh.load(path, process=False)
    assert loaded.camera.fov[1] == pytest.approx(transforms.vertical_fov(64, 48, 70.0), abs=1e-9)


def test_lights_are_khr_lights_punctual_in_photometric_units_and_ambient_is_an_extra(exported):
    scene, glb, _, notes = exported
    lights = glb.json["extensions"]["KHR_lights_punctual"]["lights"]
    assert [light["type"] for light in lights] == ["directional", "point", "spot", "spot"]
    punctual = [light for light in scene.lights if light.kind != "ambient"]
    for number, (light, item) in enumerate(zip(punctual, lights, strict=True)):
        assert item["intensity"] == pytest.approx(683 * np.pi * light.intensity)
        assert item["color"] == pytest.approx(light.color.tolist())
        node = next(
            i
            for i, n in enumerate(glb.gltf.nodes)
            if (n.extensions or {}).get("KHR_lights_punctual", {}).get("light") == number
        )
        world = glb.world[node]
        if light.kind in ("directional", "spot"):
            direction = light.direction / np.linalg.norm(light.direction)
            np.testing.assert_allclose(-world[:3, 2], sim_to_gltf(direction[None])[0], atol=1e-9)
        if light.kind in ("point", "spot"):
            np.testing.assert_allclose(
                world[:3, 3], sim_to_gltf(light.position[None])[0], atol=1e-9
            )
    spot = lights[2]["spot"]
    assert spot["outerConeAngle"] == pytest.approx(np.radians(40))
    assert np.cos(spot["innerConeAngle"]) == pytest.approx(np.cos(np.radians(40)) * 0.75 + 0.25)
    assert lights[3]["spot"]["outerConeAngle"] == pytest.approx(np.pi / 2)
    assert any("half-angle 120 degrees is written at 90" in note for note in notes)
    extras = glb.json["scenes"][0]["extras"]["sim"]
    assert extras["ambient"] == pytest.approx([0.1, 0.12, 0.2])
    assert not any("models/teapot" in note for note in notes)  # nothing of it is lost


def test_a_panda3d_model_keeps_its_smooth_normals_uvs_and_texture(tmp_path):
    """The bundled smiley, exported: its texture is the file Pillow reads from Panda3D's
    models folder, its uvs reach it, and its normals are unit vectors on the side of the
    faces that trimesh computes from the exported triangles (smooth: they vary per vertex)."""
    scene = Scene(camera=CameraState(64, 48))
    scene.add(Entity(ModelAsset("models/smiley"), "smiley", color=[1.0, 1.0, 1.0]))
    document, notes = scene_document(scene, GeometryCache().drawn)
    path = tmp_path / "smiley.glb"
    path.write_bytes(document.glb())
    glb = Glb(path)
    primitive = glb.gltf.meshes[0].primitives[0]
    normals = glb.accessor(primitive.attributes.NORMAL)
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    faces = glb.accessor(primitive.indices).reshape(-1, 3)
    mesh = trimesh.Trimesh(glb.accessor(primitive.attributes.POSITION), faces, process=False)
    agree = np.einsum("ij,ij->i", normals[faces].mean(axis=1), mesh.face_normals)
    assert (agree > 0).mean() > 0.99
    assert len(np.unique(np.round(normals, 3), axis=0)) > len(faces) / 4  # smooth, not flat
    uv = glb.accessor(primitive.attributes.TEXCOORD_0)
    assert uv.min() >= -1e-6 and uv.max() > 0.9
    material = glb.json["materials"][primitive.material]
    texture = glb.gltf.textures[material["pbrMetallicRoughness"]["baseColorTexture"]["index"]]
    image = glb.gltf.images[texture.source]
    pixels = np.asarray(Image.open(io.BytesIO(glb.view_bytes(image.bufferView))))
    models = Path(panda3d.__file__).parent / "models"
    np.testing.assert_array_equal(pixels, np.asarray(Image.open(models / "maps/smiley.rgb")))
    assert notes == []


# -- from a dataset, through the command line ---------------------------------------------


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("tiny")
    world = folder / "world.toml"
    world.write_text(textwrap.dedent(TINY_WORLD))
    return run(load_world(world), RunOptions(folder / "out", workers=1)).root


def test_sim_export_writes_the_frame_the_dataset_recorded(dataset, tmp_path):
    out = tmp_path / "scene.glb"
    result = runner.invoke(app, ["export", str(dataset), "--frame", "1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (frame 1: 4 entities, a camera, 1 light)" in result.stdout
    # the frame's scene, rebuilt here, is the one its record holds
    world = world_of(dataset)
    scene = Pipeline(world, host_for(world)).build_scene(1)
    record = json.loads((dataset / "frames.jsonl").read_text().splitlines()[1])
    assert record["frame"] == 1
    assert [e["position"] for e in record["scene"]["entities"]] == [
        e.record()["position"] for e in scene.entities
    ]
    glb = Glb(out)
    nodes = glb.entity_nodes()
    for entity in scene.entities:
        node = glb.gltf.nodes[nodes[entity.instance_id]]
        for primitive in glb.gltf.meshes[node.mesh].primitives:
            world_points = apply(
                glb.world[nodes[entity.instance_id]], glb.accessor(primitive.attributes.POSITION)
            )
            np.testing.assert_allclose(world_points, sim_to_gltf(_sim_vertices(entity)), atol=1e-5)
    camera = glb.world[glb.node("sim camera")] @ np.diag([1.0, -1.0, -1.0, 1.0])
    recorded = np.array(record["camera"]["cam_to_world"])
    np.testing.assert_allclose(camera[:3, 3], sim_to_gltf(recorded[None, :3, 3])[0], atol=1e-5)
    perspective = glb.gltf.cameras[0].perspective
    assert np.degrees(perspective.yfov) == pytest.approx(record["camera"]["fov_vertical"], abs=1e-5)
    assert perspective.aspectRatio == pytest.approx(64 / 48)
    # the sky: its image beside the .glb, named in the extras, read back by OpenCV
    extras = glb.json["scenes"][0]["extras"]["sim"]
    hdr = tmp_path / "scene_environment.hdr"
    assert extras["environment"]["image"] == hdr.name and extras["frame"] == 1
    assert extras["environment"]["rotation_degrees"] == pytest.approx(scene.environment.rotation)  # type: ignore[union-attr]
    image = cv2.imread(str(hdr), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)[..., ::-1]
    original = scene.environment.image  # type: ignore[union-attr]
    assert image.shape == original.shape
    # Radiance RGBE: an 8-bit mantissa per channel under the pixel's shared exponent
    bound = original.max(axis=2, keepdims=True) / 128
    assert np.all(np.abs(image - original) <= bound + 1e-12)


def test_sim_export_refuses_bad_input_with_one_line_and_writes_nothing(dataset, tmp_path):
    out = tmp_path / "scene.glb"

    def refused(*args: str) -> str:
        result = runner.invoke(app, ["export", *args])
        assert result.exit_code == 2, result.output
        assert list(tmp_path.iterdir()) == []
        return result.output

    assert "frame 7 is not in" in refused(str(dataset), "--frame", "7", "-o", str(out))
    assert "holds no sim dataset" in refused(str(tmp_path / "none"), "--frame", "0", "-o", str(out))
    assert "name a .glb file" in refused(
        str(dataset), "--frame", "0", "-o", str(tmp_path / "a.gltf")
    )
    blocker = tmp_path.parent / f"{tmp_path.name}-file"
    blocker.write_text("")
    message = refused(str(dataset), "--frame", "0", "-o", str(blocker / "scene.glb"))
    assert f"cannot write {blocker / 'scene.glb'}" in message and "not a writable folder" in message


def test_sim_export_runs_no_plugin_file_a_manifest_names_unless_trusted(dataset, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("manifest.json", "frames.jsonl"):
        (copy / name).write_text((dataset / name).read_text())
    (tmp_path / "plugin.py").write_text(
        'from pathlib import Path\nPath(__file__).with_name("ran").write_text("ran")\n'
    )
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["world"]["plugins"]["paths"] = [str(tmp_path / "plugin.py")]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    out = tmp_path / "scene.glb"
    result = runner.invoke(app, ["export", str(copy), "--frame", "0", "-o", str(out)])
    assert result.exit_code == 2 and "--trust-plugins" in result.output
    assert not (tmp_path / "ran").exists() and not out.exists()
    trusted = runner.invoke(
        app, ["export", str(copy), "--frame", "0", "-o", str(out), "--trust-plugins"]
    )
    assert trusted.exit_code == 0, trusted.output
    assert (tmp_path / "ran").read_text() == "ran" and out.is_file()


def test_a_scene_that_no_longer_matches_its_record_is_refused(dataset, tmp_path):
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "manifest.json").write_text((dataset / "manifest.json").read_text())
    lines = (dataset / "frames.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["scene"]["entities"][0]["position"][0] += 0.5
    (copy / "frames.jsonl").write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
    with pytest.raises(OutputError, match=r"differs from its record \(entity 1 position"):
        export_frame(copy, 0, tmp_path / "scene.glb")
    assert not (tmp_path / "scene.glb").exists()


BLENDER_VIEW = """
import json, math, sys
import bpy
from bpy_extras.object_utils import world_to_camera_view
from mathutils import Vector
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.gltf(filepath=sys.argv[1])
scene = bpy.context.scene
camera = next(o for o in scene.objects if o.type == "CAMERA")
scene.camera = camera
scene.render.resolution_x, scene.render.resolution_y = camera.data["width"], camera.data["height"]
corners = camera.data.view_frame(scene=scene)
half = max(abs(c.x) for c in corners) / abs(corners[0].z)
points = [list(world_to_camera_view(scene, camera, Vector(p))) for p in json.loads(sys.argv[2])]
lights = {o.name: [o.data.type, o.data.energy] for o in scene.objects if o.type == "LIGHT"}
print("RESULT", json.dumps({
    "hfov": math.degrees(2 * math.atan(half)),
    "matrix": [list(row) for row in camera.matrix_world],
    "points": points,
    "lights": lights,
}))
"""


def test_blender_imports_the_glb_with_the_same_view_and_light_strengths(exported):
    pytest.importorskip("bpy", reason="the cycles extra (pip install -e '.[cycles]')")
    scene, _, path, _ = exported
    camera = scene.camera
    points = _sim_vertices(scene.entities[0])
    done = subprocess.run(
        [sys.executable, "-c", BLENDER_VIEW, str(path), json.dumps(points.tolist())],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result["hfov"] == pytest.approx(camera.fov, abs=1e-3)
    # Blender's importer turns Y up back to Z up: the camera sits at sim's pose
    blender = camera.cam_to_world() @ np.diag([1.0, -1.0, -1.0, 1.0])
    np.testing.assert_allclose(np.array(result["matrix"]), blender, atol=1e-5)
    # its projection (x right, y up, from the bottom-left corner) is sim's K
    pixels = transforms.project(points, camera.K, camera.cam_to_world())[:, :2]
    view = np.array(result["points"])
    np.testing.assert_allclose(view[:, 0] * 64 - 0.5, pixels[:, 0], atol=1e-3)
    np.testing.assert_allclose((1 - view[:, 1]) * 48 - 0.5, pixels[:, 1], atol=1e-3)
    # 683 lm/W there and back: the strengths sim's Cycles backend gives the same lights
    strengths = sorted(result["lights"].values())
    expected = sorted(
        [
            ["SUN", np.pi * 0.9],
            ["POINT", 4 * np.pi**2 * 2.0],
            ["SPOT", 4 * np.pi**2 * 3.0],
            ["SPOT", 4 * np.pi**2 * 1.0],
        ]
    )
    for (kind, energy), (want_kind, want) in zip(strengths, expected, strict=True):
        assert kind == want_kind and energy == pytest.approx(want, rel=1e-5)
