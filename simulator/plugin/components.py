"""What plugins contribute: spawners, randomizers, labelers and writers, each with typed parameters.

A plugin subclasses one of these with its parameter model as the type argument
(`class Ring(Spawner[RingParams])`), declares `name`, and registers the class from a hook (see
`simulator.plugin.hookspecs`). The type argument becomes the class attribute `Params`, the model
the host validates the world file's table against before anything renders; the instance gets
the validated parameters as `self.params`, which a type checker then knows as a `RingParams`.
A subclass without a type argument sets `Params` itself, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, Literal, TypeVar, get_args, get_origin

import numpy as np

from simulator.dataset.atomic import atomic_open
from simulator.labels.records import FrameLabels, KeypointSchema
from simulator.scene.motion import ClipFrame
from simulator.scene.scene import Entity, Scene
from simulator.world.params import Params

# Component classes name their parameter model `Params`, shadowing this class in their bodies.
ParamsModel = Params
P = TypeVar("P", bound=ParamsModel)


@dataclass
class FrameContext:
    """What a spawner or randomizer sees of the frame being built."""

    frame: int
    seed: int
    rng: np.random.Generator
    scene: Scene
    # In a world with [clip]: the clip, and the frame of it being built (frame 0 while the
    # clip's own scene is built; docs/time.md). None for independent frames.
    clip: ClipFrame | None = None


class Component(Generic[P]):
    """What every kind of component shares: a name, a parameter model, validated parameters.

    A ClassVar cannot hold a type variable, so `Params` is typed as any model; the type
    argument of the subclass's base (`Spawner[RingParams]`) sets it at class creation, which
    keeps what the host validates and what the type checker sees as `self.params` the same.
    """

    name: ClassVar[str] = ""
    Params: ClassVar[type[ParamsModel]] = ParamsModel
    params: P

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            origin = get_origin(base)
            if isinstance(origin, type) and issubclass(origin, Component):
                _take_params(cls, get_args(base)[0])


def _take_params(cls: type[Component[Any]], model: Any) -> None:
    """Set `cls.Params` from its base's type argument (a type variable sets nothing)."""
    if not (isinstance(model, type) and issubclass(model, ParamsModel)):
        return
    if "Params" not in cls.__dict__:
        cls.Params = model
    elif isinstance(cls.Params, type) and not issubclass(cls.Params, model):
        raise TypeError(
            f"{cls.__name__}.Params is {cls.Params.__name__}, which is not the "
            f"{model.__name__} its base names (nor a subclass): drop the `Params =` line"
        )


class Spawner(Component[P]):
    """Places entities. `spawn` is called `count` times per frame (count is set in the world)."""

    def __init__(self, params: P) -> None:
        self.params = params

    def categories(self) -> list[str]:
        """Every category this spawner can give its entities (COCO needs them up front)."""
        return [self.name]

    def keypoints(self) -> dict[str, KeypointSchema]:
        """Keypoint schema per category (category -> names and skeleton); none by default.

        Entities carry the positions in `Entity.keypoints` (name -> point in the mesh's own
        frame); a name the entity lacks is labeled "not labeled" (COCO visibility 0)."""
        return {}

    def assets(self) -> list[dict[str, Any]]:
        """The files this spawner draws from (path, category, unit, license, source,
        attribution), listed in the dataset manifest's `assets`; none by default."""
        return []

    def spawn(self, ctx: FrameContext) -> Entity | Iterable[Entity]:
        raise NotImplementedError


class Randomizer(Component[P]):
    """Varies the scene: the entities it targets, or lights, camera and background.

    In a clip (docs/time.md) a randomizer acts once per clip (`timing = "clip"`: on the
    clip's scene, which every frame of the clip shares) or on every frame (`"frame"`: on
    each frame's copy, drawing from that frame's stream). Whatever should move over the clip
    is written as a motion (`Entity.motion`, `CameraState.path`) while the clip is built.
    A parameter the world animates (`{ keyframes = [...] }`) samples as its value at the
    frame's time; a per-clip randomizer holding one is run on every frame, with the clip's
    stream (docs/time.md#animated-values). One that must act once on the clip's scene (it
    writes the clip's motions or simulates it: `throw`, `camera_motion`) sets
    `once_per_clip`, and the world may then not animate its parameters.
    """

    timing: ClassVar[Literal["clip", "frame"]] = "clip"
    once_per_clip: ClassVar[bool] = False

    def __init__(self, params: P) -> None:
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


class Writer(Component[P]):
    """Turns labeled frames into a dataset format.

    A run is split into shards (consecutive frame ranges), possibly written by several
    processes at once. For each shard a writer is created, sees that shard's frames in index
    order, and writes what it streams into `dataset.part`, its own folder for the shard; files
    written per frame straight into `dataset.root` are fine too. When every shard is done,
    `merge` builds the final files from the parts, in frame order. The default `merge`
    concatenates each file found in the parts into the same relative path under the root,
    which is all a line-per-record format (CSV, JSON lines) needs.
    """

    one_per_dataset: ClassVar[bool] = False  # True when its file names are fixed
    needs_clip: ClassVar[bool] = False  # True for formats of clips (the world needs [clip])

    def __init__(self, params: P, dataset: DatasetInfo) -> None:
        self.params = params
        self.dataset = dataset

    @classmethod
    def requires(cls, params: P) -> set[str]:
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
    def merge(cls, params: P, dataset: DatasetInfo, parts: list[Path]) -> None:
        """Build the final files from the shards' parts (in frame order), once all are done."""
        names = sorted(
            {p.relative_to(part) for part in parts for p in part.rglob("*") if p.is_file()}
        )
        for name in names:
            with atomic_open(dataset.root / name, "wb") as out:
                for part in parts:
                    if (part / name).is_file():
                        out.write((part / name).read_bytes())


class Labeler(Component[P]):
    """Adds ground truth of its own to every frame, after the built-in labels are derived.

    `label` may set `frame.extra[self.name]` (per-frame values) and `obj.attributes[...]` on
    the frame's objects; both land in the native record.
    """

    def __init__(self, params: P) -> None:
        self.params = params

    def label(self, frame: FrameLabels) -> None:
        raise NotImplementedError
