"""Passes through a lens: the pinhole render's passes remapped to the distorted frame
(`simulator.scene.lens.LensMap`), so that every label derived from them agrees with the
image: colour bilinear, ids, depth, distance and normals by the nearest pixel."""

from __future__ import annotations

import cv2
import numpy as np

from simulator.labels.derive import LabelSource, runs_alone
from simulator.labels.records import RenderedPasses
from simulator.scene.lens import LensMap
from simulator.scene.scene import Mesh


def remap_color(remap: LensMap, image: np.ndarray) -> np.ndarray:
    """Bilinear (cv2.remap): the RGB image as the lens sees it."""
    return cv2.remap(image, remap.map_x, remap.map_y, cv2.INTER_LINEAR, None, cv2.BORDER_REPLICATE)


def remap_nearest(remap: LensMap, image: np.ndarray) -> np.ndarray:
    """The nearest render pixel's value (ids, depths and normals stay exact), rounding as
    cv2.remap's INTER_NEAREST does (halves to even), for any dtype and channel count."""
    rows = np.clip(np.rint(remap.map_y).astype(np.intp), 0, remap.height - 1)
    columns = np.clip(np.rint(remap.map_x).astype(np.intp), 0, remap.width - 1)
    return image[rows, columns]


def remap_passes(remap: LensMap, passes: RenderedPasses) -> RenderedPasses:
    """The distorted frame's passes from the wide pinhole render's. Plane depth, ray
    distance and camera-space normals do not change with the lens (the pose is the same),
    so the nearest render pixel's values are exact for the ray it samples."""
    return RenderedPasses(
        color=remap_color(remap, passes.color),
        instance=remap_nearest(remap, passes.instance),
        depth=remap_nearest(remap, passes.depth),
        distance=remap_nearest(remap, passes.distance),
        normal=remap_nearest(remap, passes.normal),
    )


class LensSource:
    """An engine's label passes (solo, parts) remapped like the frame's."""

    def __init__(self, engine: LabelSource, remap: LensMap) -> None:
        self._engine, self._remap = engine, remap

    def arrays(self, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
        return self._engine.arrays(mesh)

    def render_alone(self, groups: list[list[int]]) -> list[np.ndarray]:
        images = self._engine.render_alone(groups)
        return [remap_nearest(self._remap, image) for image in images]

    def solo_runs(
        self, groups: list[list[int]], boxes: dict[int, list[float]]
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """From whole solo images: the boxes are the render's, not the distorted frame's."""
        return runs_alone(groups, self.render_alone(groups))

    def render_parts(self) -> np.ndarray:
        return remap_nearest(self._remap, self._engine.render_parts())
