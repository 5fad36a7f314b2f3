"""Writer "bop": the BOP 6D pose benchmark's format, in the dataset's `bop/` folder.

Layout (the BOP toolkit's docs/bop_datasets_format.md):

  models/obj_000001.ply         one model per category (obj_id = category_id), in mm
  models/models_info.json       diameter, min_x/y/z, size_x/y/z per obj_id (trimesh)
  camera.json                   the first frame's cx, cy, fx, fy, width, height, depth_scale
  <split>/<scene>/rgb/000000.jpg           hard link to images/000000.jpg
  <split>/<scene>/depth/000000.png         hard link to depth/000000.png (with depth PNGs)
  <split>/<scene>/scene_camera.json        cam_K, depth_scale, cam_R_w2c, cam_t_w2c
  <split>/<scene>/scene_gt.json            obj_id, cam_R_m2c, cam_t_m2c per object
  <split>/<scene>/scene_gt_info.json       bbox_obj, bbox_visib, px_count_*, visib_fract
  <split>/<scene>/mask/000000_000000.png        the object drawn alone (amodal), 0/255
  <split>/<scene>/mask_visib/000000_000000.png  its visible pixels, 0/255

The image id is the frame index; frames f with f // frames_per_scene = s form scene s (six
digits). Poses map the model's millimetres to OpenCV camera millimetres (x right, y down,
z forward: sim's camera axes): cam_R_m2c is the object's rotation (its `hpr`) seen from the
camera, cam_t_m2c its origin. The model is the entity's mesh in its own frame with the
entity's scale applied, so a category must be one rigid model: every instance the same mesh
at the same scale (an error says which category is not). sim's depth PNG holds millimetres,
BOP's depth_scale 1.0.

px_count_all is sim's `unoccluded_pixels` (the mask), px_count_visib its `area`
(mask_visib), px_count_valid the mask's pixels with depth, visib_fract their ratio (sim's
`visibility`); bbox_visib is sim's `bbox`; bbox_obj the box of the mask (the object drawn
alone), inside the image as the toolkit's calc_gt_info clips it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from PIL import Image
from pycocotools import mask as mask_utils
from pydantic import Field

from simulator import (
    DatasetInfo,
    Entity,
    FrameLabels,
    ObjectLabel,
    Params,
    PlainName,
    PluginError,
    TriangleMesh,
    Writer,
    atomic_link,
    atomic_write,
    hookimpl,
    transforms,
)

FOLDER = "bop"
FILES = ("scene_camera", "scene_gt", "scene_gt_info")


class BopParams(Params):
    split: PlainName = Field("train_pbr", description="The split folder (BOP: train_pbr, test).")
    frames_per_scene: int = Field(1000, ge=1, description="Frames per BOP scene folder.")


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in np.asarray(values).ravel()]


def model_ply(entity: Entity) -> bytes:
    """The entity's mesh with its scale, in millimetres, as binary PLY (trimesh)."""
    if not isinstance(entity.mesh, TriangleMesh):
        raise PluginError(
            f"writer 'bop': category {entity.category!r} is drawn from {entity.mesh.key!r}, a "
            "model the engine loads, whose vertices sim does not hold; load the model from a "
            "file (`path` of the model spawner) for BOP"
        )
    vertices = entity.mesh.vertices.astype(float) * entity.scale * 1000.0
    mesh = trimesh.Trimesh(vertices, entity.mesh.triangles, process=False)
    ply = mesh.export(file_type="ply", encoding="binary")
    if not isinstance(ply, bytes):
        raise TypeError(f"trimesh wrote {type(ply).__name__}, not PLY bytes")
    return ply


def tight_box(mask: np.ndarray) -> list[int]:
    """[x, y, w, h] of a mask's pixels, as the toolkit's calc_2d_bbox gives it."""
    rows, cols = np.nonzero(mask)
    return [int(cols.min()), int(rows.min()), int(np.ptp(cols)) + 1, int(np.ptp(rows)) + 1]


