"""What `sim validate --json` prints: a world as sim understood it, for scripts.

The names, types and plugins of every bound entry, the categories and keypoint schemas the
spawners declare, and the world's own numbers, read off the validated `Pipeline`, so a
script sees what a run would do without rendering (and without parsing the TOML itself).
"""

from __future__ import annotations

from typing import Any

from simulator.capture.pipeline import Bound, Pipeline


def _entry(bound: Bound[Any, Any]) -> dict[str, Any]:
    return {"name": bound.entry.key, "type": bound.entry.type, "plugin": bound.plugin}


def pipeline_record(pipeline: Pipeline) -> dict[str, Any]:
    """The world behind `pipeline` as plain JSON data."""
    world = pipeline.world
    return {
        "file": None if world.file is None else str(world.file),
        "name": world.world.name,
        "seed": world.world.seed,
        "frames": world.world.frames,
        "resolution": list(world.camera.resolution),
        "spawners": [
            {**_entry(b), "category": b.entry.category, "distractor": b.entry.distractor}
            for b in pipeline.spawners
        ],
        "randomizers": [{**_entry(b), "targets": b.entry.targets} for b in pipeline.randomizers],
        "labelers": [_entry(b) for b in pipeline.labelers],
        "writers": [_entry(b) for b in pipeline.writers],
        "categories": list(pipeline.categories),
        "keypoints": {
            category: {"names": list(s.names), "skeleton": [list(p) for p in s.skeleton]}
            for category, s in pipeline.keypoints.items()
        },
        "labels": list(world.output.labels),
    }
