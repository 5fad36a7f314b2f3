"""Deriving a frame's labels from its rendered passes, the scene and the camera."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

import numpy as np

from simulator.labels import parts, projection
from simulator.labels.records import (
    FrameLabels,
    Keypoint,
    KeypointSchema,
    ObjectLabel,
    RenderedPasses,
    round_floats,
)
from simulator.labels.rle import encode_rles, instance_boxes, rle_from_runs, runs_by_id
from simulator.scene.scene import CameraState, Entity, Mesh, Scene


class LabelSource(Protocol):
    """What label derivation needs from the engine besides the passes."""

    def arrays(self, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]: ...

    def render_alone(self, groups: list[list[int]]) -> list[np.ndarray]: ...

    def solo_runs(
        self, groups: list[list[int]], boxes: dict[int, list[float]]
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]: ...

    def render_parts(self) -> np.ndarray: ...


def disjoint_groups(boxes: dict[int, list[float]]) -> list[list[int]]:
    """Instance ids grouped so that no two boxes in a group overlap (greedy, in id order).

    Objects whose on-screen boxes do not overlap cannot occlude each other, so a group can be
    drawn alone in one pass and still give each member its unoccluded pixels."""
    groups: list[list[int]] = []
    for instance_id in sorted(boxes):
        x, y, w, h = boxes[instance_id]
        for group in groups:
            if all(
                x >= bx + bw or bx >= x + w or y >= by + bh or by >= y + h
                for bx, by, bw, bh in (boxes[m] for m in group)
            ):
                group.append(instance_id)
                break
        else:
            groups.append([instance_id])
    return groups


def derive(
    index: int,
    seed: int,
    scene: Scene,
    passes: RenderedPasses,
    categories: list[str],
    labels: Collection[str],
    source: LabelSource,
    keypoints: Mapping[str, KeypointSchema] | None = None,
) -> FrameLabels:
    """Labels of the labeled entities with at least one visible pixel, by instance id."""
    camera = scene.camera
    tight = instance_boxes(passes.instance)
    rles: dict[int, dict[str, Any]] = {}
    if "masks" in labels:
        rles = encode_rles(
            passes.instance,
            [
                e.instance_id
                for e in scene.entities
                if e.category is not None and e.instance_id in tight
            ],
        )
    objects: list[ObjectLabel] = []
    amodal: dict[int, list[float]] = {}
    groups: dict[int, list[float]] = {}  # boxes in the render (the pinhole's, through a lens)
    for entity in scene.entities:
        if entity.category is None or entity.instance_id not in tight:
            continue
        bbox, area = tight[entity.instance_id]
        obj = ObjectLabel(
            entity.instance_id, entity.category, categories.index(entity.category) + 1, bbox, area
        )
        if "masks" in labels:
            obj.rle = rles[entity.instance_id]
        vertices, triangles = source.arrays(entity.mesh)
        box = projection.amodal_box(entity, vertices, triangles, camera)
        if box is not None:
            amodal[entity.instance_id] = projection.clip_box(box, camera.width, camera.height)
            groups[entity.instance_id] = _render_box(entity, vertices, triangles, camera, box)
            if "boxes" in labels:
                obj.amodal_bbox = box
                obj.amodal_bbox_clipped = amodal[entity.instance_id]
                obj.truncation = projection.truncation(box, camera.width, camera.height)
        if "boxes3d" in labels:
            obj.box3d = round_floats(projection.box3d(entity, vertices, camera))
        schema = (keypoints or {}).get(entity.category)
        if "keypoints" in labels and schema is not None:
            obj.keypoints = [
                Keypoint(*k)
                for k in projection.keypoint_positions(
                    entity, list(schema.names), camera, passes.depth
                )
            ]
        objects.append(obj)
    if objects and ("visibility" in labels or "amodal_masks" in labels):
        _unoccluded(objects, groups, source, "amodal_masks" in labels, passes.instance.shape)
    if "parts" in labels:
        _parts(objects, scene, passes.instance, source)
    return FrameLabels(index, seed, scene, passes, objects)


def _render_box(
    entity: Entity,
    vertices: np.ndarray,
    triangles: np.ndarray,
    camera: CameraState,
    box: list[float],
) -> list[float]:
    """The object's box clipped to the image the engine draws, to group solo passes by.
    Through a lens that is the pinhole render: straight edges curve under distortion, so
    the distorted vertices' box need not hold the object's pixels, the render's does."""
    render = camera.render_camera()
    if render is not camera:
        box = projection.amodal_box(entity, vertices, triangles, render) or [0.0, 0.0, 0.0, 0.0]
    return projection.clip_box(box, render.width, render.height)


def _parts(
    objects: list[ObjectLabel], scene: Scene, instance: np.ndarray, source: LabelSource
) -> None:
    """Each object's visible parts, from one parts pass (only where some object has parts:
    `parts` stays None for objects without named groups)."""
    entities = {e.instance_id: e for e in scene.entities}
    names = {o.instance_id: parts.part_names(entities[o.instance_id].mesh) for o in objects}
    if not any(names.values()):
        return
    codes = source.render_parts()
    for obj in objects:
        if names[obj.instance_id]:
            obj.parts = parts.part_labels(
                instance, codes, obj.instance_id, obj.bbox, names[obj.instance_id]
            )


def _unoccluded(
    objects: list[ObjectLabel],
    amodal: dict[int, list[float]],
    source: LabelSource,
    masks: bool,
    shape: tuple[int, ...],
) -> None:
    """Draw the objects alone (groups of non-overlapping ones per pass) to count the pixels
    each would cover if nothing occluded it (in an image of `shape`, height and width)."""
    boxes = {o.instance_id: amodal[o.instance_id] for o in objects}
    runs = source.solo_runs(disjoint_groups(boxes), boxes)
    height, width = shape
    for obj in objects:
        begin, end = runs[obj.instance_id]
        obj.unoccluded_pixels = int((end - begin).sum())
        obj.amodal_rle = rle_from_runs(begin, end, height, width) if masks else None
        obj.visibility = obj.area / obj.unoccluded_pixels


def runs_alone(
    groups: list[list[int]], images: list[np.ndarray]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{instance id: its runs} in the solo image of its group (LabelSource.solo_runs from
    render_alone's images)."""
    return {
        i: r
        for g, image in zip(groups, images, strict=True)
        for i, r in runs_by_id(image, g).items()
    }
