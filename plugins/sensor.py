"""Randomizers for the camera sensor and its pipeline, applied to the RGB image only:
"sensor_noise", "blur", "color_jitter" and "jpeg_artifacts". Labels are never changed."""

from __future__ import annotations

from pydantic import Field

from simulator import Entity, FrameContext, Params, Randomizer, Scalar, effects, hookimpl


def _seed(ctx: FrameContext) -> int:
    return int(ctx.rng.integers(2**31))


class NoiseParams(Params):
    sigma: Scalar = Field({"uniform": [0.0, 8.0]}, description="Noise level, in 0-255 steps.")


class SensorNoise(Randomizer[NoiseParams]):
    """Gaussian noise added to every pixel and channel."""

    name = "sensor_noise"
    timing = "frame"  # in a clip, new noise on every frame

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        sigma = max(0.0, self.params.sigma.sample(ctx.rng))
        ctx.scene.effects.append(
            effects.ImageEffect(
                "sensor_noise", effects.gaussian_noise(sigma), {"sigma": sigma}, _seed(ctx)
            )
        )


class BlurParams(Params):
    radius: Scalar = Field({"uniform": [0.0, 1.5]}, description="Gaussian blur radius, pixels.")


class Blur(Randomizer[BlurParams]):
    """Gaussian blur (defocus)."""

    name = "blur"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        radius = max(0.0, self.params.radius.sample(ctx.rng))
        ctx.scene.effects.append(
            effects.ImageEffect(
                "blur", effects.gaussian_blur(radius), {"radius": radius}, _seed(ctx)
            )
        )


class JitterParams(Params):
    brightness: Scalar = Field({"uniform": [0.8, 1.2]}, description="Factor; 1 = unchanged.")
    contrast: Scalar = Field({"uniform": [0.8, 1.2]}, description="Factor; 1 = unchanged.")
    saturation: Scalar = Field({"uniform": [0.8, 1.2]}, description="Factor; 1 = unchanged.")
    hue: Scalar = Field({"uniform": [-0.03, 0.03]}, description="Hue shift in turns (1 = 360°).")


class ColorJitter(Randomizer[JitterParams]):
    """Brightness, contrast, saturation and hue changes of the whole image."""

    name = "color_jitter"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p = self.params
        values = {
            k: max(0.0, getattr(p, k).sample(ctx.rng))
            for k in ("brightness", "contrast", "saturation")
        }
        values["hue"] = p.hue.sample(ctx.rng)
        ctx.scene.effects.append(
            effects.ImageEffect("color_jitter", effects.color_jitter(**values), values, _seed(ctx))
        )


class JpegParams(Params):
    quality: Scalar = Field({"uniform": [30.0, 95.0]}, description="JPEG quality, 1-100.")


class JpegArtifacts(Randomizer[JpegParams]):
    """JPEG compression artifacts (the image is compressed and decoded again)."""

    name = "jpeg_artifacts"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        quality = int(min(100, max(1, round(self.params.quality.sample(ctx.rng)))))
        ctx.scene.effects.append(
            effects.ImageEffect(
                "jpeg_artifacts", effects.jpeg_artifacts(quality), {"quality": quality}, _seed(ctx)
            )
        )


@hookimpl
def sim_register_randomizers(register):
    for randomizer in (SensorNoise, Blur, ColorJitter, JpegArtifacts):
        register(randomizer)
