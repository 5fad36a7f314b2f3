"""Shards: a run's frames cut into fixed consecutive ranges, each written whole or not at all.

Shard boundaries depend only on the run's start and frame count (and a world's clip length:
shards hold whole clips), never on how many workers
render them, and writers' parts are merged in shard order, so the dataset's bytes are the
same whatever the worker count. A shard is done when its marker file exists, written after
everything else of the shard: a run killed at any moment resumes by redoing the shards that
have no marker.

    <root>/.sim/shards/000003/<writer name>/...   a writer's part of shard 3
    <root>/.sim/shards/000003/done                the marker: frames and objects written,
                                                  frames skipped (--skip-failed-frames)
"""

from __future__ import annotations

import json
import shutil
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path
from typing import Any

from simulator.capture.frame import Renderer
from simulator.dataset import layout
from simulator.dataset.atomic import atomic_write
from simulator.errors import PluginError
from simulator.labels.records import FrameLabels, TrackFrame
from simulator.plugin.components import DatasetInfo, Writer

SHARD_SIZE = 50
STATE = layout.STATE


@dataclass(frozen=True)
class Shard:
    index: int
    start: int
    stop: int  # exclusive

    @property
    def frames(self) -> range:
        return range(self.start, self.stop)


def plan(start: int, count: int, size: int = SHARD_SIZE, clip: int | None = None) -> list[Shard]:
    """The shards of frames [start, start + count). With clips of `clip` frames, shards hold
    whole clips (about `size` frames' worth): they are cut at clip boundaries only, so a
    clip's frames are rendered in order by one renderer, and resumed whole."""
    if clip is None:
        return [
            Shard(i, s, min(s + size, start + count))
            for i, s in enumerate(range(start, start + count, size))
        ]
    step = clip * max(1, round(size / clip))
    stop = start + count
    cuts = [start, *range((start // step + 1) * step, stop, step), stop]
    return [Shard(i, a, b) for i, (a, b) in enumerate(pairwise(cuts))]


def directory(root: Path, shard: Shard) -> Path:
    return root / STATE / "shards" / f"{shard.index:06d}"


def part(root: Path, shard: Shard, writer_key: str) -> Path:
    return directory(root, shard) / writer_key


def is_done(root: Path, shard: Shard) -> bool:
    return (directory(root, shard) / "done").is_file()


def begin(root: Path, shard: Shard) -> None:
    """Start (or restart) a shard from nothing."""
    shutil.rmtree(directory(root, shard), ignore_errors=True)
    directory(root, shard).mkdir(parents=True)


def finish(root: Path, shard: Shard, objects: int, skipped: list[dict[str, Any]]) -> None:
    """Mark a shard done, with what it wrote: the marker is the shard's last file."""
    result = {"frames": len(shard.frames) - len(skipped), "objects": objects, "skipped": skipped}
    atomic_write(directory(root, shard) / "done", json.dumps(result))


def result(root: Path, shard: Shard) -> dict[str, Any]:
    """What a done shard wrote: {"frames", "objects", "skipped"}."""
    return json.loads((directory(root, shard) / "done").read_text())


def clear(root: Path) -> None:
    shutil.rmtree(root / STATE, ignore_errors=True)


class ClipTracks:
    """A shard's point tracks (label point_tracks): each clip's frames gathered as they are
    rendered, per camera of a rig, and its tracks files made when the clip's last frame in
    the shard is done (a shard holds whole clips, but at a run's ends: so a resumed shard
    writes the same files)."""

    def __init__(self, clip_frames: int, shard: Shard) -> None:
        self._clip_frames, self._stop = clip_frames, shard.stop
        self._frames: dict[str, list[TrackFrame]] = {}  # by camera ("": the first)

    def add(self, frame: FrameLabels) -> None:
        """The frame's tracks, its rig's other cameras' too (each by its name)."""
        for camera, labels in [("", frame), *frame.views.items()]:
            if labels.point_tracks is not None:
                self._frames.setdefault(camera, []).append(labels.point_tracks)

    def ends(self, index: int) -> dict[str, tuple[str, Callable[[], bytes]]]:
        """After frame `index` (rendered or skipped): when the frame ends the clip (or the
        shard), each camera's tracks file and its encoder, by camera, for the cameras whose
        tracks the clip has; else nothing."""
        last = index == self._stop - 1 or (index + 1) % max(self._clip_frames, 1) == 0
        if not last:
            return {}
        frames, self._frames = self._frames, {}
        return {
            camera: layout.tracks_file(rows[0].clip, rows, camera)
            for camera, rows in frames.items()
        }


@dataclass(frozen=True)
class Job:
    """What every shard of a run shares."""

    root: Path
    dataset: DatasetInfo
    skip_failed: bool


def write_shard(
    renderer: Renderer,
    job: Job,
    shard: Shard,
    progress: Callable[[int], None] = lambda index: None,
    ready: dict[int, FrameLabels] | None = None,
    on_labels: Callable[[FrameLabels], None] | None = None,
) -> None:
    """Render, label and write one shard from scratch, then mark it done. `ready` holds
    frames this renderer already rendered (with their hooks), to be used instead."""
    begin(job.root, shard)
    writers: list[Writer] = []
    skipped: list[dict[str, Any]] = []
    objects = 0
    # Pass files are encoded on a thread (Pillow and zlib release the GIL) while the next frame
    # renders; at most two frames wait, so memory stays bounded.
    encoding: deque[Future[None]] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="encode") as encoder:
        try:
            for bound in renderer.pipeline.writers:
                folder = part(job.root, shard, bound.entry.key)
                writers.append(bound.component(bound.params, replace(job.dataset, part=folder)))
            tracks = ClipTracks(renderer.world.clip.frames if renderer.world.clip else 0, shard)
            for index in shard.frames:
                try:
                    frame = (ready or {}).pop(index, None) or renderer.frame(index)
                except PluginError as error:
                    if not job.skip_failed:
                        raise
                    skipped.append({"frame": index, "error": str(error)})
                    ended = tracks.ends(index)
                    if ended:  # the clip's tracks over its frames that were rendered
                        files = list(ended.values())
                        encoding.append(encoder.submit(layout.write_files, job.root, files))
                    progress(index)
                    continue
                frame.files, jobs = layout.frame_files(
                    frame, renderer.world.output, renderer.world.clip
                )
                tracks.add(frame)
                for camera, clip_file in tracks.ends(index).items():
                    labels = frame.views[camera] if camera else frame
                    labels.files["point_tracks"] = clip_file[0]
                    jobs.append(clip_file)
                encoding.append(encoder.submit(layout.write_files, job.root, jobs))
                for writer in writers:
                    writer.write(frame)
                renderer.frame_end(frame)
                if on_labels:
                    on_labels(frame)
                objects += len(frame.objects)
                while len(encoding) > 2:
                    encoding.popleft().result()
                progress(index)
            while encoding:
                encoding.popleft().result()
            for writer in writers:
                writer.close()
            writers.clear()
            finish(job.root, shard, objects, skipped)
        finally:
            for writer in writers:  # emptied on success: only a shard that failed aborts
                writer.abort()
            for pending in encoding:
                pending.cancel()
