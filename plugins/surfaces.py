"""Randomizers "texture" (procedural patterns on objects), "background_texture" (a
procedural background) and "background_image" (photographs from a folder behind the scene,
for compositing synthetic objects onto real backgrounds)."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from simulator import (
    Color,
    Entity,
    FrameContext,
    OneOf,
    Params,
    Randomizer,
    Scalar,
    hookimpl,
    textures,
    world_path,
)

PatternName: Any = OneOf(*textures.PATTERNS)  # typed Any, like Scalar: no call as an annotation


class PatternParams(Params):
    pattern: PatternName = Field(
        {"choice": list(textures.PATTERNS)}, description="Which pattern, or a choice of them."
    )
    color_a: Color = Field(
        {"uniform": [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]}, description="First color of the pattern."
    )
    color_b: Color = Field(
        {"uniform": [[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]}, description="Second color of the pattern."
    )
    frequency: Scalar = Field(
        {"uniform": [2.0, 12.0]}, description="Squares, stripes or noise cells across the image."
    )
    angle: Scalar = Field({"uniform": [0.0, 180.0]}, description="Stripes and gradients, degrees.")


def pattern(params: PatternParams, ctx: FrameContext, size: int) -> textures.TextureImage:
    kind = params.pattern.sample(ctx.rng)
    a, b = params.color_a.sample(ctx.rng), params.color_b.sample(ctx.rng)
    frequency = max(1, round(params.frequency.sample(ctx.rng)))
    angle = params.angle.sample(ctx.rng)
    if kind == "checker":
        image = textures.checker(a, b, frequency, size)
    elif kind == "stripes":
        image = textures.stripes(a, b, frequency, angle, size)
    elif kind == "gradient":
        image = textures.gradient(a, b, angle, size)
    else:
        image = textures.noise(a, b, ctx.rng, max(1, frequency // 2), 4, size)
    return textures.TextureImage(image, source=f"{kind}")


class Texture(Randomizer[PatternParams]):
    """Gives each targeted object a procedural texture (multiplied by its base color: set
    `color` to white, or leave the default 0.8 gray, to see the pattern's own colors)."""

    name = "texture"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        for entity in entities:
            entity.texture = pattern(self.params, ctx, 128)


class BackgroundTexture(Randomizer[PatternParams]):
    """Fills the background with a procedural pattern."""

    name = "background_texture"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        ctx.scene.background_image = pattern(self.params, ctx, 256)


class ImageParams(Params):
    folder: str = Field(description="A folder of .png/.jpg images, relative to the world file.")

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str, info: ValidationInfo) -> str:
        path = world_path(value, info)
        if not path.is_dir():
            raise ValueError(f"image folder not found: {path}")
        if not any(p.suffix.lower() in (".png", ".jpg", ".jpeg") for p in path.iterdir()):
            raise ValueError(f"no .png or .jpg images in {path}")
        return str(path)


class BackgroundImage(Randomizer[ImageParams]):
    """Puts a photograph from a folder behind the scene: a random image, cropped at random to
    the frame's aspect ratio and stretched to fill it."""

    name = "background_image"

    def __init__(self, params: ImageParams) -> None:
        super().__init__(params)
        self.folder = textures.ImageFolder(params.folder)

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        index = int(ctx.rng.integers(len(self.folder)))
        photo = self.folder.get(index)
        camera = ctx.scene.camera
        height, width, _ = photo.image.shape
        aspect = camera.width / camera.height
        crop_w, crop_h = min(width, round(height * aspect)), min(height, round(width / aspect))
        x = int(ctx.rng.integers(width - crop_w + 1))
        y = int(ctx.rng.integers(height - crop_h + 1))
        image = photo.image[y : y + crop_h, x : x + crop_w]
        key = f"{photo.key}:{x},{y},{crop_w},{crop_h}"
        ctx.scene.background_image = textures.TextureImage(
            np.ascontiguousarray(image),
            key=key,
            source=f"{photo.source}[{x},{y},{crop_w},{crop_h}]",
        )


@hookimpl
def sim_register_randomizers(register):
    for randomizer in (Texture, BackgroundTexture, BackgroundImage):
        register(randomizer)
