"""Spawner "model": Panda3D's bundled models or model files (glTF/GLB, egg, bam)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator, model_validator

from sim_plugins.primitives import ObjectParams, place
from simulator import (
    Entity,
    FrameContext,
    KeypointSchema,
    ModelAsset,
    OneOf,
    Spawner,
    assets,
    distributions,
    hookimpl,
    world_path,
)

BUNDLED = ("teapot", "panda", "smiley", "frowney", "jack", "box")
SUFFIXES = (".gltf", ".glb", ".egg", ".bam", ".pz", ".obj")
BundledModel: Any = OneOf(*BUNDLED)  # a name typed Any, like Scalar: no call as an annotation


class ModelParams(ObjectParams):
    model: BundledModel | None = Field(None, description="A model bundled with Panda3D.")
    path: str | None = Field(None, description="A model file, relative to the world file.")
    keypoints: str | None = Field(
        None,
        description="Keypoint file (JSON) of a model file, relative to the world file; "
        "default: <model stem>.keypoints.json beside the model, if there is one.",
    )

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
        return self


class Model(Spawner[ModelParams]):
    """A model scaled so its longest side is `size`. Category defaults to the model's name."""

    name = "model"

    def __init__(self, params: ModelParams) -> None:
        super().__init__(params)
        self._keypoints: dict[str, np.ndarray] = {}
        self._schema: KeypointSchema | None = None
        if params.path is not None:
            file = Path(params.keypoints) if params.keypoints else assets.sidecar(params.path)
            if file.is_file():
                self._keypoints, self._schema = assets.read_keypoints(file, params.path)

    def keypoints(self) -> dict[str, KeypointSchema]:
        return {self.categories()[0]: self._schema} if self._schema else {}

    def categories(self) -> list[str]:
        if self.params.path is not None:
            return [Path(self.params.path).name.split(".")[0]]
        model = self.params.model
        assert model is not None  # `_one_source`: no file, so a bundled model
        return list(model.options) if isinstance(model, distributions.Choice) else [model.value]

    def spawn(self, ctx: FrameContext) -> Entity:
        if self.params.path is not None:
            asset, category = ModelAsset(self.params.path), self.categories()[0]
            entity = Entity(asset, category=category, keypoints=dict(self._keypoints))
            return place(entity, self.params, ctx)
        assert self.params.model is not None  # `_one_source`: no file, so a bundled model
        category = self.params.model.sample(ctx.rng)
        asset = ModelAsset(f"models/{category}")
        return place(Entity(asset, category=category), self.params, ctx)


@hookimpl
def sim_register_spawners(register):
    register(Model)
