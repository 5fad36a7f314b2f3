"""Spawner "model_folder": models sampled from a directory of model files (every format the
"model" spawner takes), at their real size unless `normalize`, labeled by sub-folder, by file
name, by manifest, or by object id in a BOP models folder. What is known of each file (its
category, unit, license, source, attribution) comes from the library's `models.json` and the
file's `<stem>.json` sidecar; the dataset manifest lists every file with it. A model's
keypoints come from its `<stem>.keypoints.json` sidecar, as for "model"; models of one
category must declare the same keypoint names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

import simulator
from sim_plugins import model_library
from sim_plugins.models import SUFFIXES, check_unit, load_keypoints, load_mesh, real_size
from sim_plugins.primitives import ObjectParams, place
from simulator import (
    Entity,
    FrameContext,
    KeypointSchema,
    ModelAsset,
    Spawner,
    TriangleMesh,
    WorldError,
    hookimpl,
    world_path,
)

MANIFEST = "labels.json"


class FolderParams(ObjectParams):
    folder: str = Field(description="A directory of model files, relative to the world file.")
    label_by: Literal["auto", "folder", "file", "manifest", "bop"] = Field(
        "auto",
        description="folder: a model's category is its sub-folder's name; file: its file "
        f"name; manifest: {MANIFEST} (or models.json / <stem>.json) gives it; bop: the object "
        "id (obj_000001) of a BOP models folder; auto: bop where the folder has "
        "models_info.json, else folder. A category in models.json or <stem>.json always wins.",
    )
    unit: str | float | None = Field(
        None,
        description='Length of one file unit where no manifest says: "m", "cm", "mm", "in" '
        'or metres per unit; default "m" ("mm" in a BOP folder).',
    )
    normalize: bool = Field(
        False, description="Centre every model and scale its longest side to `size`."
    )

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str | float | None) -> str | float | None:
        return check_unit(value)

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str, info: ValidationInfo) -> str:
        path = world_path(value, info)
        if not path.is_dir():
            raise ValueError(f"model folder not found: {path}")
        return str(path)

    @model_validator(mode="after")
    def _size_needs_normalize(self) -> FolderParams:
        if "size" in self.model_fields_set and not self.normalize:
            real = [p.name for p in _models(Path(self.folder)) if real_size(p)]
            if real:
                raise ValueError(
                    f"{real[0]} keeps its real size, so `size` does not apply: set `unit`, "
                    "or normalize = true to make every model's longest side `size`"
                )
        return self


def _models(folder: Path) -> list[Path]:
    bop = model_library.bop_folder(folder)
    if bop is not None:
        return list(model_library.bop_models(bop))
    found = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and p.name.lower().endswith(SUFFIXES) and not p.name.startswith(".")
    )
    if not found:
        raise WorldError(f"no model files ({', '.join(SUFFIXES)}) in {folder}")
    return found


def _labels(folder: Path, models: list[Path], label_by: str) -> dict[Path, str | None]:
    if label_by == "auto":
        label_by = "bop" if model_library.bop_folder(folder) is not None else "folder"
    if label_by in ("file", "bop"):
        return {m: m.name.split(".")[0] for m in models}
    if label_by == "folder":
        return {m: m.parent.name if m.parent != folder else folder.name for m in models}
    manifest = folder / MANIFEST
    if not manifest.is_file() and (folder / model_library.FOLDER_MANIFEST).is_file():
        return dict.fromkeys(models)  # models.json or the sidecars give every category
    try:
        mapping = json.loads(manifest.read_text())
    except (OSError, ValueError) as error:
        raise WorldError(
            f"label manifest {manifest}: {error}",
            hint='expected {"relative/path.glb": "category", ...}',
        ) from None
    return {m: mapping.get(m.relative_to(folder).as_posix()) for m in models}


class ModelFolder(Spawner[FolderParams]):
    """A model drawn uniformly from a folder, labeled by folder, file name, manifest or id."""

    name = "model_folder"

    def __init__(self, params: FolderParams) -> None:
        super().__init__(params)
        folder = Path(params.folder)
        files = _models(folder)
        bop = model_library.bop_folder(folder) is not None
        unit = params.unit if params.unit is not None else ("mm" if bop else None)
        self.infos = {i.path: i for i in model_library.library(folder, files, unit)}
        labels = _labels(folder, files, params.label_by)
        self.labels = {m: self.infos[m].category or labels[m] for m in files}
        missing = [m.relative_to(folder).as_posix() for m, c in self.labels.items() if not c]
        if missing:
            raise WorldError(
                f"label manifest {folder / MANIFEST} gives no category to {', '.join(missing)}"
            )
        self.models = files
        self.meshes: dict[Path, TriangleMesh] = {
            m: load_mesh(m, self._unit(m), params.normalize) for m in files if real_size(m)
        }
        self._keypoints: dict[Path, dict[str, np.ndarray]] = {}
        self._schemas: dict[str, KeypointSchema] = {}
        for path, category in self.labels.items():
            self._read_keypoints(path, str(category))

    def _unit(self, path: Path) -> simulator.models.Unit:
        return self.infos[path].unit or "m"

    def _read_keypoints(self, path: Path, category: str) -> None:
        sidecar = simulator.assets.sidecar(str(path))
        if not sidecar.is_file():
            return
        self._keypoints[path], schema = load_keypoints(
            sidecar, path, self._unit(path), self.params.normalize
        )
        if self._schemas.setdefault(category, schema) != schema:
            raise WorldError(
                f"{sidecar} declares keypoints {list(schema.names)}, but another "
                f"{category!r} model declares {list(self._schemas[category].names)}: "
                "models of one category need the same keypoint names and skeleton"
            )

    def categories(self) -> list[str]:
        return [str(c) for c in dict.fromkeys(self.labels.values())]

    def keypoints(self) -> dict[str, KeypointSchema]:
        return dict(self._schemas)

    def assets(self) -> list[dict[str, Any]]:
        """Every file of the library with its category, unit and terms."""
        return [
            self.infos[m].record(self.labels[m], self._unit(m) if real_size(m) else None)
            for m in self.models
        ]

    def spawn(self, ctx: FrameContext) -> Entity:
        path = self.models[int(ctx.rng.integers(len(self.models)))]
        mesh = self.meshes.get(path)
        entity = Entity(
            mesh if mesh is not None else ModelAsset(str(path)),
            category=self.labels[path],
            keypoints=dict(self._keypoints.get(path, {})),
        )
        place(entity, self.params, ctx)
        if mesh is not None and not self.params.normalize:
            entity.scale[:] = 1.0  # real size: the mesh is in metres already
        return entity


@hookimpl
def sim_register_spawners(register):
    register(ModelFolder)
