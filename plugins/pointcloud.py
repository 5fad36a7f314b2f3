"""Writer "pointcloud": one coloured point per surface pixel of every frame, as a binary PLY,
with the pixel's instance id as a vertex property.

  points/000000.ply                 the frame's camera (a rig's first)
  cameras/right/points/000000.ply   a rig's other cameras, beside their images

Each vertex: x, y, z (float32 metres, in the camera's OpenCV axes or the world's), red,
green, blue (uchar, the frame's sRGB image) and instance (uint32, the instance pass; the
floor and other distractors have ids too). A pixel (u, v) of plane depth z is the point
z K^-1 [u, v, 1]; through a lens, z times its undistorted ray. Points run in row order, every
`stride`-th row and column.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from simulator import FrameLabels, Params, Writer, atomic_write, hookimpl

VERTEX = np.dtype(
    [
        ("x", "<f4"),
        ("y", "<f4"),
        ("z", "<f4"),
        ("red", "u1"),
        ("green", "u1"),
        ("blue", "u1"),
        ("instance", "<u4"),
    ]
)
PLY_TYPES = {"<f4": "float", "|u1": "uchar", "<u4": "uint"}


class PointCloudParams(Params):
    coordinates: Literal["camera", "world"] = Field(
        "camera", description="camera: OpenCV camera axes; world: the scene's, metres."
    )
    stride: int = Field(1, ge=1, le=64, description="Keep every stride-th row and column.")


class PointCloudWriter(Writer[PointCloudParams]):
    """Each frame's surface pixels as a coloured PLY point cloud with instance ids."""

    name = "pointcloud"
    one_per_dataset = True  # points/NNNNNN.ply

    def write(self, frame: FrameLabels) -> None:
        for camera in (frame, *frame.views.values()):
            image = camera.files["image"]
            path = image.rsplit("images/", 1)[0] + "points/" + image.rsplit("/", 1)[1]
            path = path.rsplit(".", 1)[0] + ".ply"
            atomic_write(self.dataset.root / path, ply_bytes(points(camera, self.params)))


def points(frame: FrameLabels, params: PointCloudParams) -> np.ndarray:
    """The frame's surface pixels as PLY vertices (VERTEX), in row order."""
    passes, camera = frame.passes, frame.scene.camera
    keep = np.s_[:: params.stride, :: params.stride]
    depth = passes.depth[keep].astype(np.float64)
    x, y = rays(frame)
    x, y = x[keep], y[keep]
    seen = depth > 0
    xyz = np.stack([x[seen], y[seen], np.ones(int(seen.sum()))], axis=1) * depth[seen][:, None]
    if params.coordinates == "world":
        pose = camera.cam_to_world()
        xyz = xyz @ pose[:3, :3].T + pose[:3, 3]
    out = np.zeros(len(xyz), dtype=VERTEX)
    out["x"], out["y"], out["z"] = xyz.T
    rgb = passes.color[keep][seen]
    out["red"], out["green"], out["blue"] = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    out["instance"] = passes.instance[keep][seen]
    return out


def rays(frame: FrameLabels) -> tuple[np.ndarray, np.ndarray]:
    """Each pixel's ray (x / z, y / z), through the lens when there is one."""
    camera = frame.scene.camera
    remap = camera.lens_map()
    if remap is not None:  # the pinhole render's pixel the lens maps there, undone
        x = (remap.map_x.astype(np.float64) - (remap.width - 1) / 2) / remap.focal
        return x, (remap.map_y.astype(np.float64) - (remap.height - 1) / 2) / remap.focal
    K = camera.K
    v, u = np.mgrid[0 : camera.height, 0 : camera.width].astype(np.float64)
    return (u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]


def ply_bytes(vertices: np.ndarray) -> bytes:
    """A binary little-endian PLY of `vertices` (a structured array, no faces)."""
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(vertices)}"]
    for name in vertices.dtype.names or ():
        header.append(f"property {PLY_TYPES[vertices.dtype[name].str]} {name}")
    header.append("end_header")
    return ("\n".join(header) + "\n").encode("ascii") + vertices.tobytes()


@hookimpl
def sim_register_writers(register):
    register(PointCloudWriter)
