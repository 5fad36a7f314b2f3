"""Randomizers "scatter" and "grid": placing the targeted objects apart from each other.

Objects are kept apart by their bounding spheres (centred on the object, enclosing its mesh as
posed), drawn by rejection sampling: a conservative test, so placed objects never
interpenetrate. On a surface, each object is lowered until its lowest point touches it.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from sim_plugins.supports import Level, Surface, surface
from simulator import (
    Count,
    Entity,
    FrameContext,
    Params,
    Randomizer,
    Scalar,
    hookimpl,
    transforms,
)


def _posed(entity: Entity) -> np.ndarray:
    """The entity's enclosing points rotated and scaled, relative to its position."""
    matrix = transforms.hpr_matrix(entity.hpr) @ np.diag(entity.scale)
    return entity.outline() @ matrix.T


def _footprint(posed: np.ndarray) -> np.ndarray:
    """The corners of the posed points' box, seen from above: what must stand on a support."""
    low, high = posed[:, :2].min(axis=0), posed[:, :2].max(axis=0)
    return np.array([[x, y, 0.0] for x in (low[0], high[0]) for y in (low[1], high[1])])


class ScatterParams(Params):
    low: tuple[float, float, float] = Field((-1.5, -1.5, 0.0), description="Region corner, metres.")
    high: tuple[float, float, float] = Field((1.5, 1.5, 1.0), description="Opposite corner.")
    surface: float | None = Field(
        None, description="Rest objects on the plane z = surface (their z is then not drawn)."
    )
    no_overlap: bool = Field(True, description="Keep objects' bounding spheres apart.")
    gap: float = Field(0.0, ge=0.0, description="Extra clearance between objects, metres.")
    attempts: int = Field(200, ge=1, description="Draws per object before giving up.")
    around: tuple[float, float, float] | None = Field(
        None,
        description="Place objects around this point instead of in the region: at "
        "`radius` from it horizontally, at the point's height (or on `surface`).",
    )
    radius: tuple[float, float] = Field((1.0, 2.0), description="Distance range from `around`.")
    on: str | None = Field(
        None,
        description="Category or spawner name of a support: objects stand on its up-facing "
        "faces, within its outline, instead of in the region.",
    )
    level: Level = Field(
        "any",
        description='Which of the support\'s up-facing faces: "highest" (a table top), '
        '"lowest" (a bin\'s floor) or "any" (every board of a shelf).',
    )
    max_slope: float = Field(
        10.0, ge=0.0, lt=90.0, description="Faces within this many degrees of level count."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ScatterParams:
        if any(a > b for a, b in zip(self.low, self.high, strict=True)):
            raise ValueError(f"low {self.low} must not exceed high {self.high} in any axis")
        if not 0 <= self.radius[0] <= self.radius[1]:
            raise ValueError(f"radius needs 0 <= low <= high, got {list(self.radius)}")
        return self


class Scatter(Randomizer[ScatterParams]):
    """Places each targeted object at random in a region (or on a surface), apart from the
    others. Objects that find no free place in `attempts` draws stop the frame with an error
    naming the frame: make the region larger or the objects fewer."""

    name = "scatter"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p = self.params
        support = self._support(ctx) if p.on is not None else None
        placed: list[tuple[np.ndarray, float]] = []
        for entity in entities:
            posed = _posed(entity)
            # The bounding sphere about the box's centre, not the origin: a model file keeps
            # its own origin (a CAD part's corner, a bolt's head), far from its middle.
            centre = (posed.min(axis=0) + posed.max(axis=0)) / 2
            radius = float(np.linalg.norm(posed - centre, axis=1).max())
            for _ in range(p.attempts):
                if support is not None:
                    point = support.sample(ctx.rng)
                    position = point - np.array([0.0, 0.0, posed[:, 2].min()])
                    if not support.holds(_footprint(posed) + position, point[2]):
                        continue
                else:
                    position = self._draw(ctx.rng)
                if p.surface is not None and support is None:
                    position[2] = p.surface - posed[:, 2].min()
                if not p.no_overlap or all(
                    np.linalg.norm(position + centre - c) >= radius + r + p.gap for c, r in placed
                ):
                    break
            else:
                raise ValueError(
                    f"no free place for object {entity.instance_id} after {p.attempts} draws "
                    f"({len(placed)} placed): enlarge the region or place fewer objects"
                )
            entity.position = position
            placed.append((position + centre, radius))

    def _support(self, ctx: FrameContext) -> Surface:
        """The up-facing faces of the `on` entities, together."""
        p = self.params
        found = ctx.scene.select([p.on]) if p.on is not None else []
        if not found:
            raise ValueError(f"scatter: no entity is {p.on!r} (on): name a support's spawner")
        surfaces = [surface(e, p.level, p.max_slope) for e in found]
        return Surface(
            np.concatenate([s.corners for s in surfaces]),
            np.concatenate([s.areas for s in surfaces]),
        )

    def _draw(self, rng: np.random.Generator) -> np.ndarray:
        p = self.params
        if p.around is None:
            return rng.uniform(p.low, p.high)
        angle, distance = rng.uniform(0, 2 * np.pi), rng.uniform(*p.radius)
        return np.asarray(p.around) + distance * np.array([np.cos(angle), np.sin(angle), 0.0])


class GridParams(Params):
    origin: tuple[float, float, float] = Field((0.0, 0.0, 0.5), description="Grid centre.")
    spacing: Scalar = Field(0.8, description="Distance between neighbouring cells, metres.")
    columns: Count = Field(4, description="Cells along x; rows follow from the object count.")
    jitter: Scalar = Field(0.1, description="Largest random offset from a cell centre, metres.")


class Grid(Randomizer[GridParams]):
    """Places the targeted objects on a grid in the XY plane, row by row, each offset by a
    random jitter."""

    name = "grid"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p = self.params
        spacing, columns = p.spacing.sample(ctx.rng), max(1, int(p.columns.sample(ctx.rng)))
        rows = -(-len(entities) // columns)
        for index, entity in enumerate(entities):
            row, column = divmod(index, columns)
            cell = np.array(
                [(column - (columns - 1) / 2) * spacing, (row - (rows - 1) / 2) * spacing, 0.0]
            )
            jitter = p.jitter.sample(ctx.rng)
            offset = np.append(ctx.rng.uniform(-jitter, jitter, 2), 0.0)
            entity.position = np.asarray(p.origin) + cell + offset


@hookimpl
def sim_register_randomizers(register):
    register(Scatter)
    register(Grid)
