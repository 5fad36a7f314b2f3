"""The label records: what a frame's ground truth is, as derived (exact, never estimated)
from its rendered passes, and how it is written in the native per-frame record.

Boxes follow COCO: [x, y, width, height] in pixel-edge coordinates, so a box around pixel
columns 10..19 starts at x = 10 and is 10 wide. Areas are visible pixel counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.scene.motion import ClipFrame
from simulator.scene.scene import Scene

# What a pixel's optical flow is (Flow.flags): the flow vector means something only where VALID.
FLOW_NONE = 0  # no surface here (the background)
FLOW_VALID = 1  # the surface point is seen at the other frame too, where the vector says
FLOW_OCCLUDED = 2  # it is inside the other frame's image but hidden there
FLOW_OUTSIDE = 3  # it leaves the image (or goes behind the camera, or is not in the other frame)
FLOW_NO_FRAME = 4  # the clip has no frame there (backward at its first, forward at its last)


@dataclass
class Keypoint:
    """A named point of an object projected into the frame.

    `visibility` follows COCO: 0 not labeled (outside the image, or not beyond the near
    plane; x and y are then 0), 1 labeled but occluded, 2 visible (by the depth test).
    """

    name: str
    x: float
    y: float
    visibility: int
    depth: float  # camera-space z, metres (negative: behind the camera)

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "x": round_floats(self.x),
            "y": round_floats(self.y),
            "v": self.visibility,
            "depth": round_floats(self.depth),
        }


@dataclass
class ObjectLabel:
    """One labeled object with at least one visible pixel.

    Boxes are [x, y, width, height] in pixel-edge coordinates. `bbox` bounds the visible
    pixels (integers); `amodal_bbox` bounds the whole object as if nothing occluded it and
    the image went on forever (floats, may reach outside the image); `amodal_bbox_clipped` is
    that box cut to the image. Labels the world did not ask for stay None (`amodal_masks`
    brings `unoccluded_pixels` and `visibility` with it: they come from the same passes).
    """

    instance_id: int
    category: str
    category_id: int
    bbox: list[int]
    area: int  # visible pixels
    rle: dict[str, Any] | None = None  # COCO compressed RLE of the visible mask
    amodal_bbox: list[float] | None = None
    amodal_bbox_clipped: list[float] | None = None
    truncation: float | None = None  # share of the amodal box's area outside the image
    unoccluded_pixels: int | None = None  # pixels of the object drawn alone
    visibility: float | None = None  # area / unoccluded_pixels
    amodal_rle: dict[str, Any] | None = None  # mask of the object drawn alone
    box3d: dict[str, Any] | None = None
    keypoints: list[Keypoint] | None = None
    parts: dict[str, dict[str, Any]] | None = None  # visible parts: bbox, area, segmentation
    attributes: dict[str, Any] = field(default_factory=dict)  # set by labelers and hooks

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "instance_id": self.instance_id,
            "category": self.category,
            "category_id": self.category_id,
            "bbox": self.bbox,
            "area": self.area,
        }
        optional = {
            "amodal_bbox": round_floats(self.amodal_bbox),
            "amodal_bbox_clipped": round_floats(self.amodal_bbox_clipped),
            "truncation": round_floats(self.truncation),
            "unoccluded_pixels": self.unoccluded_pixels,
            "visibility": round_floats(self.visibility),
            "segmentation": self.rle,
            "amodal_segmentation": self.amodal_rle,
            "box3d": self.box3d,
            "keypoints": None if self.keypoints is None else [k.record() for k in self.keypoints],
            "parts": self.parts,
            "attributes": self.attributes or None,
        }
        out.update({key: value for key, value in optional.items() if value is not None})
        return out


def round_floats(value: Any, digits: int = 6) -> Any:
    """Round floats (in lists and dicts too) so records are compact and stable."""
    # Plain floats and lists first, by their exact type: most of what a record holds (a 3D box
    # is some 60 floats in lists), rounded without a call each. Subclasses (numpy's float64
    # rounds with its own __round__) take the general way below, as before.
    if type(value) is float:
        return round(value, digits)
    if type(value) is list:
        return [round(v, digits) if type(v) is float else round_floats(v, digits) for v in value]
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [round_floats(v, digits) for v in value]
    if isinstance(value, float):
        return round(value, digits)
    return value


@dataclass
class Flow:
    """Optical flow from this frame to a neighbouring one of its clip: for every pixel, where
    its surface point is seen there, minus where it is here (pixels, x right, y down); or
    the scene flow: the point's camera coordinates there minus here (metres, OpenCV axes)."""

    vectors: np.ndarray  # (H, W, 2) float32 (scene flow: (H, W, 3)); 0 where not FLOW_VALID
    flags: np.ndarray  # (H, W) uint8: FLOW_NONE, FLOW_VALID, FLOW_OCCLUDED, ...


@dataclass(frozen=True, eq=False)
class TrackPoints:
    """A clip's query points (label `point_tracks`): points on its labeled objects' surfaces,
    each in its object's own frame, rigid with it for the whole clip."""

    object_points: np.ndarray  # (N, 3) float64, each in the frame of its object's mesh
    instance_ids: np.ndarray  # (N,) int64: the object each point lies on


