"""Spawner "model_folder": models sampled from a directory (glTF/GLB, egg, bam), with labels
by sub-folder, by file name, or from a manifest; every model is normalised like the
"model" spawner's (centred, longest side `size`). A model's keypoints come from its
`<stem>.keypoints.json` sidecar, as for "model"; models of one category must declare the
same keypoint names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from sim_plugins.models import SUFFIXES
from sim_plugins.primitives import ObjectParams, place
from simulator import (
    Entity,
    FrameContext,
    KeypointSchema,
    ModelAsset,
    Spawner,
    WorldError,
    assets,
    hookimpl,
    world_path,
)

MANIFEST = "labels.json"


class FolderParams(ObjectParams):
    folder: str = Field(description="A directory of model files, relative to the world file.")
    label_by: Literal["folder", "file", "manifest"] = Field(
        "folder",
        description="folder: a model's category is its sub-folder's name; file: its file "
        f"name; manifest: {MANIFEST} in the folder maps file paths to categories.",
    )

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str, info: ValidationInfo) -> str:
        path = world_path(value, info)
        if not path.is_dir():
            raise ValueError(f"model folder not found: {path}")
        return str(path)


def _models(folder: Path) -> list[Path]:
    found = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name.lower().endswith(SUFFIXES) and not p.name.startswith(".")
    )
    if not found:
        raise WorldError(f"no model files ({', '.join(SUFFIXES)}) in {folder}")
    return found


def _labels(folder: Path, models: list[Path], label_by: str) -> dict[Path, str]:
    if label_by == "file":
        return {m: m.name.split(".")[0] for m in models}
    if label_by == "folder":
        return {m: m.parent.name if m.parent != folder else folder.name for m in models}
    manifest = folder / MANIFEST
    try:
        mapping = json.loads(manifest.read_text())
    except (OSError, ValueError) as error:
        raise WorldError(
            f"label manifest {manifest}: {error}",
            hint='expected {"relative/path.glb": "category", ...}',
        ) from None
    labels = {m: mapping.get(m.relative_to(folder).as_posix()) for m in models}
    missing = [m.relative_to(folder).as_posix() for m, c in labels.items() if not c]
    if missing:
        raise WorldError(f"label manifest {manifest} gives no category to {', '.join(missing)}")
    return {m: str(c) for m, c in labels.items()}


class ModelFolder(Spawner[FolderParams]):
    """A model drawn uniformly from a folder, labeled by folder, file name or manifest."""

    name = "model_folder"

    def __init__(self, params: FolderParams) -> None:
        super().__init__(params)
        folder = Path(params.folder)
        self.labels = _labels(folder, _models(folder), params.label_by)
        self.models = list(self.labels)
        self._keypoints: dict[Path, dict[str, np.ndarray]] = {}
        self._schemas: dict[str, KeypointSchema] = {}
        for path, category in self.labels.items():
            sidecar = assets.sidecar(str(path))
            if not sidecar.is_file():
                continue
            self._keypoints[path], schema = assets.read_keypoints(sidecar, str(path))
            if self._schemas.setdefault(category, schema) != schema:
                raise WorldError(
                    f"{sidecar} declares keypoints {list(schema.names)}, but another "
                    f"{category!r} model declares {list(self._schemas[category].names)}: "
                    "models of one category need the same keypoint names and skeleton"
                )

    def categories(self) -> list[str]:
        return list(dict.fromkeys(self.labels.values()))

    def keypoints(self) -> dict[str, KeypointSchema]:
        return dict(self._schemas)

    def spawn(self, ctx: FrameContext) -> Entity:
        path = self.models[int(ctx.rng.integers(len(self.models)))]
        entity = Entity(
            ModelAsset(str(path)),
            category=self.labels[path],
            keypoints=dict(self._keypoints.get(path, {})),
        )
        return place(entity, self.params, ctx)


@hookimpl
def sim_register_spawners(register):
    register(ModelFolder)
