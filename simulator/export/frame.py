"""`sim export`: frame N of a finished dataset as a .glb (and its environment as an .hdr).

The manifest holds the validated world and its seed, and frame N depends only on them
(capture.pipeline), so the scene rebuilt here is the one the dataset's labels were made
from; where the dataset kept native records, the rebuilt camera and entity poses are
checked against frame N's record before anything is written. A manifest is data: plugin
files it names run only with `trust_plugins`, as for `sim replay`.

Files are written whole or not at all (dataset.atomic): the environment image first, then
the .glb; if the .glb cannot be written, the image is removed again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from simulator.capture.pipeline import Pipeline, host_for
from simulator.dataset.atomic import atomic_write
from simulator.dataset.read import open_dataset
from simulator.engine.geometry import GeometryCache
from simulator.errors import OutputError
from simulator.export.gltf import scene_document
from simulator.run.replay import world_of
from simulator.scene.scene import Scene

ENVIRONMENT_LAYOUT = (
    "equirectangular, linear radiance, Blender's layout: the centre column looks along "
    "sim's +X, the top row at the zenith (+Z); turn it by rotation_degrees about +Z"
)


@dataclass(frozen=True)
class Exported:
    """What `export_frame` wrote."""

    glb: Path
    environment: Path | None
    entities: int
    lights: int
    notes: list[str] = field(default_factory=list)


def frame_scene(dataset: Path, frame: int, trust_plugins: bool = False) -> Scene:
    """The `Scene` of frame `frame` of `dataset`, rebuilt from its manifest."""
    folder = open_dataset(dataset)
    manifest = folder.manifest
    start, count = manifest.get("start", 0), manifest.get("frames", 0)
    if not start <= frame < start + count:
        raise OutputError(
            f"frame {frame} is not in {dataset} (frames {start} to {start + count - 1})"
        )
    world = world_of(dataset)
    if world.plugins.paths and not trust_plugins:
        raise OutputError(
            f"the world of {dataset} loads plugin files ({', '.join(world.plugins.paths)}), "
            "which are code; export runs them only with --trust-plugins"
        )
    scene = Pipeline(world, host_for(world)).build_scene(frame)
    if folder.has_records:
        _check_record(scene, folder.record(frame), dataset, frame)
    return scene


def _check_record(scene: Scene, record: dict[str, Any], dataset: Path, frame: int) -> None:
    """Refuse a rebuilt scene whose camera or entity poses are not the recorded ones."""
    rebuilt = scene.record()
    pairs = [("the camera", rebuilt["camera"]["cam_to_world"], record["camera"]["cam_to_world"])]
    recorded = record.get("scene", {}).get("entities", [])
    if len(recorded) != len(rebuilt["entities"]):
        pairs.append(("the entity count", len(rebuilt["entities"]), len(recorded)))
    for mine, theirs in zip(rebuilt["entities"], recorded, strict=False):
        for name in ("position", "hpr", "scale"):
            pairs.append((f"entity {theirs.get('instance_id')} {name}", mine[name], theirs[name]))
    for what, mine, theirs in pairs:
        if not np.allclose(np.asarray(mine, float), np.asarray(theirs, float), atol=1e-5):
            raise OutputError(
                f"frame {frame} rebuilt from {dataset}'s manifest differs from its record "
                f"({what}: {mine} here, {theirs} recorded): was the dataset made by another "
                "version of sim or of its plugins?"
            )


def _check_output(out: Path) -> None:
    """A .glb path whose folder exists (or can be made) and can be written, before any work."""
    if out.suffix.lower() != ".glb":
        raise OutputError(f"-o {out}: name a .glb file (binary glTF), e.g. -o scene.glb")
    if out.is_dir():
        raise OutputError(f"-o {out} is a folder: name a .glb file in it, e.g. {out / 'scene.glb'}")
    folder = out.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {out}: {folder} is not a writable folder")


def environment_path(out: Path) -> Path:
    """Where the environment image of `out` goes: `<name>_environment.hdr` beside it."""
    return out.with_name(f"{out.stem}_environment.hdr")


def export_frame(dataset: Path, frame: int, out: Path, trust_plugins: bool = False) -> Exported:
    """Write frame `frame` of `dataset` as the binary glTF `out` (see the module's doc)."""
    _check_output(out)
    scene = frame_scene(dataset, frame, trust_plugins)
    extras: dict[str, Any] = {"dataset": str(dataset), "frame": frame}
    hdr: bytes | None = None
    target = environment_path(out)
    environment = scene.environment
    if environment is not None:
        ok, encoded = cv2.imencode(".hdr", np.ascontiguousarray(environment.image[..., ::-1]))
        if not ok:
            raise OutputError(f"could not encode {target} (OpenCV's Radiance .hdr writer failed)")
        hdr = encoded.tobytes()
        extras["environment"] = {
            "image": target.name,
            "layout": ENVIRONMENT_LAYOUT,
            "rotation_degrees": float(environment.rotation),
            "intensity": float(environment.intensity),
            "shown": bool(scene.show_environment),
            "source": environment.source or environment.key,
        }
    document, notes = scene_document(scene, GeometryCache().drawn, extras)
    glb = document.glb()
    try:
        if hdr is not None:
            atomic_write(target, hdr)
        atomic_write(out, glb)
    except OSError as error:
        if hdr is not None and target.exists():
            target.unlink()
        raise OutputError(f"cannot write {out}: {error.strerror or error}") from None
    lights = sum(light.kind != "ambient" for light in scene.lights)
    return Exported(out, target if hdr is not None else None, len(scene.entities), lights, notes)
