"""Textures on the GPU: uploaded once per image, and the backdrop behind the scene."""

from __future__ import annotations

import functools

import numpy as np
from panda3d.core import (
    BitMask32,
    LVecBase3f,
    NodePath,
    SamplerState,
    Shader,
    Texture,
    TextureStage,
)

from simulator.engine import shaders
from simulator.engine.geometry import geom_node
from simulator.engine.lru import Lru
from simulator.engine.programs import program
from simulator.scene.meshes import TriangleMesh
from simulator.scene.textures import TextureImage


def make_texture(image: TextureImage, srgb: bool = False) -> Texture:
    """An RGB or RGBA texture (trilinear). `srgb`: a colour image (base colour, emissive),
    which the sampler decodes to linear light by the exact sRGB curve, before filtering, as
    glTF asks; else data read as it is (metallic-roughness, normal and occlusion maps)."""
    height, width, channels = image.image.shape
    texture = Texture(image.key)
    if srgb:
        layout = Texture.F_srgb_alpha if channels == 4 else Texture.F_srgb
    else:
        layout = Texture.F_rgba8 if channels == 4 else Texture.F_rgb8
    texture.setup_2d_texture(width, height, Texture.T_unsigned_byte, layout)
    # Panda3D textures start at the bottom row.
    order = "RGBA" if channels == 4 else "RGB"
    texture.set_ram_image_as(np.ascontiguousarray(image.image[::-1]).tobytes(), order)
    # Mipmapped (the driver builds the levels): a repeated texture seen from afar or at a
    # grazing angle would otherwise shimmer into moire. Labels never read textures.
    texture.set_minfilter(SamplerState.FT_linear_mipmap_linear)
    texture.set_magfilter(SamplerState.FT_linear)
    texture.set_anisotropic_degree(1)
    return texture


@functools.cache
def plain_texture(rgba: tuple[int, int, int, int] = (255, 255, 255, 255)) -> Texture:
    """A 1 x 1 texture of one value: what a material map that is missing reads as (white:
    the factor alone, as glTF says; (128, 128, 255): a flat normal)."""
    pixel = np.array(rgba, np.uint8).reshape(1, 1, 4)
    return make_texture(TextureImage(pixel, key=f"engine:plain:{rgba}"))


class TextureCache:
    """Textures by image key, least recently used dropped first."""

    def __init__(self, capacity: int = 128) -> None:
        self._textures: Lru[Texture] = Lru(capacity)

    def get(self, image: TextureImage, srgb: bool = False) -> Texture:
        key = image.key + (" (sRGB)" if srgb else "")
        return self._textures.get(key, lambda: make_texture(image, srgb))


def _card() -> TriangleMesh:
    """A unit square one unit in front of a Panda3D camera (which looks along +Y)."""
    vertices = np.array([[-0.5, 1, -0.5], [0.5, 1, -0.5], [0.5, 1, 0.5], [-0.5, 1, 0.5]])
    return TriangleMesh(
        vertices,
        np.tile([0.0, -1.0, 0.0], (4, 1)),
        np.array([[0, 2, 1], [0, 3, 2]]),
        np.array([[0, 0], [1, 0], [1, 1], [0, 1]]),
        key="engine:backdrop",
    )


def card_distance(near: float, far: float) -> float:
    """Where the backdrop's card goes: between the clip planes wherever they are (their
    geometric mean; a card at a fixed distance is cut away by a near plane beyond it or a
    far plane short of it)."""
    return float(np.sqrt(near * far))


class Backdrop:
    """A background image filling the color camera's view, drawn first, unlit, and hidden
    from the label camera (so it can never reach a label). Its card is `distance` in front
    of the camera, which must lie between the clip planes (`card_distance`)."""

    def __init__(self, color_camera: NodePath, label_mask: BitMask32) -> None:
        self._image_shader = shader = program(shaders.BACKDROP_FRAGMENT, "backdrop")
        self._sampler = SamplerState()
        self._sampler.set_minfilter(SamplerState.FT_linear)
        self._sampler.set_magfilter(SamplerState.FT_linear)
        self.node = geom_node(_card())
        self.node.reparent_to(color_camera)
        self.node.set_shader(shader, 2000)  # above the camera's own shader
        self.node.set_bin("background", 0)
        self.node.set_depth_write(False)
        self.node.set_depth_test(False)
        self.node.set_two_sided(True)
        self.node.hide(label_mask)
        self.node.stash()

    def show(
        self,
        texture: Texture,
        hfov: float,
        vfov: float,
        distance: float,
        undo: str | None = None,
    ) -> None:
        """The background image; with `undo`, as the light that shows as the image where the
        colour target holds light (shaders.light_backdrop_fragment: a tone curve for the
        radiance pass, engine.radiance; a tone's display_linear with multisampling)."""
        shader = self._image_shader if undo is None else _light_shader(undo, True)
        self.node.set_shader(shader, 2000)
        # drawn about one texel a pixel: no mipmaps, which would blur it
        self.node.set_texture(TextureStage.get_default(), texture, self._sampler, 1)
        self._fit(hfov, vfov, distance)

    def show_color(
        self, color: np.ndarray, undo: str, hfov: float, vfov: float, distance: float
    ) -> None:
        """The background colour as the light that shows as it (`undo` as for `show`), where
        the colour target holds light (its float clear value would not go through the
        inverse)."""
        self.node.set_shader(_light_shader(undo, False), 2000)
        self.node.set_shader_input("background", LVecBase3f(*color))
        self._fit(hfov, vfov, distance)

    def show_environment(self, tone: str, hfov: float, vfov: float, distance: float) -> None:
        """The scene's environment behind everything (its inputs are bound on the scene's
        root: engine.environment), through the film like every lit surface."""
        shader = program(shaders.environment_fragment(tone), "environment backdrop")
        self.node.set_shader(shader, 2000)
        self._fit(hfov, vfov, distance)

    def _fit(self, hfov: float, vfov: float, distance: float) -> None:
        width, height = (2 * np.tan(np.radians(fov) / 2) for fov in (hfov, vfov))
        self.node.set_scale(distance * width, distance, distance * height)
        self.node.unstash()

    def hide(self) -> None:
        self.node.stash()


def _light_shader(undo: str, image: bool) -> Shader:
    return program(shaders.light_backdrop_fragment(undo, image), "backdrop's light")
