"""Time in a clip: where a frame sits in its clip, and motions sampled at the clip's frames.

A clip's scene is built once (its spawners and per-clip randomizers draw from the clip's
streams); whatever moves over the clip says so as a motion sampled at every frame time of the
clip: an entity's `Motion` (pose, velocity and spin per frame: physics writes one) and the
camera's `CameraPath` (position, target and roll per frame: camera motion writes one). Frame
k of the clip is that scene with every motion read at k, so a frame's poses, and its
neighbours' (which the optical flow needs), come from data, not from stepping anything again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scene.transforms import hpr_matrix, matrix_hpr, quaternion


@dataclass(frozen=True)
class ClipFrame:
    """Frame `frame` (0-based) of clip `index`, a clip being `frames` frames at `fps`."""

    index: int
    frame: int
    frames: int
    fps: float

    @classmethod
    def of(cls, frame_index: int, frames: int, fps: float) -> ClipFrame:
        """The place of the run's frame `frame_index` when every clip is `frames` long."""
        clip, frame = divmod(frame_index, frames)
        return cls(clip, frame, frames, fps)

    @property
    def time(self) -> float:
        """Seconds since the clip's first frame."""
        return self.frame / self.fps

    @property
    def first_index(self) -> int:
        """The run's frame index of this clip's first frame."""
        return self.index * self.frames

    def times(self) -> np.ndarray:
        """The time of every frame of the clip, seconds."""
        return np.arange(self.frames, dtype=float) / self.fps

    def record(self) -> dict[str, float | int]:
        return {
            "index": self.index,
            "frame": self.frame,
            "frames": self.frames,
            "fps": self.fps,
            "time": round(self.time, 6),
        }


def _rows(values: np.ndarray | list, frames: int, width: int, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.shape != (frames, width):
        raise ValueError(f"{name} must be {frames} rows of {width}, got shape {array.shape}")
    return array


@dataclass
class Motion:
    """An entity's pose at every frame of its clip: position (metres), hpr (degrees), and
    its velocity (m/s) and spin (angular velocity about world axes, rad/s) there."""

    positions: np.ndarray  # (frames, 3)
    hprs: np.ndarray  # (frames, 3)
    velocities: np.ndarray  # (frames, 3)
    spins: np.ndarray  # (frames, 3)

    def __post_init__(self) -> None:
        frames = len(np.asarray(self.positions))
        self.positions = _rows(self.positions, frames, 3, "positions")
        self.hprs = _rows(self.hprs, frames, 3, "hprs")
        self.velocities = _rows(self.velocities, frames, 3, "velocities")
        self.spins = _rows(self.spins, frames, 3, "spins")

    @property
    def frames(self) -> int:
        return len(self.positions)

    def pose_at(self, frame: float) -> tuple[np.ndarray, np.ndarray]:
        """Position and hpr at a fractional frame (a sub-frame of the shutter): linear between
        the two samples around it, the rotation turned at a constant rate about one axis (a
        slerp); past the clip's ends, the end samples' motion carried on."""
        i, j, w = _between(self.frames, frame)
        position = self.positions[i] + w * (self.positions[j] - self.positions[i])
        return position, _slerp_hpr(self.hprs[i], self.hprs[j], w)


@dataclass
class CameraPath:
    """The camera's pose at every frame of its clip: position, look-at target, roll."""

    positions: np.ndarray  # (frames, 3)
    targets: np.ndarray  # (frames, 3)
    rolls: np.ndarray  # (frames,)

    def __post_init__(self) -> None:
        frames = len(np.asarray(self.positions))
        self.positions = _rows(self.positions, frames, 3, "positions")
        self.targets = _rows(self.targets, frames, 3, "targets")
        self.rolls = _rows(np.reshape(self.rolls, (-1, 1)), frames, 1, "rolls")[:, 0]

    @property
    def frames(self) -> int:
        return len(self.positions)

    def at(self, frame: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Position, target and roll at a fractional frame, linear between samples (past
        the ends, the end samples' motion carried on)."""
        i, j, w = _between(self.frames, frame)
        position = self.positions[i] + w * (self.positions[j] - self.positions[i])
        target = self.targets[i] + w * (self.targets[j] - self.targets[i])
        return position, target, float(self.rolls[i] + w * (self.rolls[j] - self.rolls[i]))


def _between(frames: int, frame: float) -> tuple[int, int, float]:
    """The samples around fractional `frame` and its weight towards the second (below 0 or
    above 1 past the clip's ends; a one-frame clip has nothing to move between)."""
    if frames == 1:
        return 0, 0, 0.0
    i = int(np.clip(np.floor(frame), 0, frames - 2))
    return i, i + 1, float(frame - i)


def _slerp_hpr(first: np.ndarray, second: np.ndarray, w: float) -> np.ndarray:
    """The hpr a fraction `w` of the way along the shortest turn from `first` to `second`."""
    start = hpr_matrix(first)
    q = quaternion(hpr_matrix(second) @ start.T)  # the turn between them, w >= 0: shortest
    sine = float(np.linalg.norm(q[1:]))
    if sine < 1e-12:
        return first.copy()
    axis, angle = q[1:] / sine, 2.0 * np.arctan2(sine, q[0]) * w
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    turn = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)
    return matrix_hpr(turn @ start)
