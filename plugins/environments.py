"""Randomizers that light the scene from every direction: "sky" (a physically based daylight
sky and its sun), "studio" (procedural photo studios of soft boxes), "environment" (HDR maps
from a folder, e.g. Poly Haven's) and "film" (exposure and white balance of the camera).

Light from an environment comes through image-based lighting (docs/lighting.md); the
environment shows behind the scene unless a background randomizer replaces it, and lights
the scene either way.

Sun elevation and turbidity are continuous, with no per-frame precomputation:
- the sun, a directional light, is analytic and cheap: made at the exact elevation and
  turbidity, so its direction, colour and strength follow an animated sun frame by frame;
- the sky image is the bilinear blend (`Environment.mix`) of the four skies around the exact
  values on a grid, sun elevation every `ELEVATION_STEP` degrees and turbidity every
  `TURBIDITY_STEP` (from Preetham's lowest, 1.7, then 2, 3, ... 10). Precomputing a sky's
  image-based light costs a few hundred milliseconds (cached on disk), but the light of a
  blend is the same blend of its skies' light (engine/ibl.py), so a run precomputes only the
  grid's skies it touches, a few dozen, and a frame between them costs a few array sums.
  The blend is what lights, what is seen and what is recorded: the image-based light is that
  of the very image behind the scene. At a grid node the sky is the node's own, unblended.
- the sun's azimuth turns the sky (the model is symmetric about it, so that is exact);
- the scale that puts a white up-facing surface at radiance 1 is worked out for the blended
  sky and the exact sun together, so exposure stays level as the sun moves.
Between nodes the blended sky differs from Preetham's at the exact values by how far the
model bends within a cell: its glow around the sun is two glows 5 degrees apart, weighted,
and the ground below the horizon is lit by the nodes' suns, not the exact one.
"""

from __future__ import annotations

import difflib
import functools
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from sim_plugins.lighting import SHADOWS_HELP, Shadows, casts_shadows, kelvin_rgb
from simulator import (
    Entity,
    Environment,
    FrameContext,
    Light,
    Name,
    OneOf,
    Params,
    Randomizer,
    Scalar,
    hdr,
    hookimpl,
    sky,
    studio,
    world_path,
)

ELEVATION_STEP, TURBIDITY_STEP = 5.0, 1.0
ELEVATIONS = tuple(np.arange(0.0, 90.0 + ELEVATION_STEP / 2, ELEVATION_STEP))  # the grid
TURBIDITIES = (1.7, *np.arange(2.0, 10.0 + TURBIDITY_STEP / 2, TURBIDITY_STEP))
SUN_SIZE = 0.53  # the sun's angular diameter, degrees
LUMINANCE = sky.RGB_LUMINANCE  # Y of linear Rec. 709 RGB


@functools.lru_cache(maxsize=96)
def _grid_sky(elevation: float, turbidity: float) -> Environment:
    """The sky of one grid node, for a sun at azimuth 0 (393 kB; a run touches a few dozen)."""
    return sky.sky_environment(elevation, 0.0, turbidity)


def _between(value: float, nodes: tuple[float, ...]) -> list[tuple[float, float]]:
    """The nodes on either side of `value` (within the nodes' range) with their linear
    weights; a value on a node is that node alone, at weight 1."""
    above = min(int(np.searchsorted(nodes, value, side="right")), len(nodes) - 1)
    low, high = float(nodes[above - 1]), float(nodes[above])
    if value <= low:
        return [(low, 1.0)]
    share = (value - low) / (high - low)
    return [(low, 1.0 - share), (high, share)]


def _sky(elevation: float, turbidity: float) -> tuple[Environment, Light, float]:
    """The sky and sun for a sun at azimuth 0 at the exact `elevation` and `turbidity`, and
    the scale that puts a white up-facing surface under both at radiance 1 (sim's light
    units; exposure does the rest). The sky is the grid's bilinear blend, the sun exact."""
    environment = Environment.mix(
        (_grid_sky(e, t), we * wt)
        for e, we in _between(elevation, ELEVATIONS)
        for t, wt in _between(turbidity, TURBIDITIES)
    )
    sun = sky.sun_light(elevation, 0.0, turbidity)
    scale = np.pi / float(sky.horizontal_illuminance(environment, sun) @ LUMINANCE)
    strength = float(sun.irradiance @ LUMINANCE)
    light = Light(
        "directional",
        color=sun.irradiance / strength,
        intensity=strength / np.pi * scale,
        direction=sun.direction,
        size=SUN_SIZE,
    )
    return environment, light, scale


