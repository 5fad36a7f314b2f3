"""Which labeled objects a writer keeps: the visibility filter writers share.

Objects below `min_pixels` visible pixels or `min_visibility` visible fraction are filtered.
What a writer does with a filtered object is the writer's to state: COCO keeps it as a crowd
(ignore) region by default, YOLO drops it (the format has no ignore regions).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from simulator.labels.records import ObjectLabel
from simulator.world.params import Params


class VisibilityFilter(Params):
    """Parameters of writers that filter objects by how much of them is seen."""

    min_pixels: int = Field(1, ge=1, description="Fewest visible pixels an object must show.")
    min_visibility: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="Least visible fraction (visible / unoccluded pixels); needs the "
        "`visibility` label.",
    )


Filtered = Literal["drop", "ignore"]


def keep(obj: ObjectLabel, params: VisibilityFilter) -> bool:
    """True when `obj` passes the writer's visibility filter."""
    if obj.area < params.min_pixels:
        return False
    if params.min_visibility > 0:
        if obj.visibility is None:
            raise ValueError("min_visibility needs the `visibility` label in [output] labels")
        return obj.visibility >= params.min_visibility
    return True
