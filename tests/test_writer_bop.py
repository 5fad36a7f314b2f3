"""The bop writer read back as the BOP toolkit's format docs define the files: models loaded
with trimesh and posed with cam_R_m2c / cam_t_m2c land on the masks, cameras and masks
match sim's records and passes, models_info against the model's own vertices."""

import json
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image
from scipy.spatial import ConvexHull
from scipy.spatial.transform import Rotation
from writer_runs import assert_same_bytes_across_workers_and_resume

from sim_plugins.bop import BopParams, BopWriter
from simulator import PluginError
from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

WORLD = """
[world]
name = "bop"
seed = 21
frames = 6
[camera]
resolution = [160, 120]
[[spawners]]
type = "primitive"
shape = { choice = ["box", "cylinder", "torus"] }
count = { range = [3, 5] }
size = 0.7
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
[[randomizers]]
type = "position"
targets = ["primitive"]
position = { uniform = [[-1.5, -1.5, 0.4], [1.5, 1.5, 1.2]] }
[[randomizers]]
type = "rotation"
targets = ["primitive"]
uniform_3d = true
[[randomizers]]
type = "camera_orbit"
[output]
labels = ["boxes", "masks", "visibility", "amodal_masks", "boxes3d", "instance", "depth"]
"""


def write_world(
    tmp_path: Path, writer: str = '{ type = "bop", frames_per_scene = 4 }', world: str = WORLD
) -> Path:
    path = tmp_path / "world.toml"
    path.write_text(textwrap.dedent(world) + f'writers = ["native", {writer}]\n')
    return path


def render(tmp_path: Path, **kw) -> Path:
    return run(load_world(write_world(tmp_path, **kw)), RunOptions(tmp_path / "out")).root


def records(root: Path) -> dict[int, dict]:
    lines = (root / "frames.jsonl").read_text().splitlines()
    return {r["frame"]: r for r in map(json.loads, lines)}


def scene_files(root: Path) -> dict[int, tuple[Path, dict, dict, dict]]:
    """Per image id: its scene folder and its entries of the three scene JSON files."""
    out = {}
    for folder in sorted((root / "bop/train_pbr").iterdir()):
        files = [
            json.loads((folder / f"{n}.json").read_text())
            for n in ("scene_camera", "scene_gt", "scene_gt_info")
        ]
        for im_id in files[0]:
            out[int(im_id)] = (folder, *(f[im_id] for f in files))
    return out


def mask(path: Path) -> np.ndarray:
    values = np.asarray(Image.open(path))
    assert set(np.unique(values)) <= {0, 255}
    return values == 255


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    return render(tmp_path_factory.mktemp("bop"))


def test_scenes_group_frames_by_image_id(dataset):
    assert sorted(p.name for p in (dataset / "bop/train_pbr").iterdir()) == ["000000", "000001"]
    scenes = {i: folder.name for i, (folder, *_) in scene_files(dataset).items()}
    assert scenes == {0: "000000", 1: "000000", 2: "000000", 3: "000000", 4: "000001", 5: "000001"}
    for i, folder in scenes.items():
        rgb = dataset / "bop/train_pbr" / folder / "rgb" / f"{i:06d}.jpg"
        depth = dataset / "bop/train_pbr" / folder / "depth" / f"{i:06d}.png"
        assert os.path.samefile(rgb, dataset / f"images/{i:06d}.jpg")
        assert os.path.samefile(depth, dataset / f"depth/{i:06d}.png")


