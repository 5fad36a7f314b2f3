"""A clip's frames from its one scene: the scene of frame k is the clip's scene with every
motion read at k (simulator.scene.motion).

The clip's scene is copied for each frame so that per-frame randomizers change the frame's
copy only; the heavy, read-only parts (meshes, textures, materials, environments) are shared,
not copied.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from simulator.scene.scene import Entity, Scene


def _shared(scene: Scene) -> dict[int, Any]:
    """The deepcopy memo that keeps the scene's read-only parts shared."""
    memo: dict[int, Any] = {}
    keep: list[Any] = [scene.environment, scene.background_image, *scene.effects]
    for entity in scene.entities:
        keep += [entity.mesh, entity.texture, entity.material, entity.motion]
    for item in keep:
        if item is not None:
            memo[id(item)] = item
    return memo


def frame_scene(scene: Scene, frame: int) -> Scene:
    """A copy of the clip's `scene` at its frame `frame` (0-based)."""
    posed = copy.deepcopy(scene, _shared(scene))
    for entity in posed.entities:
        _pose(entity, frame)
    path = posed.camera.path
    if path is not None:
        _check_frames(path.frames, frame, "the camera's path")
        camera = posed.camera
        camera.position = path.positions[frame].copy()
        camera.target = path.targets[frame].copy()
        camera.roll = float(path.rolls[frame])
    return posed


def joined(scene: Scene, frame: int) -> None:
    """Leave in a frame's `scene` only the entities that have joined the clip by its frame
    `frame` (`Entity.appears`): the others are not drawn, labeled or tracked there. Their
    instance ids, given in the clip's scene, stay theirs (track ids)."""
    if any(entity.appears > frame for entity in scene.entities):
        scene.entities = [entity for entity in scene.entities if entity.appears <= frame]


def subframe_scene(scene: Scene, frame: float) -> Scene:
    """A copy of a frame's scene (per-frame randomizers applied) with its moving entities
    and camera at fractional frame `frame` of the clip: a sub-frame inside the shutter. What
    does not move keeps its pose, and only poses change: the sub-frame is drawn for its
    colour alone."""
    posed = copy.deepcopy(scene, _shared(scene))
    for entity in posed.entities:
        if entity.motion is not None:
            entity.position, entity.hpr = entity.motion.pose_at(frame)
    camera = posed.camera
    if camera.path is not None:
        camera.position, camera.target, camera.roll = camera.path.at(frame)
    return posed


def _pose(entity: Entity, frame: int) -> None:
    motion = entity.motion
    if motion is None:
        entity.velocity, entity.spin = np.zeros(3), np.zeros(3)
        return
    _check_frames(motion.frames, frame, f"entity {entity.instance_id}'s motion")
    entity.position = motion.positions[frame].copy()
    entity.hpr = motion.hprs[frame].copy()
    entity.velocity = motion.velocities[frame].copy()
    entity.spin = motion.spins[frame].copy()


def _check_frames(frames: int, frame: int, what: str) -> None:
    if frame >= frames:
        raise ValueError(f"{what} holds {frames} frames; frame {frame} of the clip asked for")
