"""Writer "kitti": the KITTI object benchmark's files (2D and 3D boxes), in `kitti/`.

Layout (the object devkit's `training/` folder, and the split lists 3D toolkits read):

  training/image_2/000000.jpg   hard link to images/000000.jpg
  training/label_2/000000.txt   one line per object: type truncated occluded alpha
                                left top right bottom  h w l  x y z  rotation_y
  training/calib/000000.txt     P0..P3 = [K | 0], R0_rect = I, Tr_velo_to_cam, Tr_imu_to_velo
  training/tilt_2/000000.txt    sim's own: per label line, how far the object's box is from
                                the yaw-only box written (degrees; 0 = exact, -1 DontCare)
  ImageSets/train.txt           the split, one id a line (val.txt, trainval.txt)

Each number, per the devkit's readme, from sim's exact labels:

- truncated: sim's `truncation` (share of the amodal box outside the image).
- occluded: from sim's `visibility`: 0 fully visible (1.0), 1 partly (>= 0.5), 2 largely.
- left top right bottom: 0-based pixel indices of the first and last column and row of the
  visible pixels (sim's bbox [x, y, w, h] gives x, y, x + w - 1, y + h - 1).
- the 3D box is in the camera's axes (x right, y down, z forward; metres), which is what
  KITTI's rectified camera frame is here (R0_rect = I, P2 = [K | 0]).

KITTI's boxes turn only about the camera's y axis. sim's objects turn freely and its camera
pitches, so the box written is the yaw-only box closest to the object's: h is the size along
the object's axis nearest the camera's y, l along the next of its x, y, z axes and w along
the last; rotation_y turns the camera's x onto that l axis seen from above; the location is
the bottom centre (centre + h/2 along y). It equals sim's box exactly when that axis is
parallel to the camera's y (an upright object and a level camera); tilt_2 says by how many
degrees it is not. alpha = rotation_y - atan2(x, z), wrapped to [-pi, pi).

Loaded by hand with datumaro 1.12.0 (`Dataset.import_from("kitti/training", "kitti3d")`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TextIO

import numpy as np
from pydantic import Field
from scipy.spatial.transform import Rotation

from sim_plugins import splits
from simulator import (
    DatasetInfo,
    Filtered,
    FrameLabels,
    ObjectLabel,
    VisibilityFilter,
    WorldError,
    Writer,
    atomic_link,
    atomic_write,
    filtering,
    hookimpl,
)

FOLDER = "kitti"
LISTS = ("train", "val", "trainval")
# velodyne (x forward, y left, z up) -> camera (x right, y down, z forward): no lidar here,
# the usual axes around the camera centre
VELO_TO_CAM = np.array([[0, -1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0]], float)
DONT_CARE = "DontCare -1 -1 -10 {} -1 -1 -1 -1000 -1000 -1000 -10"


class KittiParams(VisibilityFilter, splits.SplitParams):
    filtered: Filtered = Field(
        "ignore",
        description="Objects failing min_pixels / min_visibility: ignore = DontCare regions, "
        "drop = left out.",
    )


def occlusion(visibility: float) -> int:
    return 0 if visibility >= 1.0 else 1 if visibility >= 0.5 else 2


def wrap(angle: float) -> float:
    """An angle in [-pi, pi)."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


def yaw_box(box3d: dict) -> tuple[list[float], list[float], float, float]:
    """(h w l, bottom-centre location, rotation_y, tilt in degrees) of the yaw-only box
    closest to sim's oriented box (module docstring)."""
    w_, x_, y_, z_ = box3d["rotation_camera"]
    rotation = Rotation.from_quat([x_, y_, z_, w_]).as_matrix()  # object -> camera
    size, centre = np.asarray(box3d["size"], float), np.asarray(box3d["center_camera"], float)
    up = int(np.argmax(np.abs(rotation[1])))
    along, across = (i for i in range(3) if i != up)
    heading = rotation[:, along]
    rotation_y = wrap(math.atan2(-heading[2], heading[0]))
    tilt = math.degrees(math.acos(min(1.0, abs(rotation[1, up]))))
    location = centre + np.array([0.0, size[up] / 2, 0.0])
    return [size[up], size[across], size[along]], location.tolist(), rotation_y, tilt