def test_posed_models_land_on_the_masks_and_match_sims_boxes(dataset):
    by_frame = records(dataset)
    models = {}
    checked = convex = 0
    for im_id, (folder, camera, gt, info) in scene_files(dataset).items():
        record = by_frame[im_id]
        K = np.array(camera["cam_K"]).reshape(3, 3)
        assert np.allclose(K, record["camera"]["K"], atol=1e-6) and camera["depth_scale"] == 1.0
        world_to_cam = np.linalg.inv(np.array(record["camera"]["cam_to_world"]))
        assert np.allclose(
            np.array(camera["cam_R_w2c"]).reshape(3, 3), world_to_cam[:3, :3], atol=1e-5
        )
        assert np.allclose(np.array(camera["cam_t_w2c"]) / 1000, world_to_cam[:3, 3], atol=1e-5)
        assert len(gt) == len(info) == len(record["objects"])
        for number, (pose, stats, obj) in enumerate(zip(gt, info, record["objects"], strict=True)):
            assert pose["obj_id"] == obj["category_id"]
            if pose["obj_id"] not in models:
                models[pose["obj_id"]] = trimesh.load(
                    dataset / f"bop/models/obj_{pose['obj_id']:06d}.ply", process=False
                )
            R = np.array(pose["cam_R_m2c"]).reshape(3, 3)
            t = np.array(pose["cam_t_m2c"])
            assert np.allclose(R @ R.T, np.eye(3), atol=1e-5) and np.linalg.det(R) > 0
            w, x, y, z = obj["box3d"]["rotation_camera"]
            assert np.allclose(R, Rotation.from_quat([x, y, z, w]).as_matrix(), atol=1e-5)
            assert np.allclose(t / 1000, obj["box3d"]["center_camera"], atol=1e-5)
            camera_mm = models[pose["obj_id"]].vertices @ R.T + t
            pixels = camera_mm @ K.T
            pixels = pixels[:, :2] / pixels[:, 2:] + 0.5  # to pixel-edge coordinates
            low, high = pixels.min(0), pixels.max(0)
            assert np.allclose([*low, *(high - low)], obj["amodal_bbox"], atol=2e-3)
            name = f"{im_id:06d}_{number:06d}.png"
            amodal = mask(folder / "mask" / name)
            visible = mask(folder / "mask_visib" / name)
            ids = np.asarray(Image.open(dataset / record["files"]["instance"]))
            assert np.array_equal(visible, ids == obj["instance_id"])
            assert stats["px_count_all"] == amodal.sum() == obj["unoccluded_pixels"]
            assert stats["px_count_visib"] == visible.sum() == obj["area"]
            assert stats["visib_fract"] == pytest.approx(obj["visibility"], abs=1e-6)
            assert stats["bbox_visib"] == obj["bbox"] and not (visible & ~amodal).any()
            # The mask lies inside the hull of the posed model's projected vertices; for a
            # convex model in the image it is that hull, up to the pixels its outline cuts.
            rows, cols = np.nonzero(amodal)
            hull = ConvexHull(pixels)  # equations: unit normal . p + offset <= 0 inside
            outside = (np.c_[cols + 0.5, rows + 0.5, np.ones(len(rows))] @ hull.equations.T).max(1)
            assert outside.max() <= 0.01, "pixel centres in the hull (float rendering)"
            if obj["category"] in ("box", "cylinder") and obj["truncation"] == 0:
                assert abs(amodal.sum() - hull.volume) <= hull.area / 2 + 1
                convex += 1
            rows, cols = np.nonzero(amodal)
            assert stats["bbox_obj"] == [cols.min(), rows.min(), np.ptp(cols) + 1, np.ptp(rows) + 1]
            checked += 1
    assert checked > 15 and convex > 5


def test_models_are_in_millimetres_and_models_info_matches_them(dataset):
    info = json.loads((dataset / "bop/models/models_info.json").read_text())
    assert sorted(info) == ["1", "2", "3"]  # box, cylinder, torus: category order
    objects = [o for r in records(dataset).values() for o in r["objects"]]
    for obj_id, entry in info.items():
        vertices = trimesh.load(
            dataset / f"bop/models/obj_{int(obj_id):06d}.ply", process=False
        ).vertices
        size = next(o["box3d"]["size"] for o in objects if o["category_id"] == int(obj_id))
        assert np.allclose(np.ptp(vertices, 0), np.array(size) * 1000, atol=1e-2)
        distances = np.linalg.norm(vertices[:, None] - vertices[None], axis=2)
        assert entry["diameter"] == pytest.approx(distances.max(), abs=1e-4)
        assert [entry[f"min_{a}"] for a in "xyz"] == pytest.approx(
            vertices.min(0).tolist(), abs=1e-4
        )
        assert [entry[f"size_{a}"] for a in "xyz"] == pytest.approx(
            np.ptp(vertices, 0).tolist(), abs=1e-4
        )
    camera = json.loads((dataset / "bop/camera.json").read_text())
    assert camera["width"] == 160 and camera["height"] == 120 and camera["depth_scale"] == 1.0


def test_bop_is_byte_identical_across_workers_and_resume(tmp_path, monkeypatch):
    files = assert_same_bytes_across_workers_and_resume(
        write_world(tmp_path), tmp_path, monkeypatch
    )
    assert sum(name.startswith("bop/models/obj_") for name in files) == 3


def test_a_category_must_be_one_rigid_model(tmp_path):
    varied = WORLD.replace("size = 0.7", "size = { uniform = [0.5, 0.9] }")
    (tmp_path / "varied").mkdir()
    with pytest.raises(
        PluginError,
        match=r"writer 'bop': category '(box|cylinder|torus)' has instances of different shapes or sizes; BOP needs one rigid model per object id: give each shape and size its own category",
    ):
        render(tmp_path / "varied", world=varied)
    teapot = WORLD.replace(
        "[[randomizers]]",
        '[[spawners]]\ntype = "model"\nmodel = "teapot"\ncategory = "teapot"\n\n[[randomizers]]',
        1,
    )
    (tmp_path / "teapot").mkdir()
    with pytest.raises(
        PluginError,
        match=r"category 'teapot' is drawn from 'model:models/teapot', a model the engine loads",
    ):
        render(tmp_path / "teapot", world=teapot)
    assert BopWriter.requires(BopParams()) == {"amodal_masks", "boxes"}
