"""What plugins contribute: spawners, randomizers and writers, each with typed parameters.

A plugin subclasses one of these, declares `name` and a `Params` model, and registers the
class from a hook (see `simulator.plugin.hookspecs`). The host validates the world file's table
against `Params` before anything renders and hands the instance its validated parameters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from simulator.dataset.atomic import atomic_open
from simulator.labels.records import FrameLabels, KeypointSchema
from simulator.scene.scene import Entity, Scene
from simulator.world.params import Params

# Component classes name their parameter model `Params`, shadowing this class in their bodies.
ParamsModel = Params


@dataclass
class FrameContext:
    """What a spawner or randomizer sees of the frame being built."""

    frame: int
    seed: int
    rng: np.random.Generator
    scene: Scene


class Spawner:
    """Places entities. `spawn` is called `count` times per frame (count is set in the world)."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params

    def __init__(self, params: ParamsModel) -> None:
        self.params = params

    def categories(self) -> list[str]:
        """Every category this spawner can give its entities (COCO needs them up front)."""
        return [self.name]

    def keypoints(self) -> dict[str, KeypointSchema]:
        """Keypoint schema per category (category -> names and skeleton); none by default.

        Entities carry the positions in `Entity.keypoints` (name -> point in the mesh's own
        frame); a name the entity lacks is labeled "not labeled" (COCO visibility 0)."""
        return {}

    def spawn(self, ctx: FrameContext) -> Entity | Iterable[Entity]:
        raise NotImplementedError


class Randomizer:
    """Varies the scene: the entities it targets, or lights, camera and background."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params

    def __init__(self, params: ParamsModel) -> None:
        self.params = params

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        raise NotImplementedError


@dataclass
class DatasetInfo:
    """What a writer knows about the dataset it writes into."""

    root: Path
    world_name: str
    categories: list[str]
    width: int
    height: int
    frames: int
    world: dict[str, Any]
    labels: list[str] = field(default_factory=list)  # the world's [output] labels
    keypoints: dict[str, KeypointSchema] = field(default_factory=dict)  # by category
    part: Path | None = None  # this writer's folder for the shard being written

    def category_id(self, category: str) -> int:
        """1-based, in the order the world declares categories (0 is background)."""
        return self.categories.index(category) + 1


class Writer:
    """Turns labeled frames into a dataset format.

    A run is split into shards (consecutive frame ranges), possibly written by several
    processes at once. For each shard a writer is created, sees that shard's frames in index
    order, and writes what it streams into `dataset.part`, its own folder for the shard; files
    written per frame straight into `dataset.root` are fine too. When every shard is done,
    `merge` builds the final files from the parts, in frame order. The default `merge`
    concatenates each file found in the parts into the same relative path under the root,
    which is all a line-per-record format (CSV, JSON lines) needs.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params
    one_per_dataset: ClassVar[bool] = False  # True when its file names are fixed

    def __init__(self, params: ParamsModel, dataset: DatasetInfo) -> None:
        self.params = params
        self.dataset = dataset

    @classmethod
    def requires(cls, params: ParamsModel) -> set[str]:
        """Labels (names in `[output] labels`) this writer needs with these parameters.

        Checked when the world is validated, before anything renders."""
        return set()

    def write(self, frame: FrameLabels) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Called once after the shard's last frame; finish the part here."""

    def abort(self) -> None:
        """Called instead of `close` when the run stops early: release open files, finish
        nothing (a partial dataset must not look complete)."""

    @classmethod
    def merge(cls, params: ParamsModel, dataset: DatasetInfo, parts: list[Path]) -> None:
        """Build the final files from the shards' parts (in frame order), once all are done."""
        names = sorted(
            {p.relative_to(part) for part in parts for p in part.rglob("*") if p.is_file()}
        )
        for name in names:
            with atomic_open(dataset.root / name, "wb") as out:
                for part in parts:
                    if (part / name).is_file():
                        out.write((part / name).read_bytes())


class Labeler:
    """Adds ground truth of its own to every frame, after the built-in labels are derived.

    `label` may set `frame.extra[self.name]` (per-frame values) and `obj.attributes[...]` on
    the frame's objects; both land in the native record.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[Params]] = Params

    def __init__(self, params: ParamsModel) -> None:
        self.params = params

    def label(self, frame: FrameLabels) -> None:
        raise NotImplementedError
