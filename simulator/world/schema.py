"""The world file's schema: what a scene may contain, how it varies, what is written.

Each `[[spawners]]`, `[[randomizers]]` and `[[output.writers]]` table names a registered
plugin by `type`; its other keys are that plugin's parameters, validated against the
plugin's own `Params` model once plugins are loaded (see `simulator.capture.pipeline`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializerFunctionWrapHandler,
    StrictBool,
    model_serializer,
    model_validator,
)

from simulator.world.animation import Keyframes
from simulator.world.distributions import Choice, Constant, Count, IntRange
from simulator.world.params import DatasetPath, PlainName
from simulator.world.render import RenderSection

Label = Literal[
    "boxes",
    "masks",
    "visibility",
    "amodal_masks",
    "boxes3d",
    "keypoints",
    "instance",
    "semantic",
    "depth",
    "distance",
    "normals",
    "parts",
    "flow",
    "scene_flow",
    "point_tracks",
]
LABELS: tuple[Label, ...] = (
    "boxes",
    "masks",
    "visibility",
    "boxes3d",
    "keypoints",
    "instance",
    "semantic",
    "depth",
)

# With a 24-bit depth buffer, two surfaces 1 mm apart at 10 m stay apart up to about this ratio.
MAX_DEPTH_RANGE = 100_000
# Instance ids are written as 16-bit PNG masks: at most this many objects per frame.
MAX_INSTANCES = 65_535
# Point tracks per clip ([clip] tracks): Kubric's point-tracking pipeline samples 256 a clip.
TRACKS = 256
MAX_TRACKS = 1_000_000
# A run plans its shards up front; this many frames is more than any run needs in one go.
MAX_FRAMES = 100_000_000


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)


class WorldSection(Section):
    name: PlainName = Field(
        "world", description="Name of the world; also the default output folder."
    )
    seed: int = Field(
        0, ge=0, description="Seed of every random draw: frame i depends only on (seed, i)."
    )
    frames: int = Field(10, ge=1, le=MAX_FRAMES, description="How many frames `sim run` renders.")


Size = Annotated[int, Field(ge=1, le=16384)]


class LensSection(Section):
    """A real lens in OpenCV's conventions (docs/world-format.md, "Lenses")."""

    model: Literal["radtan", "fisheye"] = Field(
        "radtan",
        description="radtan: OpenCV's radial-tangential (k1..k6, p1, p2); fisheye: "
        "Kannala-Brandt, cv2.fisheye (k1..k4).",
    )
    k1: float = Field(0.0, description="Radial coefficient (both models).")
    k2: float = Field(0.0, description="Radial coefficient (both models).")
    k3: float = Field(0.0, description="Radial coefficient (both models).")
    k4: float = Field(0.0, description="radtan: denominator coefficient; fisheye: radial.")
    k5: float = Field(0.0, description="radtan only: denominator coefficient.")
    k6: float = Field(0.0, description="radtan only: denominator coefficient.")
    p1: float = Field(0.0, description="radtan only: tangential coefficient.")
    p2: float = Field(0.0, description="radtan only: tangential coefficient.")

    @model_validator(mode="after")
    def _model_coefficients(self) -> LensSection:
        extra = [n for n in ("k5", "k6", "p1", "p2") if getattr(self, n)]
        if self.model == "fisheye" and extra:
            raise ValueError(
                f'a fisheye lens has k1..k4 only; remove {", ".join(extra)} or use model = "radtan"'
            )
        return self

    def coefficients(self) -> tuple[float, ...]:
        """In OpenCV's order: radtan (k1, k2, p1, p2, k3, k4, k5, k6), fisheye (k1..k4)."""
        if self.model == "fisheye":
            return (self.k1, self.k2, self.k3, self.k4)
        return (self.k1, self.k2, self.p1, self.p2, self.k3, self.k4, self.k5, self.k6)


