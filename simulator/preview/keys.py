"""The preview's keys and the view state they change: pure logic, no window needed.

Keys arrive as names: a typed character for printable keys ("b", "7", "]") and Panda3D's
button names for the others ("enter", "escape", "arrow_left", "page_up", "wheel_up").
`handle` changes a `ViewState` and returns what the app must do besides (save, quit).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from simulator.scene.scene import CameraState

PASSES = ("color", "semantic", "depth", "normals")
OVERLAYS = {"b": "boxes", "m": "masks", "k": "keypoints", "c": "boxes3d"}
DEFAULT_OVERLAYS = frozenset({"boxes", "masks", "keypoints"})
MAX_RATE = 64.0  # frames/s
MIN_RATE = 1 / 64  # below: step on keys only

# (keys as shown, what they do): the HUD's help panel and docs/preview.md list these.
KEY_MAP: tuple[tuple[str, str], ...] = (
    ("Right / .", "next frame (re-randomize)"),
    ("Left / ,", "previous frame"),
    ("space", "pause / resume stepping at the rate"),
    ("0-9 Enter", "go to frame number (Backspace edits, Esc cancels)"),
    ("] / [", "step rate x2 / /2"),
    ("r", "random frame of the world's range"),
    ("v", "shown pass: color, semantic, depth, normals"),
    ("b", "tight and amodal boxes, category names"),
    ("m", "instance masks"),
    ("k", "keypoints"),
    ("c", "3D boxes"),
    ("o", "all overlays off / back on"),
    ("s", "save frame: PNG + native JSON record"),
    ("p", "path-trace this frame with Cycles (Cycles worlds)"),
    ("f", "free view on / off (off: the capture camera)"),
    ("free view", "drag: orbit (left), pan (middle), zoom (right, wheel);"),
    ("", "arrows orbit, PgUp/PgDn zoom"),
    ("h", "this help"),
    ("Esc / q", "quit"),
)
SHORT_KEYS = (
    "Left/Right step   space pause   digits Enter: go to frame   [ ] rate   r random",
    "v pass   b m k c o overlays   f free view   s save   p path-trace   h help   q quit",
)


@dataclass
class Orbit:
    """A free camera orbiting `target`: yaw and pitch in degrees, Z up."""

    target: np.ndarray
    distance: float
    yaw: float
    pitch: float

    @classmethod
    def from_camera(cls, camera: CameraState) -> Orbit:
        offset = np.asarray(camera.position, float) - np.asarray(camera.target, float)
        distance = float(np.linalg.norm(offset))
        yaw = math.degrees(math.atan2(offset[1], offset[0]))
        pitch = math.degrees(math.asin(max(-1.0, min(1.0, offset[2] / distance))))
        return cls(np.array(camera.target, float), distance, yaw, pitch)

    def rotate(self, yaw: float, pitch: float) -> None:
        self.yaw = (self.yaw + yaw) % 360.0
        self.pitch = max(-89.0, min(89.0, self.pitch + pitch))

    def zoom(self, factor: float) -> None:
        self.distance = max(0.05, self.distance * factor)

    def pan(self, right: float, up: float) -> None:
        """Move the target across the view, by fractions of the distance."""
        pose = self.camera_pose()
        self.target = self.target + self.distance * (right * pose[:3, 0] - up * pose[:3, 1])

    def position(self) -> np.ndarray:
        yaw, pitch = math.radians(self.yaw), math.radians(self.pitch)
        direction = np.array(
            [math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)]
        )
        return self.target + self.distance * direction

    def camera_pose(self) -> np.ndarray:
        return CameraState(2, 2, position=self.position(), target=self.target).cam_to_world()

    def camera(self, like: CameraState) -> CameraState:
        """`like` (resolution, lens) moved to this orbit's pose."""
        return CameraState(
            like.width,
            like.height,
            like.fov,
            like.near,
            like.far,
            position=self.position(),
            target=self.target.copy(),
        )

    def key(self) -> tuple[float, ...]:
        return (*self.target.tolist(), self.distance, self.yaw, self.pitch)


@dataclass
class ViewState:
    """What the window should show; the app renders whatever this says."""

    index: int
    rate: float
    frames: int  # the world's frame count: `r` draws from [0, frames)
    paused: bool = False
    shown_pass: str = "color"
    overlays: set[str] = field(default_factory=lambda: set(DEFAULT_OVERLAYS))
    hidden_overlays: set[str] = field(default_factory=set)  # remembered by `o`
    orbit: Orbit | None = None  # set: the free view
    help: bool = False
    typed: str | None = None  # digits typed so far for a jump; None when not typing

    def step(self, by: int) -> None:
        self.index = max(0, self.index + by)


def handle(state: ViewState, key: str, capture: CameraState | None = None) -> str | None:
    """Apply one key to `state`; returns "save", "trace" or "quit" when the app must act.

    `capture` is the shown frame's capture camera: `f` starts the free view there."""
    if state.typed is not None and _typing(state, key):
        return None
    if key.isdigit():
        state.typed = key
        return None
    if key in ("escape", "q"):
        return "quit"
    if key == "s":
        return "save"
    if key == "p":
        return "trace"
    if state.orbit is not None and _orbit_key(state.orbit, key):
        return None
    _view_key(state, key, capture)
    return None


def _typing(state: ViewState, key: str) -> bool:
    """Digits, Backspace, Enter and Escape while a frame number is typed; True if used."""
    typed = state.typed or ""
    if key.isdigit():
        state.typed = (typed + key)[:9]
    elif key == "backspace":
        state.typed = typed[:-1] or None
    elif key == "enter":
        state.index, state.typed = int(typed), None
    elif key == "escape":
        state.typed = None
    else:
        return False
    return True


def _orbit_key(orbit: Orbit, key: str) -> bool:
    turns = {
        "arrow_left": (-5.0, 0.0),
        "arrow_right": (5.0, 0.0),
        "arrow_up": (0.0, 5.0),
        "arrow_down": (0.0, -5.0),
    }
    zooms = {"page_up": 0.9, "page_down": 1.1, "wheel_up": 0.9, "wheel_down": 1.1}
    if key in turns:
        orbit.rotate(*turns[key])
    elif key in zooms:
        orbit.zoom(zooms[key])
    else:
        return False
    return True


def _view_key(state: ViewState, key: str, capture: CameraState | None) -> None:
    if key in ("arrow_right", "."):
        state.step(1)
    elif key in ("arrow_left", ","):
        state.step(-1)
    elif key == "space":
        state.paused = not state.paused
    elif key == "]":
        state.rate = min(MAX_RATE, state.rate * 2) if state.rate else 1.0
    elif key == "[":
        state.rate = state.rate / 2 if state.rate / 2 >= MIN_RATE else 0.0
    elif key == "r":
        state.index = random.randrange(max(state.frames, 1))
    elif key == "v":
        state.shown_pass = PASSES[(PASSES.index(state.shown_pass) + 1) % len(PASSES)]
    elif key in OVERLAYS:
        state.overlays ^= {OVERLAYS[key]}
    elif key == "o" and state.overlays:
        state.hidden_overlays, state.overlays = state.overlays, set()
    elif key == "o":
        state.overlays = state.hidden_overlays or set(DEFAULT_OVERLAYS)
    elif key == "f":
        state.orbit = None if state.orbit or capture is None else Orbit.from_camera(capture)
    elif key == "h":
        state.help = not state.help