def _turned(light: Light, degrees: float, shadows: bool) -> Light:
    """A directional light turned counter-clockwise about +Z, as its environment is."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    x, y, z = light.direction
    return Light(
        "directional",
        color=light.color,
        intensity=light.intensity,
        direction=np.array([c * x - s * y, s * x + c * y, z]),
        shadows=shadows,
        size=light.size,
    )


class SkyParams(Params):
    elevation: Scalar = Field(
        {"uniform": [15.0, 75.0]}, description="Sun height above the horizon, degrees (0-90)."
    )
    azimuth: Scalar = Field(
        {"uniform": [0.0, 360.0]}, description="Sun direction, degrees counter-clockwise from +X."
    )
    turbidity: Scalar = Field(
        {"uniform": [2.0, 6.0]}, description="Haze: 2 very clear, 3 clear, 6 hazy, 10 murky."
    )
    shadows: Shadows = Field(True, description=SHADOWS_HELP)
    show: bool = Field(True, description="Show the sky behind the scene.")


class Sky(Randomizer[SkyParams]):
    """Replaces the scene's lights with a daylight sky (Preetham, Shirley and Smits 1999) and
    its sun, a directional light of the sun's colour through the atmosphere that casts
    shadows. The sky is the scene's environment: it lights every surface and is seen behind
    the scene."""

    name = "sky"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p, rng = self.params, ctx.rng
        elevation = float(np.clip(p.elevation.sample(rng), 0.0, 90.0))
        azimuth = float(p.azimuth.sample(rng))
        turbidity = float(np.clip(p.turbidity.sample(rng), 1.7, 10.0))
        environment, sun, scale = _sky(elevation, turbidity)
        ctx.scene.environment = environment.turned(azimuth, scale)
        ctx.scene.show_environment = p.show
        ctx.scene.lights = [_turned(sun, azimuth, casts_shadows(p.shadows, rng))]


class StudioParams(Params):
    shadows: Shadows = Field(True, description="Whether the key light casts shadows.")
    boxes: Annotated[int, Field(ge=1, le=8)] = Field(3, description="Soft boxes per studio.")
    variants: Annotated[int, Field(ge=1, le=64)] = Field(
        8, description="How many different studios a run draws from (each is made once)."
    )
    rotation: Scalar = Field(
        {"uniform": [0.0, 360.0]}, description="Turn of the studio about the vertical, degrees."
    )
    show: bool = Field(True, description="Show the studio behind the scene.")
    key_light: bool = Field(
        True,
        description="Light the key soft box as a directional light that casts soft "
        "shadows (its size softens them), instead of as part of the environment only.",
    )


@functools.lru_cache(maxsize=64)
def _studio(seed: int, variant: int, boxes: int, key: bool) -> tuple[Environment, Light | None]:
    rng = np.random.default_rng([seed, variant])
    if not key:
        return studio.studio_environment(rng, boxes=boxes), None
    environment, box = studio.studio_with_key_light(rng, boxes=boxes)
    strength = float(box.irradiance @ LUMINANCE)
    light = Light(
        "directional",
        color=box.irradiance / strength,
        intensity=strength / np.pi,
        direction=box.direction,
        size=box.size,
    )
    return environment, light


class Studio(Randomizer[StudioParams]):
    """Replaces the scene's lights with a photo studio: a dim room lit by soft boxes (key,
    fill, rim), as the scene's environment, the key box a light of its size that casts soft
    shadows. Studios are made from the world's seed, so every worker makes the same ones."""

    name = "studio"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p, rng = self.params, ctx.rng
        variant = int(rng.integers(p.variants))
        environment, key = _studio(ctx.seed, variant, p.boxes, p.key_light)
        rotation = float(p.rotation.sample(rng))
        ctx.scene.environment = environment.turned(rotation)
        ctx.scene.show_environment = p.show
        ctx.scene.lights = []
        if key is not None:
            ctx.scene.lights = [_turned(key, rotation, casts_shadows(p.shadows, rng))]


