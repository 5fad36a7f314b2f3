"""The preview's label overlays, drawn at window resolution over the scaled frame.

Boxes and category names come from `simulator.report.overlay` (what `sim overlay` draws); masks,
3D boxes and keypoints are drawn here, each on its own key, and the free view projects the
3D boxes and the capture camera's frustum through the free camera.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from simulator.labels import projection
from simulator.labels.records import ObjectLabel
from simulator.preview.picture import Picture
from simulator.report import overlay
from simulator.scene.scene import CameraState


def tint(frame: Image.Image, instance: np.ndarray, objects: Sequence[ObjectLabel]) -> Image.Image:
    """Each labeled object's pixels 40 % toward its color, as `sim overlay` does."""
    scaled = Image.fromarray(instance.astype(np.int32)).resize(frame.size, Image.Resampling.NEAREST)
    ids = np.asarray(scaled)
    image = np.asarray(frame).astype(np.float32)
    for obj in objects:
        mask = ids == obj.instance_id
        image[mask] = 0.6 * image[mask] + 0.4 * np.array(overlay.instance_color(obj.instance_id))
    return Image.fromarray(image.clip(0, 255).astype(np.uint8))


def draw_labels(
    frame: Image.Image, picture: Picture, overlays: Collection[str], scale: float
) -> Image.Image:
    """The chosen overlays over `frame` (the picture scaled by `scale`)."""
    records = picture.records()
    pen = ImageDraw.Draw(frame)
    if picture.free_camera is not None:  # from elsewhere, only 3D labels mean anything
        if "boxes3d" in overlays:
            for obj in records:
                if "box3d" in obj:
                    corners = _project(picture.free_camera, obj["box3d"]["corners_world"])
                    _wireframe(pen, corners, scale, overlay.instance_color(obj["instance_id"]))
        frustum, edges = _frustum(picture.labels.scene.camera)
        _lines(pen, _project(picture.free_camera, frustum), edges, scale, (255, 255, 255))
        return frame
    if "boxes3d" in overlays:
        for obj in records:
            if "box3d" in obj:
                color = overlay.instance_color(obj["instance_id"])
                _wireframe(pen, obj["box3d"]["corners_pixels"], scale, color)
    if "boxes" in overlays:
        frame = overlay.draw(np.asarray(frame), [_scaled_boxes(obj, scale) for obj in records])
        pen = ImageDraw.Draw(frame)
    if "keypoints" in overlays:
        for obj in records:
            skeleton = picture.skeletons.get(obj["category"], [])
            _keypoints(pen, obj.get("keypoints") or [], skeleton, scale, obj["instance_id"])
    return frame


def _scaled_boxes(obj: dict[str, Any], scale: float) -> dict[str, Any]:
    """Just the record's boxes, in window pixels: what `overlay.draw` draws of it."""
    out = {k: obj[k] for k in ("instance_id", "category")}
    out["bbox"] = [v * scale for v in obj["bbox"]]
    if "amodal_bbox" in obj:
        out["amodal_bbox"] = [v * scale for v in obj["amodal_bbox"]]
    return out


def _project(camera: CameraState, points: Any) -> list[list[float | None]]:
    """World points to pixel-edge coordinates; [None, None] behind the near plane."""
    in_camera = projection.to_camera(camera, np.asarray(points, float))
    pixels = projection.to_pixels(camera, np.where(in_camera[:, 2:] > 0, in_camera, 1.0))
    return [
        p.tolist() if z > camera.near else [None, None]
        for p, z in zip(pixels, in_camera[:, 2], strict=True)
    ]


def _frustum(camera: CameraState) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The capture camera as a wire pyramid: its centre and its image's corners 1 m ahead."""
    inverse_k = np.linalg.inv(camera.K)
    corners = [(-0.5, -0.5), (camera.width - 0.5, -0.5)]
    corners += [(camera.width - 0.5, camera.height - 0.5), (-0.5, camera.height - 0.5)]
    rays = np.array([inverse_k @ [u, v, 1.0] for u, v in corners])
    pose = camera.cam_to_world()
    points = np.vstack([pose[:3, 3], rays @ pose[:3, :3].T + pose[:3, 3]])
    return points, [(0, 1), (0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4), (4, 1)]


def _wireframe(
    pen: ImageDraw.ImageDraw, corners: list[list[float | None]], scale: float, color: tuple
) -> None:
    _lines(pen, corners, overlay.BOX_EDGES, scale, color)


def _lines(
    pen: ImageDraw.ImageDraw,
    points: list[list[float | None]],
    edges: Sequence[tuple[int, int]],
    scale: float,
    color: tuple,
) -> None:
    for a, b in edges:
        (x0, y0), (x1, y1) = points[a], points[b]
        if x0 is not None and x1 is not None and y0 is not None and y1 is not None:
            pen.line([(x0 * scale, y0 * scale), (x1 * scale, y1 * scale)], fill=color, width=1)


def _keypoints(
    pen: ImageDraw.ImageDraw,
    keypoints: list[dict[str, Any]],
    skeleton: list[list[str]],
    scale: float,
    instance_id: int,
) -> None:
    """Joined by the skeleton; filled dots: visible, hollow: occluded (as `sim overlay`)."""
    color = overlay.instance_color(instance_id)
    at = {k["name"]: (k["x"] * scale, k["y"] * scale) for k in keypoints if k["v"] > 0}
    for a, b in skeleton:
        if a in at and b in at:
            pen.line([at[a], at[b]], fill=color, width=2)
    for k in keypoints:
        if k["v"] > 0:
            x, y = at[k["name"]]
            fill = color if k["v"] == 2 else None
            pen.ellipse([x - 3, y - 3, x + 3, y + 3], fill=fill, outline=(255, 255, 255))