class RigSection(Section):
    """Several cameras per frame, one scene (docs/world-format.md, "Camera rigs")."""

    kind: Literal["stereo", "ring"] = Field(
        "stereo",
        description="stereo: a rectified pair, the right camera `baseline` metres along the "
        "left (first) camera's x axis, same orientation and intrinsics; ring: `count` cameras "
        "evenly around the vertical axis through the first camera's target, each looking at "
        "it from the first camera's distance and height.",
    )
    baseline: float = Field(
        0.12, gt=0, le=100, description="stereo: distance between the cameras, metres."
    )
    count: int = Field(4, ge=2, le=64, description="ring: cameras in the ring, the first included.")

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> RigSection:
        given = self.model_fields_set
        wrong = _OTHER_KIND[self.kind]
        if wrong in given:
            raise ValueError(f"`{wrong}` is not a setting of a {self.kind} rig: remove it")
        return self

    @model_serializer(mode="wrap")
    def _settings_of_its_kind(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A rig dumps only its own kind's settings, so that its dump validates again (worker
        processes rebuild the world from it)."""
        data = dict(handler(self))
        data.pop(_OTHER_KIND[self.kind], None)
        return data


# The setting of the other kind of rig, which a rig of this kind refuses.
_OTHER_KIND = {"stereo": "count", "ring": "baseline"}


class CameraSection(Section):
    resolution: tuple[Size, Size] = Field((640, 480), description="[width, height] in pixels.")
    fov: float = Field(60.0, gt=0, lt=180, description="Horizontal field of view, degrees.")
    near: float = Field(0.05, gt=0, description="Near clip plane, metres.")
    far: float = Field(100.0, gt=0, description="Far clip plane, metres.")
    position: tuple[float, float, float] = Field((0.0, -6.0, 3.0), description="Camera position.")
    target: tuple[float, float, float] = Field((0.0, 0.0, 0.5), description="Point looked at.")
    lens: LensSection | None = Field(
        None, description="A distorting lens (default: an ideal pinhole); see [camera.lens]."
    )
    rig: RigSection | None = Field(
        None, description="More cameras per frame (default: one); see [camera.rig]."
    )

    @model_validator(mode="after")
    def _clip_planes(self) -> CameraSection:
        if self.near >= self.far:
            raise ValueError(f"near ({self.near}) must be less than far ({self.far})")
        if self.far / self.near > MAX_DEPTH_RANGE:
            raise ValueError(
                f"far / near is {self.far / self.near:.3g}: the 24-bit depth buffer cannot tell "
                f"surfaces apart over that range, so occlusion and depth would be wrong; keep "
                f"far / near at most {MAX_DEPTH_RANGE:,} (raise near: e.g. near = "
                f"{self.far / MAX_DEPTH_RANGE:g} for far = {self.far:g})"
            )
        if tuple(self.position) == tuple(self.target):
            raise ValueError("position and target coincide: the camera has no viewing direction")
        if self.rig is not None and self.lens is not None:
            raise ValueError(
                "a stereo rig's cameras are a rectified pair, which a distorting lens is not: "
                "remove [camera.lens] (or [camera.rig])"
            )
        return self


class ClipSection(Section):
    """`[clip]`: the world renders clips, runs of frames that share one scene evolving in
    time (docs/time.md). Frame f is frame f % frames of clip f // frames."""

    frames: int = Field(
        24,
        ge=1,
        le=MAX_FRAMES,
        description="Frames per clip; a clip is sampled, sharded "
        "and resumed whole, and clip c depends only on (seed, c).",
    )
    fps: float = Field(12.0, gt=0, le=10_000, description="Frames per second of the clip.")
    flow_format: Literal["npy", "kitti"] = Field(
        "npy",
        description='`flow` label files: float32 .npy (H, W, 2) pixels, or "kitti": the '
        "KITTI 16-bit PNG (u, v, valid).",
    )
    shutter: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Motion blur: the fraction of the frame interval the shutter is open, "
        "centred on the frame's time (0: off; 0.5: a 180-degree shutter). The RGB only: "
        "the labels stay those of the shutter's centre.",
    )
    blur_samples: int = Field(
        8,
        ge=2,
        le=64,
        description="Sub-frames drawn and averaged over the open shutter (with Cycles, which "
        "traces each path at a time of its own: the times its lights and film gain are "
        "averaged over).",
    )
    tracks: int = Field(
        TRACKS,
        ge=1,
        le=MAX_TRACKS,
        description="`point_tracks` label: points drawn on the clip's labeled objects and "
        "followed through it (those never seen are dropped from tracks/<clip>.npz).",
    )

    @model_serializer(mode="wrap")
    def _without_blur(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Without motion blur the clip dumps as it did before blur existed, so the
        manifests of such worlds (which --resume compares) are unchanged."""
        data = dict(handler(self))
        if not data.get("shutter"):
            data.pop("shutter", None)
            data.pop("blur_samples", None)
        if data.get("tracks") == TRACKS:  # likewise for worlds made before point tracks
            data.pop("tracks", None)
        return data


class PluginEntry(BaseModel):
    """A table naming a plugin by `type`; every other key is one of that plugin's parameters."""

    model_config = ConfigDict(extra="allow", validate_default=True, allow_inf_nan=False)
    type: str = Field(description="The registered name of the plugin component.")
    name: PlainName | None = Field(
        None, description="Unique name; seeds this entry's random stream."
    )

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    @property
    def key(self) -> str:
        return self.name or self.type


class SpawnerEntry(PluginEntry):
    category: str | None = Field(None, description="Label of what this spawner places.")
    distractor: StrictBool = Field(
        False, description="Unlabeled clutter: rendered, occludes, no labels."
    )
    count: Count = Field(1, description="How many to place per frame.")

    @property
    def key(self) -> str:
        return self.name or self.category or self.type


class RandomizerEntry(PluginEntry):
    targets: list[str] | None = Field(
        None, description="Categories or spawner names this randomizer acts on (default: all)."
    )


def _writer_entry(value: Any) -> Any:
    return {"type": value} if isinstance(value, str) else value


class WriterEntry(PluginEntry):
    pass


class LabelerEntry(PluginEntry):
    pass


class OutputSection(Section):
    dir: DatasetPath | None = Field(
        None,
        description="Output directory, relative to the working directory and without '..' "
        "(default: out/<world name>); elsewhere, pass --out.",
    )
    labels: list[Label] = Field(
        list(LABELS),
        description="Ground truth besides the RGB image and tight boxes (docs/labels.md).",
    )
    writers: list[Annotated[WriterEntry, BeforeValidator(_writer_entry)]] = Field(
        default_factory=lambda: [WriterEntry(type="coco"), WriterEntry(type="native")],
        description="Dataset formats, by name or as tables with parameters.",
    )
    image_format: Literal["jpg", "png"] = Field("jpg", description="RGB image encoding.")
    depth_format: Literal["png", "npy"] = Field(
        "png", description="depth and distance: 16-bit PNG in millimetres, or float32 .npy metres."
    )
    normals_format: Literal["png", "npy"] = Field(
        "png", description="normals: 8-bit PNG of (n + 1) / 2, or float32 .npy unit vectors."
    )
    jpeg_quality: int = Field(
        95, ge=1, le=100, description="JPEG quality when image_format is jpg."
    )


class PluginsSection(Section):
    paths: list[str] = Field([], description="Plugin files (.py) to load, relative to this file.")
    disable: list[str] = Field([], description="Registered plugins not to load, by name.")


# The labels that follow motion between frames: each needs a clip (every camera of a rig
# gets its own, a lens's distorted frame too).
TIME_LABELS: dict[str, str] = {
    "flow": "optical flow",
    "scene_flow": "scene flow",
    "point_tracks": "point tracking",
}


def _most(count: Any) -> float:
    """The largest value a count distribution can draw (keyframes: at any key)."""
    if isinstance(count, Keyframes):
        return max(_most(value) for _, value in count.keys)
    if isinstance(count, IntRange):
        return count.high
    if isinstance(count, Choice):
        return max(count.options)
    return float(count.value) if isinstance(count, Constant) else 0.0


class World(Section):
    world: WorldSection = Field(default_factory=lambda: WorldSection())
    camera: CameraSection = Field(default_factory=lambda: CameraSection())
    render: RenderSection = Field(default_factory=lambda: RenderSection())
    clip: ClipSection | None = Field(
        None, description="Render clips of frames evolving in time (none: independent frames)."
    )
    spawners: list[SpawnerEntry] = []
    randomizers: list[RandomizerEntry] = []
    labelers: list[LabelerEntry] = []
    output: OutputSection = Field(default_factory=lambda: OutputSection())
    plugins: PluginsSection = Field(default_factory=lambda: PluginsSection())

    _file: Path | None = PrivateAttr(None)

    @model_validator(mode="after")
    def _instances_fit(self) -> World:
        most = sum(_most(entry.count) for entry in self.spawners)
        if most > MAX_INSTANCES:
            raise ValueError(
                f"the spawners may place up to {most:,.0f} objects in a frame, but instance ids "
                f"are 16-bit in the masks: at most {MAX_INSTANCES:,} per frame"
            )
        return self

    @model_validator(mode="after")
    def _flow_needs_clip(self) -> World:
        for label, what in TIME_LABELS.items():
            if label not in self.output.labels:
                continue
            if self.clip is None:
                raise ValueError(
                    f"the label {label!r} is {what} over the frames of a clip: add a [clip] "
                    f"section (e.g. frames = 24, fps = 12) or remove {label!r} from [output] "
                    "labels"
                )
        return self

    @model_serializer(mode="wrap")
    def _without_clip(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A world without `[clip]` dumps as it did before clips existed, so its manifest
        (and everything compared against it, such as --resume) is unchanged."""
        data = handler(self)
        if data.get("clip", 0) is None:
            del data["clip"]
        return dict(data)

    _text: str = PrivateAttr("")

    @property
    def file(self) -> Path | None:
        return self._file

    @property
    def text(self) -> str:
        return self._text

    @property
    def directory(self) -> Path:
        """Plugin and model paths in the world file are resolved against this directory
        (`[output] dir`, like `--out`, is relative to the working directory)."""
        return self._file.parent if self._file else Path.cwd()

    def output_dir(self) -> Path:
        return Path(self.output.dir) if self.output.dir else Path("out") / self.world.name
