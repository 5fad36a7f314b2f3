"""Procedural photo studios, renderer-free: a dim, graded room lit by soft boxes, as an
`Environment` for indoor and tabletop scenes that needs no download.

The room is a grey floor darker than its walls, which brighten a little towards the ceiling
(radiance 0.03 to 0.09 before scaling). The soft boxes, the key, fill and rim lights of a
studio and any more, are rectangles in angle space (azimuth x elevation) with soft edges, a
slightly warm or cool white of radiance 5 to 30 before scaling (a hundred times the room and
more), centred at elevations of 10 to 70 degrees.

Units are relative: the whole image is scaled so that a white Lambertian floor (facing up) lit
by the studio has luminance 1, whatever the boxes drawn, so a renderer's exposure for a studio
needs no tuning. Deterministic for the generator's state; the key is a digest of what was
drawn, so equal studios share caches.
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple, dataclass

import numpy as np

from simulator.scene.environment import Environment, pixel_directions
from simulator.scene.sky import RGB_LUMINANCE, horizontal_illuminance

FLOOR, WALL, CEILING = 0.03, 0.06, 0.09  # the room's radiance before scaling
EDGE = 0.25  # a box's soft edge, as a fraction of its half-size on either side of the edge


@dataclass(frozen=True)
class SoftBox:
    """One soft box: its centre (`azimuth` counter-clockwise from +X, `elevation`, degrees),
    its angular size (`width` along azimuth, `height` along elevation, degrees) and its
    linear RGB radiance before the studio is scaled."""

    azimuth: float
    elevation: float
    width: float
    height: float
    radiance: tuple[float, float, float]


def studio_environment(rng: np.random.Generator, height: int = 128, boxes: int = 3) -> Environment:
    """A studio of `boxes` soft boxes (the first three a key, a fill and a rim light) drawn
    from `rng`, as an (height, 2 height) environment in relative units."""
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            "studio_environment needs a numpy Generator (np.random.default_rng), "
            f"got {type(rng).__name__}"
        )
    if isinstance(boxes, bool) or not isinstance(boxes, int) or boxes < 0:
        raise ValueError(f"boxes must be a whole number of soft boxes (0 or more), got {boxes!r}")
    return studio_from_boxes(draw_soft_boxes(rng, boxes), height)


def draw_soft_boxes(rng: np.random.Generator, boxes: int) -> tuple[SoftBox, ...]:
    """`boxes` soft boxes as a photographer places them: a bright key at a random azimuth, a
    dimmer fill 60-120 degrees to one side of it, a rim light behind the subject (opposite the
    key), then any more anywhere."""
    key_azimuth = float(rng.uniform(0.0, 360.0))
    side = float(rng.choice([-1.0, 1.0]))
    # (azimuth, elevation range, radiance range) per role
    roles = [
        (key_azimuth, (25.0, 60.0), (20.0, 30.0)),
        (key_azimuth + side * float(rng.uniform(60.0, 120.0)), (10.0, 40.0), (5.0, 10.0)),
        (key_azimuth + 180.0 + float(rng.uniform(-30.0, 30.0)), (30.0, 70.0), (10.0, 20.0)),
    ]
    drawn = []
    for index in range(boxes):
        if index < len(roles):
            azimuth, elevations, radiances = roles[index]
        else:
            azimuth, elevations, radiances = float(rng.uniform(0, 360)), (10.0, 70.0), (5.0, 30.0)
        warmth = float(rng.uniform(-0.05, 0.05))  # + warm (reddish) white, - cool (bluish)
        white = np.array([1.0 + warmth, 1.0, 1.0 - warmth])
        tint = [float(c) for c in white / float(white @ RGB_LUMINANCE) * rng.uniform(*radiances)]
        drawn.append(
            SoftBox(
                azimuth=round(azimuth % 360.0, 6),
                elevation=round(float(rng.uniform(*elevations)), 6),
                width=round(float(rng.uniform(15.0, 30.0)), 6),
                height=round(float(rng.uniform(10.0, 25.0)), 6),
                radiance=(round(tint[0], 6), round(tint[1], 6), round(tint[2], 6)),
            )
        )
    return tuple(drawn)


def studio_from_boxes(boxes: tuple[SoftBox, ...], height: int = 128) -> Environment:
    """The studio lit by exactly these `boxes`, scaled so a white floor comes out at 1."""
    if isinstance(height, bool) or not isinstance(height, int) or height < 2:
        raise ValueError(f"studio height must be an integer of at least 2 rows, got {height!r}")
    image = _room_with(boxes, height)
    floor_white = float(horizontal_illuminance(Environment(image)) @ RGB_LUMINANCE) / np.pi
    return _environment(image / floor_white, (height, [astuple(b) for b in boxes]))


@dataclass(frozen=True)
class KeyLight:
    """A studio's key soft box as a directional light: `direction` the light travels (from
    the box towards the floor), `irradiance` (3,) on a surface facing it, and `size`, the
    box's angular size in degrees (its shadows are that soft)."""

    direction: np.ndarray
    irradiance: np.ndarray
    size: float