@dataclass
class TrackFrame:
    """Where a clip's query points are at one of its frames (label `point_tracks`): pixel
    (x, y) in pixel-edge coordinates (the top-left pixel's centre is (0.5, 0.5), as every 2D
    label of sim), plane depth (metres) and whether each is seen there (in the image, beyond
    the near plane, and the passes show its surface)."""

    clip: int  # the clip's index
    frame: int  # the frame's place in the clip, 0-based
    points: TrackPoints
    xy: np.ndarray  # (N, 2) float64
    depth: np.ndarray  # (N,) float64 camera z (negative: behind the camera)
    visible: np.ndarray  # (N,) bool


@dataclass
class FrameLabels:
    """Everything known about one rendered frame, handed to every writer."""

    index: int
    seed: int
    scene: Scene
    passes: RenderedPasses
    objects: list[ObjectLabel]
    files: dict[str, str] = field(default_factory=dict)  # pass name -> path in the dataset
    extra: dict[str, Any] = field(default_factory=dict)  # per-frame values from labelers
    clip: ClipFrame | None = None  # where the frame sits in its clip (worlds with [clip])
    flow: dict[str, Flow] = field(default_factory=dict)  # "forward", "backward" (label flow)
    # The same directions' 3D scene flow (label scene_flow): (H, W, 3) float32 metres.
    scene_flow: dict[str, Flow] = field(default_factory=dict)
    point_tracks: TrackFrame | None = None  # label point_tracks: the clip's points here
    # Per-pixel maps from labelers (e.g. depth_noise's "depth_noisy"), written as
    # <name>/NNNNNN.npy (docs/labels.md, "Files per frame").
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    # In a camera rig (docs/labels.md, "Camera rigs"): this camera's name and pose in the
    # rig (4x4, camera to the first camera, OpenCV axes; the first camera's name is set
    # after its labelers ran, the others' before); on the first camera's frame, the
    # other cameras' frames by name and the stereo pair's disparity (float32, pixels).
    camera_name: str = ""
    rig_pose: np.ndarray | None = None
    views: dict[str, FrameLabels] = field(default_factory=dict)
    disparity: np.ndarray | None = None

    @property
    def width(self) -> int:
        return self.scene.camera.width

    def cameras(self) -> list[tuple[str, FrameLabels]]:
        """Every camera's frame by its name, this one first: in a rig, the first camera and
        then the others (`views`); without one, this frame alone, named ""."""
        return [(self.camera_name, self), *self.views.items()]

    @property
    def height(self) -> int:
        return self.scene.camera.height

    def record(self) -> dict[str, Any]:
        """The native, self-describing record of this frame."""
        return {
            "frame": self.index,
            "seed": self.seed,
            "width": self.width,
            "height": self.height,
            "files": self.files,
            "camera": self.scene.camera.record(),
            "objects": [o.record() for o in self.objects],
            **({"extra": self.extra} if self.extra else {}),
            **({"rig": self.rig_record()} if self.views else {}),
            "scene": self.scene.record(camera=False),
            **(
                {"clip": self.clip.record(), "tracks": self.tracks()}
                if self.clip is not None
                else {}
            ),
        }

    def tracks(self) -> list[dict[str, Any]]:
        """Every labeled object of the clip in this frame, seen or not: its track id (its
        instance id, fixed for the clip) and the pixels of it seen (0: out of view or hidden)."""
        seen = {o.instance_id: o for o in self.objects}
        out: list[dict[str, Any]] = []
        for entity in self.scene.entities:
            if entity.category is None:
                continue
            obj = seen.get(entity.instance_id)
            track: dict[str, Any] = {
                "track_id": entity.instance_id,
                "category": entity.category,
                "area": obj.area if obj else 0,
            }
            if obj is None or obj.visibility is not None:
                track["visibility"] = round_floats(obj.visibility) if obj else 0.0
            out.append(track)
        return out

    def rig_record(self) -> dict[str, Any]:
        """Every camera of the rig, the first (this frame's) included: its pose in the rig,
        and for the others their files, camera and objects as this frame's own."""
        cameras: dict[str, Any] = {self.camera_name: {"pose": _pose(self.rig_pose)}}
        for name, view in self.views.items():
            cameras[name] = {
                "pose": _pose(view.rig_pose),
                "files": view.files,
                "camera": view.scene.camera.record(),
                "objects": [o.record() for o in view.objects],
                **({"extra": view.extra} if view.extra else {}),
            }
        return {"first": self.camera_name, "cameras": cameras}


def _pose(pose: np.ndarray | None) -> list[list[float]]:
    matrix = np.eye(4) if pose is None else pose
    return [round_floats([float(v) for v in row]) for row in matrix]


@dataclass(frozen=True)
class KeypointSchema:
    """The named keypoints of a category, in label order, and the skeleton joining them."""

    names: tuple[str, ...]
    skeleton: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        unknown = {n for pair in self.skeleton for n in pair} - set(self.names)
        if unknown:
            raise ValueError(f"skeleton names unknown keypoints: {sorted(unknown)}")


@dataclass
class RenderedPasses:
    """One frame's passes, top row first. Background: id 0, depth 0, distance 0, normal 0."""

    color: np.ndarray  # (H, W, 3) uint8, sRGB
    instance: np.ndarray  # (H, W) uint32 instance id
    depth: np.ndarray  # (H, W) float32 plane depth along the optical axis, metres
    distance: np.ndarray  # (H, W) float32 ray distance from the camera centre, metres
    normal: np.ndarray  # (H, W, 3) float32 unit normals in camera coordinates (OpenCV axes)
