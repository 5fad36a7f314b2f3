"""Spawner "model": a model file at its real size (STL, PLY, OBJ, glTF / GLB, OFF, read
through trimesh), or Panda3D's bundled models and its own formats (egg, bam), which have no
units and are normalised to a longest side of `size`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

import simulator
from sim_plugins import model_library
from sim_plugins.primitives import ObjectParams, place
from simulator import (
    Entity,
    FrameContext,
    KeypointSchema,
    ModelAsset,
    OneOf,
    Spawner,
    TriangleMesh,
    WorldError,
    distributions,
    hookimpl,
    models,
    world_path,
)

BUNDLED = ("teapot", "panda", "smiley", "frowney", "jack", "box")
REAL_SIZE = models.SUFFIXES  # read through trimesh, in the file's units
PANDA3D = (".egg", ".bam", ".pz")  # read by Panda3D, always normalised
SUFFIXES = REAL_SIZE + PANDA3D
BundledModel: Any = OneOf(*BUNDLED)  # a name typed Any, like Scalar: no call as an annotation


def real_size(path: str | Path) -> bool:
    """Whether a model file has units (trimesh's formats), rather than Panda3D's own."""
    return Path(path).name.lower().endswith(REAL_SIZE)


def check_unit(value: models.Unit | None) -> models.Unit | None:
    """A `unit` parameter checked at validation (a ValueError, so the world names the line)."""
    if value is not None:
        try:
            models.unit_scale(value)
        except WorldError as error:
            raise ValueError(f"{error.message} ({error.hint})") from None
    return value


def load_mesh(path: Path, unit: models.Unit, normalize: bool) -> TriangleMesh:
    """The model file's mesh as drawn: real size, or centred with its longest side 1."""
    mesh = models.read_model(path, unit)
    return models.normalized(mesh) if normalize else mesh


def load_keypoints(
    file: Path, path: Path, unit: models.Unit, normalize: bool
) -> tuple[dict[str, np.ndarray], KeypointSchema]:
    """A keypoint sidecar in the model file's units and axes, mapped as its mesh is."""
    if not real_size(path):
        return simulator.assets.read_keypoints(file, str(path))  # Panda3D measures the frame
    mesh = models.read_model(path, unit)
    centre, side = models.model_frame(mesh)

    def to_frame(points: np.ndarray) -> np.ndarray:
        local = models.to_model_frame(points, path, unit)
        return (local - centre) / side if normalize else local

    return simulator.assets.read_keypoints(file, str(path), to_frame)


class ModelParams(ObjectParams):
    model: BundledModel | None = Field(None, description="A model bundled with Panda3D.")
    path: str | None = Field(None, description="A model file, relative to the world file.")
    unit: str | float | None = Field(
        None,
        description='Length of one file unit: "m", "cm", "mm", "in", or metres per unit; '
        'default: the model\'s <stem>.json sidecar, else "m".',
    )
    normalize: bool = Field(
        False,
        description="Centre the model and scale its longest side to `size` (Panda3D's "
        ".egg/.bam/.pz and bundled models always are); false: the file's real size and origin.",
    )
    keypoints: str | None = Field(
        None,
        description="Keypoint file (JSON) of a model file, relative to the world file; "
        "default: <model stem>.keypoints.json beside the model, if there is one.",
    )

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str | float | None) -> str | float | None:
        return check_unit(value)

    @field_validator("keypoints")
    @classmethod
    def _keypoints_exist(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        path = world_path(value, info)
        if not path.is_file():
            raise ValueError(f"keypoint file not found: {path}")
        return str(path)

    @field_validator("path")
    @classmethod
    def _exists(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        path = world_path(value, info)
        if not path.is_file():
            raise ValueError(f"model file not found: {path}")
        if path.suffix.lower() not in SUFFIXES:
            raise ValueError(f"{path.name}: expected a model file ({', '.join(SUFFIXES)})")
        return str(path)

    @model_validator(mode="after")
    def _one_source(self) -> ModelParams:
        if (self.model is None) == (self.path is None):
            raise ValueError("give exactly one of `model` (a bundled model) or `path` (a file)")
        if self.keypoints is not None and self.path is None:
            raise ValueError("`keypoints` goes with `path` (a model file)")
        real = self.path is not None and real_size(self.path) and not self.normalize
        if real and "size" in self.model_fields_set:
            raise ValueError(
                f"{Path(str(self.path)).name} keeps its real size, so `size` does not apply: "
                "scale it with `unit` (a number is metres per file unit), or set "
                "normalize = true to make its longest side `size`"
            )
        return self


class Model(Spawner[ModelParams]):
    """A model file at its real size (or normalised), or a bundled model of longest side
    `size`. Category defaults to the model's name."""

    name = "model"

    def __init__(self, params: ModelParams) -> None:
        super().__init__(params)
        self._keypoints: dict[str, np.ndarray] = {}
        self._schema: KeypointSchema | None = None
        self.mesh: TriangleMesh | None = None
        self.info: model_library.AssetInfo | None = None
        self.unit: models.Unit | None = None
        if params.path is None:
            return
        path = Path(params.path)
        self.info = model_library.AssetInfo(path, **model_library.file_info(path))
        if real_size(path):
            self.unit = params.unit if params.unit is not None else self.info.unit or "m"
            self.mesh = load_mesh(path, self.unit, params.normalize)
        file = Path(params.keypoints) if params.keypoints else simulator.assets.sidecar(str(path))
        if file.is_file():
            self._keypoints, self._schema = load_keypoints(
                file, path, self.unit or "m", params.normalize
            )

    def keypoints(self) -> dict[str, KeypointSchema]:
        return {self.categories()[0]: self._schema} if self._schema else {}

    def categories(self) -> list[str]:
        if self.params.path is not None:
            return [Path(self.params.path).name.split(".")[0]]
        model = self.params.model
        assert model is not None  # `_one_source`: no file, so a bundled model
        return list(model.options) if isinstance(model, distributions.Choice) else [model.value]

    def assets(self) -> list[dict[str, Any]]:
        """The files this spawner draws, with their terms, for the dataset manifest."""
        if self.info is not None:
            return [self.info.record(self.categories()[0], self.unit)]
        return [
            {"path": f"models/{name}", "category": name, "source": "bundled with Panda3D"}
            for name in self.categories()
        ]

    def spawn(self, ctx: FrameContext) -> Entity:
        if self.params.path is not None:
            category = self.categories()[0]
            mesh = self.mesh if self.mesh is not None else ModelAsset(self.params.path)
            entity = Entity(mesh, category=category, keypoints=dict(self._keypoints))
            place(entity, self.params, ctx)
            if self.mesh is not None and not self.params.normalize:
                entity.scale[:] = 1.0  # real size: the mesh is in metres already
            return entity
        assert self.params.model is not None  # `_one_source`: no file, so a bundled model
        category = self.params.model.sample(ctx.rng)
        asset = ModelAsset(f"models/{category}")
        return place(Entity(asset, category=category), self.params, ctx)


@hookimpl
def sim_register_spawners(register):
    register(Model)
