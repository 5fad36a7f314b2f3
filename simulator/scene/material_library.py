"""The library of procedural materials: metals, plastics, rubber, paint, woods, stone, fabric
and rust, generated at run time with numpy (nothing is downloaded), by name.

`make_material(name, rng)` returns a glTF metallic-roughness `Material` whose textures carry
the look: an sRGB base-colour texture; a linear ORM texture (occlusion in R, roughness in G,
metallic in B, glTF's layout) with the factors left at 1 so the texture is the value, as
glTF exporters write it (the metallic factor is 0 for materials with no metal in them, so a
frame record tells them apart); a tangent-space normal map (OpenGL convention) derived from
a height field where the surface has relief; the ORM texture also as the occlusion map where
it has crevices (seams, grout, weave). Every draw from the rng varies the material within its kind
(a plastic's hue, wood's grain direction and ring count, the tile size...). The recipes live
in `simulator.scene.material_recipes`.

`MaterialPool` makes materials once: a randomizer draws one of a few variants per name, each
generated on first use from (world seed, variant, name), so every worker process makes the
same ones and a run makes at most names x variants of them.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np

from simulator import seeding
from simulator.scene.material_recipes import RECIPES, Maps
from simulator.scene.materials import Material
from simulator.scene.patterns import normal_map, to_srgb8, to_unorm8
from simulator.scene.textures import TextureImage

LIBRARY = RECIPES  # name -> recipe(rng, size) -> Maps

# Kinds a world may name instead of single materials; together they hold the whole library.
FAMILIES: dict[str, tuple[str, ...]] = {
    "metal": ("metal_brushed", "metal_polished", "rusted"),
    "plastic": ("plastic_glossy", "plastic_matte", "rubber", "painted"),
    "wood": ("wood_oak", "wood_walnut", "wood_pine", "wood_planks"),
    "stone": ("concrete", "marble", "tiles"),
    "fabric": ("fabric",),
}


def unknown(name: str) -> str:
    """The message for a name that is neither a material nor a family: the closest name and
    every one there is, so the fix is in the message."""
    known = sorted(LIBRARY) + sorted(set(FAMILIES) - set(LIBRARY))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return (
        f"unknown material {name!r}; {hint}the library has "
        + ", ".join(sorted(LIBRARY))
        + "; families: "
        + ", ".join(sorted(FAMILIES))
    )


def resolve(entry: str) -> tuple[str, ...]:
    """The library names an entry stands for: itself, or its family's members."""
    if entry in LIBRARY:
        return (entry,)
    if entry in FAMILIES:
        return FAMILIES[entry]
    raise ValueError(unknown(entry))


def make_material(name: str, rng: np.random.Generator, size: int = 256) -> Material:
    """A fresh material of kind `name`, its textures `size` x `size`, varied by `rng`
    (deterministic for the rng's state)."""
    if name not in LIBRARY:
        raise ValueError(unknown(name))
    return assemble(name, LIBRARY[name](rng, size))


def assemble(name: str, maps: Maps) -> Material:
    """The glTF material of a recipe's fields: textures encoded, factors at 1 (metallic 0
    where no texel is metal)."""
    source = "material_library:" + name
    shape = maps.roughness.shape
    occlusion = maps.occlusion if maps.occlusion is not None else np.ones(shape)
    metallic = np.broadcast_to(np.asarray(maps.metallic, dtype=float), shape)
    orm = np.stack([to_unorm8(occlusion), to_unorm8(maps.roughness), to_unorm8(metallic)], -1)
    packed = TextureImage(orm, source=source + ":orm")
    normal = (
        TextureImage(normal_map(maps.height, maps.depth), source=source + ":normal")
        if maps.height is not None
        else None
    )
    return Material(
        name=name,
        base_color_texture=TextureImage(to_srgb8(maps.base), source=source + ":base_color"),
        metallic=1.0 if metallic.any() else 0.0,  # the record tells metals from the rest
        roughness=1.0,
        metallic_roughness_texture=packed,
        normal_texture=normal,
        occlusion_texture=packed if maps.occlusion is not None else None,
    )


class MaterialPool:
    """Variants made once and drawn many times: `draw` picks one of `entries` (library or
    family names; a family then picks a member), then one of `variants` variants of it.

    Variant v of a name is made on first use from `seeding.stream(seed, v, "material:" +
    name)`: the same in every process and independent of draw order."""

    def __init__(
        self, entries: Sequence[str], seed: int, variants: int = 8, size: int = 256
    ) -> None:
        if not entries:
            raise ValueError("a material pool needs at least one material or family name")
        if variants < 1:
            raise ValueError(f"variants must be at least 1, got {variants}")
        self.entries = [resolve(entry) for entry in entries]
        self.seed, self.variants, self.size = seed, variants, size
        self._made: dict[tuple[str, int], Material] = {}

    def get(self, name: str, variant: int) -> Material:
        """Variant `variant` (0 to variants - 1) of library material `name`."""
        key = (name, variant)
        if key not in self._made:
            rng = seeding.stream(self.seed, variant, "material:" + name)
            self._made[key] = make_material(name, rng, self.size)
        return self._made[key]

    def draw(self, rng: np.random.Generator) -> Material:
        """A variant, drawn from `rng` only: an entry, a member of it, a variant."""
        members = self.entries[int(rng.integers(len(self.entries)))]
        return self._member(members, rng)

    def draw_from(self, entry: str, rng: np.random.Generator) -> Material:
        """A variant of library material or family `entry` (whichever the pool's entries
        are): a member of it, a variant, drawn from `rng`."""
        return self._member(resolve(entry), rng)

    def _member(self, members: tuple[str, ...], rng: np.random.Generator) -> Material:
        name = members[int(rng.integers(len(members)))]
        return self.get(name, int(rng.integers(self.variants)))

    @property
    def made(self) -> int:
        """How many materials this pool has generated so far."""
        return len(self._made)
