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
