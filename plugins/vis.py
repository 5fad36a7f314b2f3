"""Writer "vis": clips as a YouTube-VIS (COCO video) instance segmentation dataset (worlds with
[clip]; docs/time.md).

    vis/instances.json                  videos, annotations (one per track), categories
    vis/JPEGImages/<world>-<clip>/000000.jpg  each clip's frames, numbered from 0

As YouTube-VIS 2019/2021 defines it: `videos` (id, width, height, length, file_names: one
per frame, relative to JPEGImages/), `annotations` one per track (id, video_id, category_id,
iscrowd 0, and per frame of the video `segmentations` as COCO RLE, `bboxes` [x, y, w, h] of
the visible pixels and `areas` in pixels, each null in the frames where the object is not
seen), `categories`. A track is an object's instance id, fixed for its clip; objects never
seen in their clip have no annotation. Shards hold whole clips, so a video's annotations are
gathered by one shard; `merge` numbers the annotations across the dataset.

With a camera rig ([camera.rig]) every camera of a clip is a video of its own, id
clip * cameras + the camera's place in the rig + 1, named by its `camera` (`left`, `right`;
`cam0`, ...), its frames in JPEGImages/<world>-<clip>-<camera>/ and its tracks' masks that
camera's; a track id is the same object in every camera (instance ids are the scene's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, StrictBool

from sim_plugins.coco import copy_lines
from simulator import (
    DatasetInfo,
    DatasetPath,
    FrameLabels,
    Params,
    Writer,
    atomic_open,
    atomic_write,
    encode_image,
    hookimpl,
)

FOLDER = "vis"


class VisParams(Params):
    path: DatasetPath = Field(
        "vis/instances.json", description="Where the YouTube-VIS file goes, in the dataset."
    )
    images: StrictBool = Field(
        True,
        description="Write each clip's frames into vis/JPEGImages/<world>-<clip>/ (the layout "
        "VIS loaders expect); false: file_names point to the dataset's own images.",
    )


class Video:
    """One camera's frames of a clip, gathered: their file names and each track's objects."""

    def __init__(self, video_id: int, camera: str) -> None:
        self.id, self.camera = video_id, camera  # camera "": no rig
        self.files: list[str] = []
        self.tracks: dict[int, dict[int, Any]] = {}  # track id -> clip frame -> object

    def add(self, number: int, frame: FrameLabels, file_name: str) -> None:
        self.files.append(file_name)
        for obj in frame.objects:
            self.tracks.setdefault(obj.instance_id, {})[number] = obj

    def record(self, dataset: DatasetInfo) -> dict[str, Any]:
        return {
            "id": self.id,
            **({"camera": self.camera} if self.camera else {}),
            "width": dataset.width,
            "height": dataset.height,
            "length": len(self.files),
            "file_names": self.files,
        }

    def annotations(self, dataset: DatasetInfo) -> list[dict[str, Any]]:
        """One per track seen in the video, in track order (ids are given at merge time)."""
        out = []
        for track_id in sorted(self.tracks):
            seen = self.tracks[track_id]
            first = seen[min(seen)]
            frames = [seen.get(k) for k in range(len(self.files))]
            out.append(
                {
                    "video_id": self.id,
                    "category_id": first.category_id,
                    "iscrowd": 0,
                    "width": dataset.width,
                    "height": dataset.height,
                    "length": 1,
                    "track_id": track_id,
                    "segmentations": [o.rle if o else None for o in frames],
                    "bboxes": [o.bbox if o else None for o in frames],
                    "areas": [o.area if o else None for o in frames],
                }
            )
        return out


class VisWriter(Writer[VisParams]):
    """YouTube-VIS instance segmentation of clips: one video per clip (and camera of a rig),
    one annotation per track."""

    name = "vis"
    one_per_dataset = True
    needs_clip = True

    @classmethod
    def requires(cls, params: VisParams) -> set[str]:
        return {"masks"}

    def __init__(self, params: VisParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        part = dataset.part or dataset.root
        part.mkdir(parents=True, exist_ok=True)
        self._videos = (part / "videos.jsonl").open("w")
        self._annotations = (part / "annotations.jsonl").open("w")
        output = dataset.world.get("output", {})
        self._format = output.get("image_format", "jpg")
        self._quality = int(output.get("jpeg_quality", 95))
        self._clip: int | None = None  # the clip being gathered
        self._videos_of_clip: list[Video] = []  # its videos, one per camera, in rig order

    def write(self, frame: FrameLabels) -> None:
        clip = frame.clip
        assert clip is not None  # needs_clip: the world has [clip]
        if clip.index != self._clip:
            self._flush()
            self._clip = clip.index
        cameras = frame.cameras()  # without a rig, the frame alone, named ""
        if not self._videos_of_clip:
            count = len(cameras)
            self._videos_of_clip = [
                Video(clip.index * count + k + 1, camera) for k, (camera, _) in enumerate(cameras)
            ]
        base = f"{self.dataset.world_name}-{clip.index:06d}"
        for video, (camera, labels) in zip(self._videos_of_clip, cameras, strict=True):
            name = f"{base}-{camera}" if camera else base
            video.add(clip.frame, labels, self._file_name(name, clip.frame, labels))

    def _file_name(self, video: str, number: int, frame: FrameLabels) -> str:
        """The frame's image as the video names it (written into JPEGImages/ if asked)."""
        if not self.params.images:
            return frame.files["image"]
        file_name = f"{video}/{number:06d}.{self._format}"
        image = encode_image(frame.passes.color, self._format, self._quality)
        atomic_write(self.dataset.root / FOLDER / "JPEGImages" / file_name, image)
        return file_name

    def _flush(self) -> None:
        """The gathered clip's videos and their tracks, one JSON line each."""
        for video in self._videos_of_clip:
            self._videos.write(json.dumps(video.record(self.dataset)) + "\n")
            for annotation in video.annotations(self.dataset):
                self._annotations.write(json.dumps(annotation) + "\n")
        self._clip, self._videos_of_clip = None, []

    def close(self) -> None:
        self._flush()
        self._videos.close()
        self._annotations.close()

    def abort(self) -> None:
        self._videos.close()
        self._annotations.close()

    @classmethod
    def merge(cls, params: VisParams, dataset: DatasetInfo, parts: list[Path]) -> None:
        """One YouTube-VIS file from the shards' parts, streamed in clip order."""
        categories = [
            {"id": i + 1, "name": n, "supercategory": n} for i, n in enumerate(dataset.categories)
        ]
        info = {"description": dataset.world_name, "version": "1.0", "contributor": "sim"}
        with atomic_open(dataset.root / params.path) as out:
            out.write('{"info": ' + json.dumps(info) + ', "licenses": [], "videos": [')
            copy_lines([p / "videos.jsonl" for p in parts], out)
            out.write('], "annotations": [')
            copy_lines([p / "annotations.jsonl" for p in parts], out, number_from=1)
            out.write('], "categories": ' + json.dumps(categories) + "}\n")


@hookimpl
def sim_register_writers(register):
    register(VisWriter)
