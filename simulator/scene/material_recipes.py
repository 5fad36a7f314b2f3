"""How each library material is made: a recipe draws its kind's variation from the rng and
returns the fields (`Maps`) that `material_library.assemble` encodes as glTF textures.

Colours are chosen in sRGB (as charts list them) and mixed in linear light. Roughness and
metallic ranges follow the usual physically based charts: metals metallic 1, everything
else 0; polished surfaces rough 0.02 to 0.2, rubber, concrete and cloth 0.8 to 1.
"""

from __future__ import annotations

import colorsys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from simulator.scene.patterns import (
    cells,
    coverage,
    grain,
    mix,
    stretch,
    to_linear,
    value_noise,
    weave,
)

Rng = np.random.Generator


@dataclass
class Maps:
    """A material's fields, each (size, size): linear base colour (RGB), roughness, metallic
    (or one value), and optionally a height in [0, 1] spanning `depth` texels and occlusion."""

    base: np.ndarray
    roughness: np.ndarray
    metallic: np.ndarray | float = 0.0
    height: np.ndarray | None = None
    depth: float = 0.0
    occlusion: np.ndarray | None = None

    def turned(self, quarters: int) -> Maps:
        """The same material rotated by quarter turns (a grain's direction); still tiles."""

        def turn(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.rot90(a, quarters).copy()

        metallic = self.metallic
        if isinstance(metallic, np.ndarray):
            metallic = np.rot90(metallic, quarters).copy()
        return Maps(
            np.rot90(self.base, quarters).copy(), np.rot90(self.roughness, quarters).copy(),
            metallic, turn(self.height), self.depth, turn(self.occlusion),
        )  # fmt: skip


Recipe = Callable[[Rng, int], Maps]
RECIPES: dict[str, Recipe] = {}


def recipe(name: str) -> Callable[[Recipe], Recipe]:
    def register(make: Recipe) -> Recipe:
        RECIPES[name] = make
        return make

    return register


# sRGB base colours of metals (their reflectance at normal incidence).
METALS = {
    "aluminium": (0.91, 0.92, 0.92), "brass": (0.98, 0.90, 0.59), "chrome": (0.55, 0.56, 0.55),
    "copper": (0.96, 0.64, 0.54), "gold": (1.00, 0.77, 0.34), "iron": (0.77, 0.78, 0.78),
    "silver": (0.97, 0.96, 0.91), "titanium": (0.76, 0.73, 0.69),
}  # fmt: skip
# Wood species: earlywood and latewood sRGB colours, ring counts across a board, pore depth.
WOODS = {
    "oak": ((0.78, 0.60, 0.40), (0.52, 0.36, 0.21), (5, 10), 0.35),
    "walnut": ((0.45, 0.30, 0.19), (0.22, 0.13, 0.08), (4, 8), 0.2),
    "pine": ((0.90, 0.77, 0.56), (0.70, 0.47, 0.26), (3, 6), 0.1),
}


def _pick(rng: Rng, options: dict[str, tuple[float, float, float]]) -> np.ndarray:
    return to_linear(options[sorted(options)[int(rng.integers(len(options)))]])


def _hsv(rng: Rng, saturation: tuple[float, float], value: tuple[float, float]) -> np.ndarray:
    """A random hue; one in five is a neutral (white, grey, black) as often in products."""
    s = 0.0 if rng.random() < 0.2 else rng.uniform(*saturation)
    return to_linear(colorsys.hsv_to_rgb(rng.random(), s, rng.uniform(*value)))


def _plain(rng: Rng, size: int, colour: np.ndarray, spread: float) -> np.ndarray:
    """A uniform colour with faint blotches (no real surface is one value)."""
    shade = 1 - spread / 2 + spread * value_noise(rng, size, 4, 3)
    return shade[..., None] * colour


def _smudges(rng: Rng, size: int, low: float, high: float) -> np.ndarray:
    """Roughness between low and high in soft patches (wear, fingerprints)."""
    patches = stretch(value_noise(rng, size, 4, 4))
    return low + (high - low) * patches * patches


@recipe("metal_polished")
def metal_polished(rng: Rng, size: int) -> Maps:
    base = _plain(rng, size, _pick(rng, METALS) * rng.uniform(0.92, 1.0), 0.03)
    r = rng.uniform(0.02, 0.08)
    return Maps(base, _smudges(rng, size, r, r + 0.08), 1.0)


@recipe("metal_brushed")
def metal_brushed(rng: Rng, size: int) -> Maps:
    streaks = value_noise(rng, size, (size // 2, 2), octaves=3)  # long along x, fine across
    base = (0.88 + 0.24 * streaks)[..., None] * _pick(rng, METALS) * rng.uniform(0.9, 1.0)
    rough = rng.uniform(0.28, 0.42) + 0.16 * (streaks - 0.5)
    maps = Maps(base, rough, 1.0, streaks, 0.8)
    return maps.turned(int(rng.integers(2)))


def _plastic(rng: Rng, size: int, rough: tuple[float, float], bump: float) -> Maps:
    base = _plain(rng, size, _hsv(rng, (0.35, 0.9), (0.35, 0.95)), 0.04)
    r = rng.uniform(*rough)
    grit = value_noise(rng, size, size // 8, 2)
    return Maps(base, _smudges(rng, size, r, r + 0.08), 0.0, grit if bump else None, bump)


@recipe("plastic_glossy")
def plastic_glossy(rng: Rng, size: int) -> Maps:
    return _plastic(rng, size, (0.05, 0.18), 0.0)


@recipe("plastic_matte")
def plastic_matte(rng: Rng, size: int) -> Maps:
    return _plastic(rng, size, (0.45, 0.65), 0.4)


@recipe("rubber")
def rubber(rng: Rng, size: int) -> Maps:
    hue, saturation, value = rng.random(), rng.uniform(0, 0.35), rng.uniform(0.04, 0.25)
    colour = to_linear(colorsys.hsv_to_rgb(hue, saturation, value))
    grit = value_noise(rng, size, size // 4, 2)
    rough = rng.uniform(0.82, 0.9) + 0.08 * grit
    return Maps(_plain(rng, size, colour, 0.06), rough, 0.0, grit, 0.6)


@recipe("painted")
def painted(rng: Rng, size: int) -> Maps:
    """Sprayed paint: a saturated colour with an orange-peel relief."""
    base = _plain(rng, size, _hsv(rng, (0.45, 1.0), (0.25, 0.9)), 0.05)
    peel = value_noise(rng, size, size // 10, 2)
    r = rng.uniform(0.25, 0.5)
    return Maps(base, _smudges(rng, size, r, r + 0.1), 0.0, peel, 0.7)


def _board(rng: Rng, size: int, species: str, rings: int) -> tuple[np.ndarray, np.ndarray]:
    """A board's colour and latewood field, grain along x."""
    early, late, _, pores = WOODS[species]
    rings_field = grain(rng, size, rings, rng.uniform(0.5, 1.5))
    fibre = value_noise(rng, size, (size // 2, 3), octaves=3)  # fine streaks along the grain
    tone = np.clip(0.8 * rings_field + pores * (fibre - 0.5) * 2, 0, 1)
    shade = (0.92 + 0.16 * fibre) * rng.uniform(0.85, 1.1)
    base = mix(tone, to_linear(early), to_linear(late)) * shade[..., None]
    return base, 0.7 * rings_field + 0.3 * fibre


def _wood(rng: Rng, size: int, species: str) -> Maps:
    low, high = WOODS[species][2]
    base, relief = _board(rng, size, species, int(rng.integers(low, high + 1)))
    rough = rng.uniform(0.4, 0.6) + 0.15 * relief
    return Maps(base, rough, 0.0, relief, 0.8).turned(int(rng.integers(2)))


def _species(species: str) -> Recipe:
    def make(rng: Rng, size: int) -> Maps:
        return _wood(rng, size, species)

    make.__doc__ = f"A {species} board: growth rings and fibres along the grain."
    return make


for _name in WOODS:
    RECIPES["wood_" + _name] = _species(_name)


@recipe("wood_planks")
def wood_planks(rng: Rng, size: int) -> Maps:
    """Planks along x, `count` of them down the image, two per row with their end joints
    staggered; each plank its own grain offset and tint; dark, sunken seams between them."""
    species = sorted(WOODS)[int(rng.integers(len(WOODS)))]
    count, seam = int(rng.integers(3, 7)), max(1, size // 128)
    row, inside = cells(size, count, seam)
    stagger = rng.random() + np.arange(count) * rng.uniform(0.33, 0.42)  # as floors are laid
    first = (np.modf(stagger)[0] * size).astype(int)[row][:, None]
    length = rng.integers(round(size * 0.45), round(size * 0.55) + 1, count)[row][:, None]
    along = (np.arange(size)[None, :] - first) % size
    plank = 2 * row[:, None] + (along >= length)
    seams = (inside[:, None] == 0) | (along < seam) | ((along - length) % size < seam)
    base, relief = _board(rng, size, species, int(rng.integers(10, 22)))
    dy, dx = rng.integers(0, size, 2 * count), rng.integers(0, size, 2 * count)
    y, x = np.ogrid[0:size, 0:size]
    pick = ((y + dy[plank]) % size, (x + dx[plank]) % size)
    base, relief = base[pick], relief[pick]
    lightness, hue = rng.uniform(0.8, 1.15, 2 * count), rng.uniform(0.95, 1.05, (2 * count, 3))
    tint = (lightness[:, None] * hue)[plank]
    base = base * np.where(seams[..., None], 0.15, tint)
    rough = np.where(seams, 0.9, rng.uniform(0.3, 0.55) + 0.15 * relief)
    height = np.where(seams, 0.0, 0.85 + 0.15 * relief)
    occlusion = np.where(seams, 0.4, 1.0)
    return Maps(base, rough, 0.0, height, 1.5, occlusion).turned(int(rng.integers(2)))


TILE_COLOURS = {
    "white": (0.93, 0.93, 0.91), "cream": (0.90, 0.85, 0.72), "terracotta": (0.70, 0.36, 0.22),
    "blue": (0.20, 0.35, 0.60), "green": (0.30, 0.50, 0.40), "black": (0.08, 0.08, 0.09),
    "grey": (0.55, 0.56, 0.57),
}  # fmt: skip


@recipe("tiles")
def tiles(rng: Rng, size: int) -> Maps:
    """Square glazed tiles, 2 to 8 across, in grout lines; flat tops with a bevelled edge."""
    count = int(rng.integers(2, 9))
    grout = max(1, round(size / count * rng.uniform(0.04, 0.08)))
    row, inside_y = cells(size, count, grout)
    inside = np.minimum(inside_y[:, None], inside_y[None, :])
    tile = row[:, None] * count + row[None, :]
    glaze = _pick(rng, TILE_COLOURS) * rng.uniform(0.93, 1.05, count * count)[tile][..., None]
    mortar = to_linear((rng.uniform(0.25, 0.8),) * 3)
    gap = inside == 0
    base = np.where(gap[..., None], mortar, _plain(rng, size, np.ones(3), 0.04) * glaze)
    rough = np.where(gap, rng.uniform(0.85, 0.95), rng.uniform(0.08, 0.3))
    height = np.clip(inside / 2.0, 0, 1)  # a two-texel bevel, then flat
    return Maps(base, rough, 0.0, height, 1.5, np.where(gap, 0.5, 1.0))


@recipe("concrete")
def concrete(rng: Rng, size: int) -> Maps:
    """Grey cast concrete: blotches, grit and small air pits."""
    grey = to_linear((rng.uniform(0.45, 0.7),) * 3) * rng.uniform(0.96, 1.04, 3)
    blotch, grit = value_noise(rng, size, 4, 5), value_noise(rng, size, size // 4, 2)
    pits = coverage(value_noise(rng, size, size // 8, 2), rng.uniform(0.01, 0.04))
    shade = np.where(pits, 0.55, 1.0) * (0.8 + 0.3 * stretch(blotch) - 0.1 * grit)
    rough = rng.uniform(0.8, 0.9) + 0.08 * grit
    height = np.where(pits, 0.0, 0.4 + 0.3 * blotch + 0.3 * grit)
    return Maps(shade[..., None] * grey, rough, 0.0, height, 1.5, np.where(pits, 0.6, 1.0))


MARBLES = (  # (stone, veins) in sRGB
    ((0.92, 0.91, 0.88), (0.35, 0.35, 0.38)),
    ((0.10, 0.10, 0.11), (0.85, 0.85, 0.82)),
    ((0.30, 0.45, 0.38), (0.88, 0.90, 0.86)),
    ((0.86, 0.76, 0.72), (0.50, 0.36, 0.33)),
)


@recipe("marble")
def marble(rng: Rng, size: int) -> Maps:
    """Polished marble: veins where a turbulent phase crosses whole numbers."""
    stone, vein = MARBLES[int(rng.integers(len(MARBLES)))]
    y, x = np.mgrid[0:size, 0:size] / size
    turbulence = value_noise(rng, size, 3, 6)
    phase = x * rng.integers(1, 4) + y * rng.integers(0, 3) + turbulence * rng.uniform(3, 6)
    veins = np.exp(-np.abs(np.sin(np.pi * phase)) / rng.uniform(0.03, 0.08))
    cloud = _plain(rng, size, to_linear(stone), 0.1)
    strength = veins * rng.uniform(0.6, 1.0)
    base = cloud * (1 - strength)[..., None] + to_linear(vein) * strength[..., None]
    return Maps(base, rng.uniform(0.04, 0.15) + 0.05 * veins, 0.0)


@recipe("fabric")
def fabric(rng: Rng, size: int) -> Maps:
    """Woven cloth, plain or twill, warp and weft threads of two shades."""
    threads = int(rng.integers(12, 40))
    height, warp_on_top = weave(size, threads, bool(rng.random() < 0.5))
    fuzz = value_noise(rng, size, size // 4, 2)
    warp = _hsv(rng, (0.2, 0.8), (0.2, 0.8))
    shade_of_warp = rng.random() < 0.7  # else a second colour
    weft = warp * rng.uniform(0.7, 1.0) if shade_of_warp else _hsv(rng, (0.2, 0.8), (0.2, 0.8))
    shade = (0.6 + 0.4 * height) * (0.9 + 0.2 * fuzz)
    base = np.where(warp_on_top[..., None], warp, weft) * shade[..., None]
    relief = 0.85 * height + 0.15 * fuzz
    rough = rng.uniform(0.85, 0.95) + 0.05 * fuzz
    return Maps(base, rough, 0.0, relief, 0.35 * size / threads, 0.55 + 0.45 * height)


@recipe("rusted")
def rusted(rng: Rng, size: int) -> Maps:
    """Steel with rust patches: metallic 1 and fairly smooth where clean; where rusted a
    dielectric (metallic 0), orange to brown, rough and raised."""
    steels = {name: METALS[name] for name in ("chrome", "iron")}
    steel = _pick(rng, steels) * rng.uniform(0.8, 1.0)
    rust = coverage(value_noise(rng, size, 4, 5), rng.uniform(0.2, 0.6))
    tone = value_noise(rng, size, 16, 3)
    oxide = mix(stretch(tone), to_linear((0.60, 0.28, 0.10)), to_linear((0.30, 0.13, 0.06)))
    base = np.where(rust[..., None], oxide, _plain(rng, size, steel, 0.1))
    clean = _smudges(rng, size, rng.uniform(0.2, 0.3), rng.uniform(0.35, 0.45))
    rough = np.where(rust, rng.uniform(0.8, 0.88) + 0.1 * tone, clean)
    height = np.where(rust, 0.5 + 0.5 * tone, 0.0)
    return Maps(base, rough, np.where(rust, 0.0, 1.0), height, 1.5)