def studio_with_key_light(
    rng: np.random.Generator, height: int = 128, boxes: int = 3
) -> tuple[Environment, KeyLight]:
    """The same studio as `studio_environment` for the same rng, but with its key box (the
    first) taken out of the image and given as a light, so that it can cast shadows: the
    image and the light are scaled together so a white floor still comes out at 1. A box of
    angular size w x h at elevation e covers w h cos(e) steradians (in radians), so facing it
    a surface receives its radiance times that."""
    key, *rest = draw_soft_boxes(rng, max(boxes, 1))
    image = _room_with(tuple(rest), height)
    solid_angle = np.radians(key.width) * np.radians(key.height) * np.cos(np.radians(key.elevation))
    irradiance = np.asarray(key.radiance) * solid_angle
    a, e = np.radians(key.azimuth), np.radians(key.elevation)
    towards = np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])
    from_image = float(horizontal_illuminance(Environment(image)) @ RGB_LUMINANCE)
    floor_white = (from_image + float(irradiance @ RGB_LUMINANCE) * towards[2]) / np.pi
    environment = _environment(image / floor_white, ("keyed", height, astuple(key), rest))
    size = float(np.sqrt(key.width * key.height))
    return environment, KeyLight(-towards, irradiance / floor_white, size)


def _room_with(boxes: tuple[SoftBox, ...], height: int) -> np.ndarray:
    """The room's image lit by these boxes, before scaling."""
    directions = pixel_directions(height)
    elevation = np.degrees(np.arcsin(np.clip(directions[..., 2], -1.0, 1.0)))
    azimuth = np.degrees(np.arctan2(directions[..., 1], directions[..., 0]))
    image = np.repeat(room_radiance(elevation)[..., None], 3, axis=-1)
    for box in boxes:
        across = (azimuth - box.azimuth + 180.0) % 360.0 - 180.0
        weight = _soft_edge(across, box.width / 2) * _soft_edge(
            elevation - box.elevation, box.height / 2
        )
        image = image + weight[..., None] * np.asarray(box.radiance)
    return image


def _environment(image: np.ndarray, what: object) -> Environment:
    digest = hashlib.blake2b(repr(what).encode(), digest_size=8).hexdigest()
    name = f"studio:{digest}"
    return Environment(image.astype(np.float32), key=name, source=name)


def room_radiance(elevation: np.ndarray) -> np.ndarray:
    """The bare room's grey radiance by elevation (degrees): the floor, walls that brighten
    towards the ceiling, and a soft skirting where they meet at the horizon."""
    e = np.asarray(elevation, float)
    walls = WALL + (CEILING - WALL) * np.sin(np.radians(np.clip(e, 0.0, 90.0)))
    blend = np.clip((e + 5.0) / 10.0, 0.0, 1.0)
    blend = blend * blend * (3 - 2 * blend)  # smoothstep over -5..5 degrees
    return FLOOR + (walls - FLOOR) * blend


def _soft_edge(offset: np.ndarray, half: float) -> np.ndarray:
    """1 inside a box's half-size, 0 outside, a smoothstep across EDGE x half at the edge."""
    inner, outer = half * (1 - EDGE), half * (1 + EDGE)
    t = np.clip((outer - np.abs(offset)) / (outer - inner), 0.0, 1.0)
    return t * t * (3 - 2 * t)
