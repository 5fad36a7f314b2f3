"""What a plugin leaves in the scene, checked before it reaches the engine.

Spawners and randomizers set entity, light and camera fields freely; a value the engine
cannot draw (a position of "abc", None, NaN, a colour of four numbers) would fail deep inside
Panda3D, or write NaN into the labels. `scene_problem` finds the first such value and names
the field; the pipeline then works out which plugin set it (see Pipeline.build_scene).
Valid values are normalised in place to the float arrays the engine expects, so a plugin may
assign a list or a tuple.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import CameraState, Entity, Light, ModelAsset, Scene
from simulator.world.schema import MAX_INSTANCES


def _vector(value: Any, size: int) -> np.ndarray | None:
    """`value` as `size` finite floats, or None when it is not that."""
    if value is None or isinstance(value, (str, bytes)):
        return None
    try:
        array = np.asarray(value, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        return None
    if array.size == 1 and size > 1:
        array = np.repeat(array, size)
    if array.size != size or not np.isfinite(array).all():
        return None
    return array


def _number(value: Any, low: float = -np.inf, high: float = np.inf) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        return False
    return bool(np.isfinite(value)) and low <= float(value) <= high


def _shown(value: Any) -> str:
    return repr(value.tolist()) if isinstance(value, np.ndarray) else repr(value)


def _fix(owner: Any, name: str, size: int, what: str) -> str | None:
    array = _vector(getattr(owner, name), size)
    if array is None:
        return f"{what}.{name} = {_shown(getattr(owner, name))} (expected {size} finite numbers)"
    setattr(owner, name, array)
    return None


def entity_problem(entity: Entity) -> str | None:
    """The first field of `entity` the engine cannot draw, described; None if all are fine."""
    what = f"entity {entity.instance_id}"
    if not isinstance(entity.mesh, (TriangleMesh, ModelAsset)):
        return f"{what}.mesh = {entity.mesh!r} (expected a TriangleMesh or a ModelAsset)"
    for name in ("position", "hpr", "scale", "color"):
        problem = _fix(entity, name, 3, what)
        if problem:
            return problem
    for name in ("roughness", "metallic"):
        if not _number(getattr(entity, name), 0.0, 1.0):
            return f"{what}.{name} = {getattr(entity, name)!r} (expected a number in [0, 1])"
    return None


def light_problem(light: Light, index: int) -> str | None:
    what = f"light {index}"
    for name in ("color", "direction", "position"):
        problem = _fix(light, name, 3, what)
        if problem:
            return problem
    if not _number(light.intensity, 0.0):
        return f"{what}.intensity = {light.intensity!r} (expected a finite number >= 0)"
    if not _number(light.angle, 0.0, 180.0):
        return f"{what}.angle = {light.angle!r} (expected degrees in [0, 180])"
    return None


def camera_problem(camera: CameraState) -> str | None:
    for name in ("position", "target"):
        problem = _fix(camera, name, 3, "camera")
        if problem:
            return problem
    if not _number(camera.fov, 0.0, 180.0) or camera.fov in (0.0, 180.0):
        return f"camera.fov = {camera.fov!r} (expected degrees between 0 and 180)"
    if not _number(camera.roll):
        return f"camera.roll = {camera.roll!r} (expected a finite number of degrees)"
    return None


def scene_problem(scene: Scene) -> str | None:
    """The first value in `scene` that cannot be drawn, described; None if none."""
    if len(scene.entities) > MAX_INSTANCES:
        return (
            f"{len(scene.entities):,} entities (instance ids are 16-bit in the masks: at most "
            f"{MAX_INSTANCES:,} per frame)"
        )
    for entity in scene.entities:
        problem = entity_problem(entity)
        if problem:
            return problem
    for index, light in enumerate(scene.lights):
        problem = light_problem(light, index)
        if problem:
            return problem
    problem = _fix(scene, "background", 3, "scene")
    return problem or camera_problem(scene.camera)
