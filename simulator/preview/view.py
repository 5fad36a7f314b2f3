"""What the preview window shows, as one RGB image: a pass, label overlays, HUD and errors.

Pure numpy and PIL, no window: the tests compose the same image and compare it with a
screenshot. The frame is scaled first (nearest neighbour when enlarged, so every captured
pixel stays a block of one color), then the labels are drawn at window resolution with their
pixel-edge coordinates scaled the same way, so lines stay thin and text stays readable.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from simulator.labels.records import RenderedPasses
from simulator.preview.draw import draw_labels, tint
from simulator.preview.keys import KEY_MAP, ViewState
from simulator.preview.picture import Picture
from simulator.report import overlay

LINE = 16  # HUD line height, pixels
HUD_LINES = 5
HUD_HEIGHT = HUD_LINES * LINE + 8
MIN_WIDTH = 640  # narrower windows cut the HUD's key map
FREE_VIEW = (255, 160, 0)  # frame drawn around the free view: it is not what is captured
ERROR_RED = (170, 20, 20)
# Google's Turbo colormap, polynomial fit (Mikhailov 2019): depth near red, far blue.
_TURBO = np.array(
    [
        [0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943],
        [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604],
        [0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973],
    ]
)


@dataclass(frozen=True)
class Layout:
    """Where the frame sits in a window of `width` x `height`: scaled by `scale`, its
    top-left pixel at (x, y); the HUD fills the bottom `HUD_HEIGHT` rows."""

    width: int
    height: int
    scale: float
    x: int
    y: int
    image_width: int
    image_height: int

    def to_window(self, u: float, v: float) -> tuple[float, float]:
        """A pixel-edge image coordinate in window pixels."""
        return self.x + u * self.scale, self.y + v * self.scale


def auto_scale(width: int, height: int, screen: tuple[int, int]) -> float:
    """The largest whole enlargement (at least 1) that fits 85 % of the screen, or the
    shrink that does."""
    room_w, room_h = int(screen[0] * 0.85), int(screen[1] * 0.85) - HUD_HEIGHT
    fit = min(room_w / width, room_h / height)
    return float(max(1, int(fit))) if fit >= 1 else fit


def window_size(width: int, height: int, scale: float) -> tuple[int, int]:
    return max(round(width * scale), MIN_WIDTH), round(height * scale) + HUD_HEIGHT


def layout(window: tuple[int, int], image: tuple[int, int]) -> Layout:
    """The frame's place in a window: centred above the HUD, whole enlargements preferred."""
    room_w, room_h = window[0], max(window[1] - HUD_HEIGHT, 1)
    scale = min(room_w / image[0], room_h / image[1])
    scale = float(int(scale)) if scale >= 1 else scale
    w, h = max(round(image[0] * scale), 1), max(round(image[1] * scale), 1)
    return Layout(window[0], window[1], scale, (room_w - w) // 2, (room_h - h) // 2, w, h)


def category_ids(picture: Picture, instance: np.ndarray) -> np.ndarray:
    """Category id per pixel (0: background and distractors), as `sim run` writes it."""
    ids = max((e.instance_id for e in picture.labels.scene.entities), default=0)
    lookup = np.zeros(ids + 1, dtype=np.uint16)  # ids may skip (objects joining a clip)
    for entity in picture.labels.scene.entities:
        if entity.category is not None:
            lookup[entity.instance_id] = picture.categories.index(entity.category) + 1
    return lookup[instance]


def turbo(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1] as Turbo colors, uint8 RGB."""
    x = np.clip(values, 0.0, 1.0)[..., None] ** np.arange(6)
    return (np.clip(x @ _TURBO.T, 0.0, 1.0) * 255).astype(np.uint8)


def false_color(name: str, passes: RenderedPasses, picture: Picture) -> np.ndarray:
    """The pass `name` as an RGB image; background black."""
    if name == "color":
        return passes.color
    found = passes.depth > 0
    image = np.zeros((*passes.depth.shape, 3), np.uint8)
    if name == "depth" and found.any():
        near, far = passes.depth[found].min(), passes.depth[found].max()
        image[found] = turbo(1.0 - (passes.depth[found] - near) / max(far - near, 1e-6))
    elif name == "normals":
        image[found] = ((passes.normal[found] + 1.0) * 127.5).clip(0, 255).astype(np.uint8)
    elif name == "semantic":
        ids = category_ids(picture, passes.instance)
        for category_id in np.unique(ids[ids > 0]):
            image[ids == category_id] = overlay.instance_color(int(category_id))
    return image


def compose(
    picture: Picture,
    state: ViewState,
    where: Layout,
    hud: Sequence[str],
    errors: Sequence[str] = (),
) -> np.ndarray:
    """The whole window: the frame with its overlays, the HUD, then errors and help on top."""
    passes = picture.free or picture.labels.passes
    traced = picture.traced if picture.free is None and state.shown_pass == "color" else None
    frame = Image.fromarray(
        false_color(state.shown_pass, passes, picture) if traced is None else traced
    )
    size = (where.image_width, where.image_height)
    frame = frame.resize(
        size, Image.Resampling.NEAREST if where.scale >= 1 else Image.Resampling.BOX
    )
    if "masks" in state.overlays:
        frame = tint(frame, passes.instance, picture.labels.objects)
    frame = draw_labels(frame, picture, state.overlays, where.scale)
    canvas = Image.new("RGB", (where.width, where.height), (24, 24, 28))
    canvas.paste(frame, (where.x, where.y))
    pen = ImageDraw.Draw(canvas, "RGBA")
    if picture.free is not None:  # framed: what is shown is not what is captured
        right, bottom = where.x + where.image_width - 1, where.y + where.image_height - 1
        pen.rectangle([where.x, where.y, right, bottom], outline=FREE_VIEW, width=3)
    _hud(pen, hud, where)
    if errors:
        _error_banner(pen, "\n".join(errors), where)
    if state.help:
        _help_panel(pen, where)
    return np.asarray(canvas)


@functools.cache
def font(size: int = 13) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's bundled font (ASCII is all the HUD uses)."""
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the bitmap font
        return ImageFont.load_default()


def _hud(pen: ImageDraw.ImageDraw, lines: Sequence[str], where: Layout) -> None:
    top = where.height - HUD_HEIGHT
    pen.rectangle([0, top, where.width, where.height], fill=(0, 0, 0))
    for row, text in enumerate(lines[:HUD_LINES]):
        pen.text((6, top + 4 + row * LINE), text, font=font(), fill=(230, 230, 230))


def _error_banner(pen: ImageDraw.ImageDraw, message: str, where: Layout) -> None:
    """`message` in white on red across the top of the window, wrapped to its width."""
    chars = max(int(where.width / max(font().getlength("m"), 1)), 20)
    rows = [r for part in message.splitlines() for r in textwrap.wrap(part, chars)][:8]
    pen.rectangle([0, 0, where.width, len(rows) * LINE + 8], fill=ERROR_RED)
    for row, text in enumerate(rows):
        pen.text((6, 4 + row * LINE), text, font=font(), fill=(255, 255, 255))


def _help_panel(pen: ImageDraw.ImageDraw, where: Layout) -> None:
    """The full key map over the frame, on a dark panel."""
    height = len(KEY_MAP) * LINE + 12
    top = max((where.height - HUD_HEIGHT - height) // 2, 0)
    pen.rectangle([20, top, where.width - 20, top + height], fill=(0, 0, 0, 215))
    for row, (keys, meaning) in enumerate(KEY_MAP):
        y = top + 6 + row * LINE
        pen.text((32, y), keys, font=font(), fill=(255, 210, 120))
        pen.text((150, y), meaning, font=font(), fill=(235, 235, 235))
