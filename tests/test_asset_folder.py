"""model_folder: models from a directory, labeled by folder, file name or manifest."""

import json
from pathlib import Path

import pytest
from gltf_writer import stretched_box, write_glb
from test_models import write_bam

from simulator import meshes
from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.scene.scene import ModelAsset
from simulator.world.load import parse_world


@pytest.fixture
def folder(tmp_path) -> Path:
    root = tmp_path / "parts"
    (root / "bolts").mkdir(parents=True)
    (root / "nuts").mkdir()
    write_glb(stretched_box(), root / "bolts" / "hex_bolt.glb")
    write_bam(meshes.cylinder(), root / "bolts" / "carriage_bolt.bam")
    write_bam(meshes.torus(), root / "nuts" / "wing_nut.bam")
    return root


def world(tmp_path, label_by: str) -> str:
    return f"""
[world]
frames = 4
[camera]
resolution = [96, 72]
[[spawners]]
type = "model_folder"
folder = "parts"
label_by = "{label_by}"
count = 4
normalize = true
size = 0.8
[[randomizers]]
type = "scatter"
low = [-2.5, -2.5, 0.4]
high = [2.5, 2.5, 0.4]
"""


def file_of(entity) -> Path:
    """The model file an entity was drawn from: a Panda3D model's path, or the file named in
    the key of a mesh read through trimesh (`model:<path>@<unit>#...`)."""
    if isinstance(entity.mesh, ModelAsset):
        return Path(entity.mesh.path)
    return Path(entity.mesh.key.removeprefix("model:").rsplit("@", 1)[0])


def spawned(tmp_path, label_by: str):
    loaded = parse_world(world(tmp_path, label_by), tmp_path / "world.toml")
    pipeline = Pipeline(loaded, host_for(loaded))
    return pipeline, [pipeline.build_scene(i) for i in range(4)]


def test_labels_by_folder(folder, tmp_path):
    pipeline, scenes = spawned(tmp_path, "folder")
    assert pipeline.categories == ["bolts", "nuts"]
    for entity in (e for scene in scenes for e in scene.entities):
        assert file_of(entity).parent.name == entity.category
    assert {str(file_of(e)) for s in scenes for e in s.entities} == {
        str(p) for p in folder.rglob("*.*")
    }, "every model gets drawn over 16 draws"


def test_labels_by_file_name(folder, tmp_path):
    pipeline, scenes = spawned(tmp_path, "file")
    assert pipeline.categories == ["carriage_bolt", "hex_bolt", "wing_nut"]
    for entity in (e for scene in scenes for e in scene.entities):
        assert file_of(entity).name.split(".")[0] == entity.category


def test_labels_by_manifest(folder, tmp_path):
    (folder / "labels.json").write_text(
        json.dumps(
            {
                "bolts/hex_bolt.glb": "fastener",
                "bolts/carriage_bolt.bam": "fastener",
                "nuts/wing_nut.bam": "nut",
            }
        )
    )
    pipeline, _ = spawned(tmp_path, "manifest")
    assert pipeline.categories == ["fastener", "nut"]
    root = run(
        parse_world(world(tmp_path, "manifest"), tmp_path / "world.toml"),
        RunOptions(tmp_path / "out"),
    ).root
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    assert {o["category"] for r in records for o in r["objects"]} == {"fastener", "nut"}


def test_manifest_missing_a_model_is_named(folder, tmp_path):
    (folder / "labels.json").write_text(json.dumps({"bolts/hex_bolt.glb": "fastener"}))
    with pytest.raises(
        WorldError,
        match=r"gives no category to bolts/carriage_bolt\.bam, "
        r"nuts/wing_nut\.bam",
    ):
        spawned(tmp_path, "manifest")


def test_an_empty_folder_is_an_error(tmp_path):
    (tmp_path / "parts").mkdir()
    with pytest.raises(WorldError, match=r"no model files \(\.stl, \.ply, .*\) in .*parts"):
        spawned(tmp_path, "folder")


def test_keypoint_sidecars_label_folder_models(folder, tmp_path):
    for name in ("hex_bolt", "carriage_bolt"):
        (folder / "bolts" / f"{name}.keypoints.json").write_text(
            json.dumps(
                {
                    "keypoints": {"head": [0, 0, 0.5], "tip": [0, 0, -0.5]},
                    "skeleton": [["head", "tip"]],
                }
            )
        )
    pipeline, scenes = spawned(tmp_path, "folder")
    assert list(pipeline.keypoints) == ["bolts"]
    assert pipeline.keypoints["bolts"].names == ("head", "tip")
    for entity in (e for scene in scenes for e in scene.entities):
        assert set(entity.keypoints) == ({"head", "tip"} if entity.category == "bolts" else set())


def test_one_category_with_two_keypoint_schemas_is_refused(folder, tmp_path):
    (folder / "bolts" / "hex_bolt.keypoints.json").write_text(
        json.dumps({"keypoints": {"head": [0, 0, 0.5]}})
    )
    (folder / "bolts" / "carriage_bolt.keypoints.json").write_text(
        json.dumps({"keypoints": {"top": [0, 0, 0.5]}})
    )
    with pytest.raises(WorldError, match="models of one category need the same keypoint names"):
        spawned(tmp_path, "folder")