def label_line(obj: ObjectLabel) -> tuple[str, float]:
    """A label_2 line and its tilt."""
    if obj.box3d is None or obj.truncation is None or obj.visibility is None:
        raise ValueError("kitti needs the boxes, boxes3d and visibility labels")
    dims, location, rotation_y, tilt = yaw_box(obj.box3d)
    alpha = wrap(rotation_y - math.atan2(location[0], location[2]))
    numbers = _numbers([obj.truncation])
    numbers += f" {occlusion(obj.visibility)} " + _numbers([alpha, *pixel_box(obj)])
    numbers += " " + _numbers([*dims, *location, rotation_y])
    return f"{obj.category} {numbers}", tilt


def pixel_box(obj: ObjectLabel) -> list[int]:
    """left, top, right, bottom: 0-based indices of the visible pixels' first and last
    column and row."""
    x, y, w, h = obj.bbox
    return [x, y, x + w - 1, y + h - 1]


def _numbers(values: list[float] | list[int]) -> str:
    return " ".join(f"{float(v):.6f}" for v in values)


def calib(K: np.ndarray) -> str:
    projection = np.hstack([K, np.zeros((3, 1))])
    rows = {f"P{i}": projection for i in range(4)}
    rows |= {"R0_rect": np.eye(3), "Tr_velo_to_cam": VELO_TO_CAM, "Tr_imu_to_velo": np.eye(4)[:3]}
    return "".join(
        f"{key}: " + " ".join(f"{v:.12e}" for v in matrix.ravel()) + "\n"
        for key, matrix in rows.items()
    )


class KittiWriter(Writer[KittiParams]):
    """KITTI object labels (2D box, yaw-only 3D box), calibration, image_2 and the split."""

    name = "kitti"
    one_per_dataset = True

    def __init__(self, params: KittiParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        spaced = [c for c in dataset.categories if c.split() != [c]]
        if spaced:
            raise WorldError(
                f"writer 'kitti': KITTI types are single words; categories {spaced} are not",
                hint="give those entries a `category` without spaces",
            )
        self.folder = dataset.root / FOLDER
        part = (dataset.part or dataset.root) / FOLDER / "ImageSets"
        part.mkdir(parents=True, exist_ok=True)
        self._lists: dict[str, TextIO] = {
            name: (part / f"{name}.txt").open("w", encoding="utf-8") for name in LISTS
        }
        self._images: list[str] = []

    @classmethod
    def requires(cls, params: KittiParams) -> set[str]:
        return {"boxes", "boxes3d", "visibility"}

    def write(self, frame: FrameLabels) -> None:
        stem = Path(frame.files["image"]).stem
        lines, tilts = [], []
        for obj in frame.objects:
            if filtering.keep(obj, self.params):
                line, tilt = label_line(obj)
                lines.append(line)
                tilts.append(f"{tilt:.6f}")
            elif self.params.filtered == "ignore":
                lines.append(DONT_CARE.format(_numbers(pixel_box(obj))))
                tilts.append("-1")
        training = self.folder / "training"
        atomic_write(training / "label_2" / f"{stem}.txt", "".join(f"{t}\n" for t in lines))
        atomic_write(training / "tilt_2" / f"{stem}.txt", "".join(f"{t}\n" for t in tilts))
        atomic_write(training / "calib" / f"{stem}.txt", calib(frame.scene.camera.K))
        split = splits.split_of(frame.seed, frame.index, self.params.val_fraction, "kitti")
        self._lists[split].write(stem + "\n")
        self._lists["trainval"].write(stem + "\n")
        self._images.append(frame.files["image"])

    def close(self) -> None:
        self.abort()
        for image in self._images:
            target = self.folder / "training" / "image_2" / Path(image).name
            atomic_link(self.dataset.root / image, target)

    def abort(self) -> None:
        for part in self._lists.values():
            part.close()


@hookimpl
def sim_register_writers(register):
    register(KittiWriter)
