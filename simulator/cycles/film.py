"""The camera's film in numpy: what the frame shader does to the radiance after lighting
(`engine.shaders`: the film gain, then the tone curve, then 8-bit), applied to Cycles' linear
render, so the two renderers' images differ by their light transport only.

A twin of `shaders._TONE` and `shaders._TONE_FUNCTIONS` (tests/test_cycles.py holds it to the
engine's pixels on a flat-lit quad), computed in float32 as the shader is. Where Cycles' film
is transparent (no environment seen behind the scene), the frame is laid over the background
colour or image after the tone curve, as the engine's clear colour and backdrop are: unlit,
never through the film.
"""

from __future__ import annotations

import numpy as np

# Hill's fit of the ACES reference rendering and output transforms, as the shader's mat3
# (given by column there; by row here).
_INTO = np.array(
    [[0.59719, 0.35458, 0.04823], [0.07600, 0.90834, 0.01566], [0.02840, 0.13383, 0.83777]],
    np.float32,
)
_OUT_OF = np.array(
    [[1.60475, -0.53108, -0.07367], [-0.10208, 1.10813, -0.00605], [-0.00327, -0.07276, 1.07602]],
    np.float32,
)
TONES = ("clamp", "linear", "aces")


def encode_srgb(c: np.ndarray) -> np.ndarray:
    """sRGB's transfer function (IEC 61966-2-1) of linear values in [0, 1]."""
    c = np.asarray(c, np.float32)
    curve = np.float32(1.055) * np.power(c, np.float32(1 / 2.4)) - np.float32(0.055)
    return np.where(c >= np.float32(0.0031308), curve, np.float32(12.92) * c)


def aces(c: np.ndarray) -> np.ndarray:
    """The ACES filmic curve (Hill's fit), sRGB primaries in and out, clipped to [0, 1]."""
    v = np.asarray(c, np.float32) @ _INTO.T
    v = (v * (v + np.float32(0.0245786)) - np.float32(0.000090537)) / (
        v * (np.float32(0.983729) * v + np.float32(0.4329510)) + np.float32(0.238081)
    )
    return np.clip(v @ _OUT_OF.T, 0.0, 1.0)


def tone(light: np.ndarray, curve: str) -> np.ndarray:
    """Radiance (after the film gain) to sRGB-encoded values in [0, 1], by `curve`."""
    light = np.asarray(light, np.float32)
    if curve == "clamp":
        return np.power(np.clip(light, 0.0, 1.0), np.float32(1 / 2.2))
    if curve == "linear":
        return encode_srgb(np.clip(light, 0.0, 1.0))
    if curve == "aces":
        return encode_srgb(aces(light))
    raise ValueError(f"unknown tone curve {curve!r}; one of {', '.join(TONES)}")


def to_8bit(srgb: np.ndarray) -> np.ndarray:
    """[0, 1] floats to uint8, rounded to nearest as a GL unorm target stores them."""
    return np.rint(np.clip(srgb, 0.0, 1.0) * np.float32(255)).astype(np.uint8)


def develop(
    rgba: np.ndarray,
    gain: np.ndarray,
    curve: str,
    behind: np.ndarray | None = None,
) -> np.ndarray:
    """Cycles' linear RGBA (H, W, 4; premultiplied, top row first) to the 8-bit sRGB frame.

    `behind`: None when the film is opaque (the environment is seen); else what shows where
    the scene does not cover a pixel, sRGB in [0, 1]: a colour (3,) or an image (H, W, 3).
    """
    rgb, alpha = rgba[..., :3], rgba[..., 3:4]
    if behind is None:
        return to_8bit(tone(rgb * np.asarray(gain, np.float32), curve))
    covered = np.maximum(alpha, np.float32(1e-8))
    front = tone(rgb / covered * np.asarray(gain, np.float32), curve)
    alpha = np.clip(alpha, 0.0, 1.0)
    return to_8bit(front * alpha + np.asarray(behind, np.float32) * (1 - alpha))
