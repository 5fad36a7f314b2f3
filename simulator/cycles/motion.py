"""Motion blur in Cycles: Blender's own, with time sampled per path over the open shutter.

Cycles blurs motion natively: with `render.use_motion_blur` it evaluates the scene at the
shutter's opening, centre and closing (an object's `motion_steps` = 1 gives those three) and
draws every path at a time of its own, uniform over the open shutter (the flat shutter
curve), each object's and the camera's transform interpolated there between the three
(translation linearly, rotation by slerp on the CPU). Blender reads those poses from
animation, so a blurred frame keys the moving objects and the camera at the three times, at
Blender frame `FRAME` - length / 2, `FRAME` and `FRAME` + length / 2 (motion_blur_position
"CENTER"), from the sim scenes at the same times of the clip (capture.traced), and clears the
keys before the next frame. Objects that do not move are not keyed and get no motion.

Three poses give sim's sub-frame poses exactly: a motion is linear (positions) and a
constant-rate slerp (rotations) between the clip's frames (Motion.pose_at), and a shutter of
at most one frame interval, centred on a frame, crosses no other frame, so the motion bends
at the centre only. The camera's path is linear in its position, target and roll; Cycles
interpolates its transform instead, which agrees wherever the camera translates and is a
second-order difference where it turns within the shutter.

Deterministic: the seed fixes every path's time as it fixes the rest of its samples, and the
Blender scene kept between frames (persistent data) renders a frame to the same bytes
whatever was drawn before it (tests/test_cycles_blur.py: one process and two workers). The
keys' actions are removed with them, so a long run keeps no datablock per frame. Where the
film is transparent, a streak is laid over the background colour or image by its coverage
after the tone curve, as Cycles' anti-aliased edges are (cycles.film), where the engine's
blur mixes the background's light in before its curve.

Cost, measured (worlds/movi.toml at 320 x 240, 32 samples, CPU, this shared 2-core
machine; medians of 5 frames, four processes each, in turns): 6.3 s of CPU a blurred frame
against 5.8 s with the shutter closed (+8 %), keying included (7 ms): a BVH with three
steps of motion and Blender's scene evaluated at the two ends. The engine's blur draws
`blur_samples` sub-frames instead.
"""

from __future__ import annotations

from typing import Any

import bpy
import numpy as np
from mathutils import Matrix

# The Blender frame every render is drawn at (a blurred frame's keys lie about it).
FRAME = 1
KEYED = ("location", "rotation_quaternion")


class ShutterKeys:
    """The objects keyed for the latest blurred render, and the render's motion settings."""

    def __init__(self, scene: Any) -> None:
        self.scene = scene
        self._keyed: list[Any] = []
        scene.frame_current = FRAME
        scene.render.motion_blur_position = "CENTER"

    def clear(self) -> None:
        """Drop every key and its action (before the next frame's poses are set): a run of
        blurred frames keeps no datablock of the frames before."""
        for ob in self._keyed:
            action = ob.animation_data.action
            ob.animation_data_clear()
            if action is not None:
                bpy.data.actions.remove(action)
        self._keyed = []

    def open(self, length: float | None) -> None:
        """Blur over `length` frame intervals, or not at all (None)."""
        render = self.scene.render
        if render.use_motion_blur != (length is not None):
            render.use_motion_blur = length is not None
        if length is not None and render.motion_blur_shutter != np.float32(length):
            render.motion_blur_shutter = length

    def key(self, ob: Any, poses: tuple[np.ndarray, np.ndarray, np.ndarray], length: float) -> None:
        """Key `ob` at the shutter's opening, centre and closing to the matrices `poses`
        (object to world), unless it is still; it is left at the centre's pose."""
        opens, centre, closes = poses
        if np.array_equal(opens, centre) and np.array_equal(closes, centre):
            return
        for offset, matrix in ((-length / 2, opens), (length / 2, closes), (0.0, centre)):
            ob.matrix_world = Matrix(matrix.tolist())
            for path in KEYED:
                ob.keyframe_insert(path, frame=FRAME + offset)
        self._keyed.append(ob)