class EnvironmentParams(Params):
    folder: str = Field(
        description="A folder of equirectangular HDR maps (.hdr, .exr), relative to the world "
        "file; Poly Haven's downloads work as they are."
    )
    rotation: Scalar = Field(
        {"uniform": [0.0, 360.0]}, description="Turn about the vertical, degrees."
    )
    intensity: Scalar = Field(1.0, description="Multiplies the map's radiance.")
    height: Annotated[int, Field(ge=16, le=4096)] = Field(
        512, description="Rows the maps are read at (smaller is faster; 512 is plenty)."
    )
    show: bool = Field(True, description="Show the map behind the scene.")
    map: Name | None = Field(
        None,
        description="The folder's map to use, by name (its file name without extension and "
        "resolution tag: 'sunset' for sunset_2k.hdr), a choice of names, or keyframes of "
        "names (step: the map changes over a clip). None: one drawn from the folder.",
    )

    @field_validator("folder")
    @classmethod
    def _folder(cls, value: str, info: ValidationInfo) -> str:
        path = world_path(value, info)
        if not path.is_dir():
            raise ValueError(f"environment folder not found: {path}")
        hdr.environment_files(path)  # no maps: a clear error now, not at frame 0
        return str(path)

    @field_validator("map")
    @classmethod
    def _map(cls, value: Any, info: ValidationInfo) -> Any:
        folder = info.data.get("folder")
        if value is not None and folder is not None:  # a bad folder is its own error
            maps = _by_name(hdr.environment_files(folder))
            for name in value.outcomes() or ():
                _named_map(maps, name, folder)
        return value


def _by_name(files: list[Path]) -> dict[str, Path]:
    """A folder's maps (hdr.environment_files) by name (hdr.map_name)."""
    return {hdr.map_name(path): path for path in files}


def _named_map(maps: dict[str, Path], name: str, folder: str) -> Path:
    path = maps.get(name.lower())
    if path is None:
        close = difflib.get_close_matches(name.lower(), sorted(maps), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        known = ", ".join(sorted(maps))
        raise ValueError(f"no map {name!r} in {folder} (its maps: {known}){hint}")
    return path


class EnvironmentMap(Randomizer[EnvironmentParams]):
    """Replaces the scene's lights with an HDR environment map drawn from a folder, turned
    and scaled at random. The map lights every surface and is seen behind the scene."""

    name = "environment"

    def __init__(self, params: EnvironmentParams) -> None:
        super().__init__(params)
        self.files = hdr.environment_files(params.folder)
        self.maps = _by_name(self.files)

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p, rng = self.params, ctx.rng
        path = self.files[int(rng.integers(len(self.files)))]  # drawn either way: naming
        if p.map is not None:  # the map changes none of the other draws
            path = _named_map(self.maps, str(p.map.sample(rng)), p.folder)
        environment = hdr.read_environment(path, height=p.height)
        ctx.scene.environment = environment.turned(
            float(p.rotation.sample(rng)), float(p.intensity.sample(rng))
        )
        ctx.scene.show_environment = p.show
        ctx.scene.lights = []


ToneName: Any = OneOf("clamp", "linear", "aces")  # typed Any: no call as an annotation


class FilmParams(Params):
    exposure: Scalar = Field(
        {"uniform": [-0.7, 0.7]},
        description="Exposure compensation, stops (+1 doubles), on top of [render] exposure.",
    )
    white_balance: Scalar = Field(
        {"uniform": [5000.0, 7500.0]},
        description="Colour temperature the camera renders as white, K (6500: neutral). A "
        "lower setting makes the picture cooler, as on a real camera.",
    )
    tone: ToneName | None = Field(
        None,
        description="The tone curve (clamp, linear, aces; [render] tone explains them), a "
        "choice, or keyframes of curves (step). None: the world's [render] tone.",
    )


class Film(Randomizer[FilmParams]):
    """Varies the camera's exposure and white balance. Labels never change."""

    name = "film"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p, film = self.params, ctx.scene.film
        film.exposure += float(p.exposure.sample(ctx.rng))
        white = kelvin_rgb(float(p.white_balance.sample(ctx.rng)))
        neutral = kelvin_rgb(6500.0)
        gains = neutral / white
        film.white_balance = film.white_balance * gains / float(gains @ LUMINANCE)
        if p.tone is not None:
            film.tone = p.tone.sample(ctx.rng)


@hookimpl
def sim_register_randomizers(register):
    register(Sky)
    register(Studio)
    register(EnvironmentMap)
    register(Film)
