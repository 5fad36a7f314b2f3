"""Image-based light on the GPU: an environment's prefiltered maps as textures and shader
inputs, and the split sum's BRDF table.

Per environment image (by `Environment.key`), once: `ibl.prefilter` (cached on disk) gives
the irradiance's spherical harmonics and the GGX-prefiltered mip chain; the image itself,
at most `BACKDROP_HEIGHT` rows, is what the camera sees behind the scene. Per frame only the
matrix from view space to the environment's axes (camera pose and the environment's
rotation) and its intensity change.

A mix of environments (`Environment.mix`: a sky between grid nodes, a crossfade) is uploaded
as any image, under its own key: `ibl.prefilter` gives its maps as the weighted sum of its
parts' cached maps (exact, no prefiltering), and its image is the blended one. A sky animated
over a clip is a new mix each frame: blending and uploading it costs about 3 ms of CPU at
SPECULAR_SIZE 128 (docs/performance.md), and the LRU keeps the mixes it saw last (the frame's
other cameras, the next pass of the same frame).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from panda3d.core import (
    CPTA_uchar,
    LMatrix4f,
    LVecBase2f,
    LVecBase3f,
    NodePath,
    PTA_LVecBase3f,
    PTA_uchar,
    SamplerState,
    Texture,
)

from simulator.engine import ibl
from simulator.engine.convert import to_panda
from simulator.engine.lru import Lru
from simulator.scene.environment import Environment

BACKDROP_HEIGHT = 512  # rows of the environment image shown behind the scene
SPECULAR_SIZE = 128  # rows of the prefiltered map's sharpest level
SPECULAR_LEVELS = 6  # roughness 0, 0.2, ..., 1


def float_texture(name: str, image: np.ndarray, mipmaps: tuple[np.ndarray, ...] = ()) -> Texture:
    """An RGB float32 texture of an image (top row first), wrapping around horizontally;
    `mipmaps`, when given, are its levels 1, 2, ... (each half the size of the one before)."""
    height, width = image.shape[:2]
    texture = Texture(name)
    texture.setup_2d_texture(width, height, Texture.T_float, Texture.F_rgb32)
    texture.set_ram_image_as(_rows(image), "RGB")
    for level, mip in enumerate(mipmaps, start=1):
        data = PTA_uchar.empty_array(0)
        data.set_data(_rows(mip[:, :, ::-1]))  # Panda3D stores BGR
        texture.set_ram_mipmap_image(level, CPTA_uchar(data))
    texture.set_wrap_u(SamplerState.WM_repeat)
    texture.set_wrap_v(SamplerState.WM_clamp)
    texture.set_magfilter(SamplerState.FT_linear)
    texture.set_minfilter(
        SamplerState.FT_linear_mipmap_linear if mipmaps else SamplerState.FT_linear
    )
    return texture


def _rows(image: np.ndarray) -> bytes:
    """Panda3D's rows start at the bottom."""
    return np.ascontiguousarray(image[::-1], dtype=np.float32).tobytes()


def _mip_chain(levels: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """The prefiltered levels, completed down to one row by halving (OpenGL samples a
    mipmapped texture only when every level is there; the shader never reads past the
    prefiltered ones)."""
    chain = list(levels[1:])
    while chain[-1].shape[0] > 1:
        last = chain[-1]
        chain.append(last.reshape(last.shape[0] // 2, 2, last.shape[1] // 2, 2, 3).mean((1, 3)))
    return tuple(chain)


@functools.cache
def brdf_texture() -> Texture:
    """The split sum's table (ibl.brdf_lut) as a texture: x = n.v, y = roughness."""
    table = ibl.brdf_lut()
    rgb = np.concatenate([table, np.zeros((*table.shape[:2], 1), np.float32)], axis=2)
    texture = float_texture("engine:brdf", rgb[::-1])  # row 0 is roughness 0: the bottom
    texture.set_wrap_u(SamplerState.WM_clamp)
    return texture


@dataclass(frozen=True)
class Uploaded:
    """An environment image on the GPU."""

    specular: Texture
    backdrop: Texture
    sh: PTA_LVecBase3f
    irradiance: np.ndarray  # (9, 3) the same coefficients, for the CPU (metering)
    levels: int
    seconds: float  # what prefiltering cost (near 0 when read from the cache)


class EnvironmentMaps:
    """Uploaded environments by image key, least recently used dropped first."""

    def __init__(self, capacity: int = 32) -> None:
        self._maps: Lru[Uploaded] = Lru(capacity)

    def get(self, environment: Environment) -> Uploaded:
        return self._maps.get(environment.key, lambda: _upload(environment))

    def bind(self, root: NodePath, environment: Environment, view_to_world: np.ndarray) -> None:
        """Set the environment's shader inputs on `root` for a camera whose view space (GLSL
        axes) maps to world by `view_to_world` (3 x 3)."""
        uploaded = self.get(environment)
        root.set_shader_input("env_specular", uploaded.specular)
        root.set_shader_input("env_image", uploaded.backdrop)
        root.set_shader_input("env_sh", uploaded.sh)
        root.set_shader_input("view_to_env", view_to_env(view_to_world, environment.rotation))
        root.set_shader_input(
            "env_info", LVecBase2f(float(environment.intensity), float(uploaded.levels - 1))
        )

    def irradiance_up(self, environment: Environment) -> np.ndarray:
        """Linear RGB radiance of a white Lambertian surface facing +Z (the environment's up
        is the world's: its rotation is about +Z), intensity included."""
        e = ibl.eval_sh(self.get(environment).irradiance, np.array([0.0, 0.0, 1.0]))
        return np.asarray(e, float).reshape(3) / np.pi * environment.intensity


def view_to_env(view_to_world: np.ndarray, rotation: float) -> LMatrix4f:
    """View-space directions to the environment image's own axes: the inverse of its turn
    (counter-clockwise about +Z) after the camera's rotation (a mat4 for Panda3D, whose
    shader inputs take no mat3; the shaders use its upper 3 x 3)."""
    a = np.radians(-rotation)
    turn = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    m = np.eye(4)
    m[:3, :3] = turn @ view_to_world
    return to_panda(m)


def _upload(environment: Environment) -> Uploaded:
    filtered = ibl.prefilter(environment, levels=SPECULAR_LEVELS, size=SPECULAR_SIZE)
    sh = PTA_LVecBase3f.empty_array(9)
    for i, row in enumerate(np.asarray(filtered.irradiance, float)):
        sh[i] = LVecBase3f(*row)
    image = environment.image
    while image.shape[0] > BACKDROP_HEIGHT and image.shape[0] % 2 == 0:
        image = image.reshape(image.shape[0] // 2, 2, image.shape[1] // 2, 2, 3).mean((1, 3))
    levels = filtered.specular
    return Uploaded(
        specular=float_texture(f"{environment.key}:specular", levels[0], _mip_chain(levels)),
        backdrop=float_texture(f"{environment.key}:backdrop", image),
        sh=sh,
        irradiance=np.asarray(filtered.irradiance, float),
        levels=len(levels),
        seconds=filtered.seconds,
    )