def png(mask: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(mask.astype(np.uint8) * 255).save(out, format="PNG")
    return out.getvalue()


class BopWriter(Writer[BopParams]):
    """BOP scenes (poses, cameras, masks, visibility) and the models, once per dataset."""

    name = "bop"
    one_per_dataset = True

    def __init__(self, params: BopParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        self.part = (dataset.part or dataset.root) / FOLDER
        self.part.mkdir(parents=True, exist_ok=True)
        self._models: dict[int, bytes] = {}
        self._links: list[tuple[str, Path]] = []
        self._camera: dict[str, Any] | None = None

    @classmethod
    def requires(cls, params: BopParams) -> set[str]:
        return {"amodal_masks", "boxes"}

    def scene_folder(self, frame: int) -> str:
        return f"{self.params.split}/{frame // self.params.frames_per_scene:06d}"

    def write(self, frame: FrameLabels) -> None:
        camera = frame.scene.camera
        world_to_cam = camera.world_to_cam()
        entities = {e.instance_id: e for e in frame.scene.entities}
        scene = self.scene_folder(frame.index)
        folder = self.dataset.root / FOLDER / scene
        gt, info = [], []
        for number, obj in enumerate(frame.objects):
            entity = entities[obj.instance_id]
            self._model(obj.category_id, entity)
            rotation = world_to_cam[:3, :3] @ transforms.hpr_matrix(entity.hpr)
            origin = world_to_cam[:3, :3] @ entity.position + world_to_cam[:3, 3]
            gt.append(
                {
                    "cam_R_m2c": _rounded(rotation),
                    "cam_t_m2c": _rounded(origin * 1000.0),
                    "obj_id": obj.category_id,
                }
            )
            info.append(self._info(frame, obj, folder, f"{frame.index:06d}_{number:06d}.png"))
        K = camera.K
        self._camera = self._camera or {
            "cx": K[0, 2],
            "cy": K[1, 2],
            "fx": K[0, 0],
            "fy": K[1, 1],
            "width": camera.width,
            "height": camera.height,
            "depth_scale": 1.0,
        }
        cam = {
            "cam_K": _rounded(K),
            "depth_scale": 1.0,
            "cam_R_w2c": _rounded(world_to_cam[:3, :3]),
            "cam_t_w2c": _rounded(world_to_cam[:3, 3] * 1000.0),
        }
        for name, value in zip(FILES, (cam, gt, info), strict=True):
            with (self.part / f"{scene.replace('/', '+')}+{name}").open("a") as out:
                out.write(f'"{frame.index}": {json.dumps(value)}\n')
        image = frame.files["image"]
        self._links.append((image, folder / "rgb" / Path(image).name))
        depth = frame.files.get("depth", "")
        if depth.endswith(".png"):
            self._links.append((depth, folder / "depth" / Path(depth).name))

    def _model(self, obj_id: int, entity: Entity) -> None:
        ply = model_ply(entity)
        known = self._models.setdefault(obj_id, ply)
        if known != ply:
            raise PluginError(
                f"writer 'bop': category {entity.category!r} has instances of different "
                "shapes or sizes; BOP needs one rigid model per object id: give each shape "
                "and size its own category (a spawner entry's `category`), or a fixed `size`"
            )

    def _info(self, frame: FrameLabels, obj: ObjectLabel, folder: Path, name: str) -> dict:
        ids = frame.passes.instance
        visible = ids == obj.instance_id
        if obj.amodal_rle is None or obj.unoccluded_pixels is None:
            raise ValueError("bop needs the amodal_masks label")
        from_rle = decode(obj.amodal_rle)
        atomic_write(folder / "mask" / name, png(from_rle))
        atomic_write(folder / "mask_visib" / name, png(visible))
        valid = int((from_rle & (frame.passes.depth > 0)).sum())
        return {
            "bbox_obj": tight_box(from_rle),
            "bbox_visib": list(obj.bbox),
            "px_count_all": obj.unoccluded_pixels,
            "px_count_valid": valid,
            "px_count_visib": obj.area,
            "visib_fract": round(obj.area / obj.unoccluded_pixels, 6),
        }

    def close(self) -> None:
        for source, target in self._links:
            atomic_link(self.dataset.root / source, target)
        for obj_id, ply in self._models.items():
            atomic_write(self.part / "models" / f"obj_{obj_id:06d}.ply", ply)
        atomic_write(self.part / "camera.json", json.dumps(self._camera or {}))

    @classmethod
    def merge(cls, params: BopParams, dataset: DatasetInfo, parts: list[Path]) -> None:
        """The scenes' JSON from the parts in frame order; each model once (the same in
        every part, or an error), models_info.json, camera.json."""
        root = dataset.root / FOLDER
        folders = [p / FOLDER for p in parts]
        names = sorted({f.name for p in folders for f in p.iterdir() if "+" in f.name})
        for name in names:
            *scene, kind = name.split("+")
            lines = [f.read_text() for p in folders if (f := p / name).is_file()]
            entries = ",\n".join(line.rstrip("\n").replace("\n", ",\n") for line in lines)
            atomic_write(root / "/".join(scene) / f"{kind}.json", "{\n" + entries + "\n}\n")
        info = {}
        for obj_id in range(1, len(dataset.categories) + 1):
            name = f"obj_{obj_id:06d}.ply"
            models = [f.read_bytes() for p in folders if (f := p / "models" / name).is_file()]
            if not models:
                continue
            if any(m != models[0] for m in models):
                raise PluginError(
                    f"writer 'bop': category {dataset.categories[obj_id - 1]!r} has instances "
                    "of different shapes or sizes; BOP needs one rigid model per object id"
                )
            atomic_write(root / "models" / name, models[0])
            info[str(obj_id)] = models_info(models[0])
        atomic_write(root / "models" / "models_info.json", json.dumps(info, indent=2) + "\n")
        cameras = [c for p in folders if (c := json.loads((p / "camera.json").read_text()))]
        atomic_write(root / "camera.json", json.dumps(cameras[0] if cameras else {}, indent=2))


def models_info(ply: bytes) -> dict[str, float]:
    """BOP's models_info entry: the diameter (the largest distance between two vertices) and
    the axis-aligned box, millimetres, computed by trimesh."""
    mesh = trimesh.load(io.BytesIO(ply), file_type="ply", process=False)
    if not isinstance(mesh, trimesh.Trimesh):
        raise TypeError(f"trimesh read a {type(mesh).__name__}, not one mesh")
    hull = mesh.convex_hull.vertices
    diameter = max(float(np.linalg.norm(hull - v, axis=1).max()) for v in hull)
    low, size = mesh.bounds[0], mesh.extents
    return {
        "diameter": round(diameter, 6),
        **{f"min_{a}": round(float(v), 6) for a, v in zip("xyz", low, strict=True)},
        **{f"size_{a}": round(float(v), 6) for a, v in zip("xyz", size, strict=True)},
    }


def decode(rle: dict[str, Any]) -> np.ndarray:
    counts = rle["counts"]
    encoded = {**rle, "counts": counts.encode() if isinstance(counts, str) else counts}
    return np.asarray(mask_utils.decode(encoded), bool)


@hookimpl
def sim_register_writers(register):
    register(BopWriter)
