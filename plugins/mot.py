"""Writer "mot": each clip as a MOT Challenge sequence (worlds with [clip]; docs/time.md).

    mot/<world>-<clip>/seqinfo.ini    name, frame rate, length, image size, image folder
    mot/<world>-<clip>/gt/gt.txt      frame, id, left, top, width, height, 1, class, visibility
    mot/<world>-<clip>/img1/000001.jpg  the clip's frames, numbered from 1

As in MOT17's ground truth: frames are numbered from 1 within the sequence, coordinates are
1-based pixels (the top-left pixel's corner is (1, 1)), boxes are amodal (the whole object,
also where it is occluded or outside the image) when the world labels `boxes`, else tight, the
class is the category id and visibility the share of the object seen (1 where unknown). A
track id is the object's instance id, which it keeps for the whole clip; objects not seen in
a frame have no line there. Shards hold whole clips, so each sequence is written by one shard.

With a camera rig ([camera.rig]) every camera of a clip is a sequence of its own,
`mot/<world>-<clip>-<camera>/` (`-left`, `-right`; `-cam0`, ...), its boxes and images that
camera's; a track id is the same object in every camera (instance ids are the scene's).
"""

from __future__ import annotations

from pydantic import Field, StrictBool

from simulator import (
    DatasetInfo,
    FrameLabels,
    Params,
    Writer,
    atomic_write,
    encode_image,
    hookimpl,
)

FOLDER = "mot"


class MotParams(Params):
    images: StrictBool = Field(
        True, description="Write each sequence's frames into its img1/ (as MOT tools expect)."
    )


class MotWriter(Writer[MotParams]):
    """MOT Challenge sequences: one per clip (and camera of a rig), with gt/gt.txt,
    seqinfo.ini and img1/."""

    name = "mot"
    one_per_dataset = True
    needs_clip = True

    def __init__(self, params: MotParams, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        self._part = (dataset.part or dataset.root) / FOLDER
        output = dataset.world.get("output", {})
        self._format = output.get("image_format", "jpg")
        self._quality = int(output.get("jpeg_quality", 95))
        self._lines: dict[str, list[str]] = {}  # sequence -> gt lines
        self._info: dict[str, tuple[float, int]] = {}  # sequence -> fps, frames

    def write(self, frame: FrameLabels) -> None:
        clip = frame.clip
        assert clip is not None  # needs_clip: the world has [clip]
        sequence = f"{self.dataset.world_name}-{clip.index:06d}"
        for camera, labels in frame.cameras():  # without a rig, the frame alone, named ""
            self._write(f"{sequence}-{camera}" if camera else sequence, clip.frame + 1, labels)

    def _write(self, name: str, number: int, frame: FrameLabels) -> None:
        """One camera's frame as frame `number` of the sequence `name`."""
        assert frame.clip is not None
        lines = self._lines.setdefault(name, [])
        for obj in frame.objects:
            x, y, w, h = obj.amodal_bbox if obj.amodal_bbox is not None else obj.bbox
            seen = 1.0 if obj.visibility is None else obj.visibility
            lines.append(
                f"{number},{obj.instance_id},{x + 1:.3f},{y + 1:.3f},{w:.3f},{h:.3f},1,"
                f"{obj.category_id},{seen:.6f}"
            )
        fps, frames = self._info.get(name, (frame.clip.fps, 0))
        self._info[name] = (fps, max(frames, number))
        if self.params.images:
            path = self.dataset.root / FOLDER / name / "img1" / f"{number:06d}.{self._format}"
            atomic_write(path, encode_image(frame.passes.color, self._format, self._quality))

    def close(self) -> None:
        for name, lines in self._lines.items():
            folder = self._part / name
            atomic_write(folder / "gt" / "gt.txt", "".join(line + "\n" for line in lines))
            atomic_write(folder / "seqinfo.ini", self._seqinfo(name))

    def _seqinfo(self, name: str) -> str:
        fps, frames = self._info[name]
        rate = int(fps) if float(fps).is_integer() else fps
        return (
            "[Sequence]\n"
            f"name={name}\n"
            "imDir=img1\n"
            f"frameRate={rate}\n"
            f"seqLength={frames}\n"
            f"imWidth={self.dataset.width}\n"
            f"imHeight={self.dataset.height}\n"
            f"imExt=.{self._format}\n"
        )

    def abort(self) -> None:
        self._lines.clear()


@hookimpl
def sim_register_writers(register):
    register(MotWriter)
