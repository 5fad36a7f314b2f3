"""From a validated world and its plugins to the scene of any frame index.

`Pipeline.build_scene(i)` is pure Python and deterministic: it depends only on the world
and i, so frames can be built in any order, in any process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import numpy as np
from pydantic import ValidationError

from simulator.capture.animated import animated_names
from simulator.capture.checks import scene_problem
from simulator.capture.clips import frame_scene, joined, subframe_scene
from simulator.errors import PluginError, SimError, WorldError, did_you_mean
from simulator.labels.records import FrameLabels, KeypointSchema
from simulator.plugin.components import FrameContext, Labeler, Randomizer, Spawner, Writer
from simulator.plugin.host import PluginHost, Registry, plugin_files
from simulator.scene.lens import Lens
from simulator.scene.motion import ClipFrame
from simulator.scene.scene import CameraState, Entity, Film, Scene
from simulator.seeding import stream
from simulator.world.animation import Clock, Curve, Keyframes, fraction, running
from simulator.world.load import validation_error
from simulator.world.params import Params
from simulator.world.schema import LabelerEntry, PluginEntry, RandomizerEntry, SpawnerEntry, World
from simulator.world.tomlpos import format_path, locate

C = TypeVar("C", Spawner, Randomizer, Writer, Labeler)
E = TypeVar("E", bound=PluginEntry)


@dataclass
class Bound(Generic[E, C]):
    """A world entry with its plugin component class and validated parameters."""

    entry: E
    component: type[C]
    plugin: str
    params: Params
    location: tuple[str | int, ...]


def host_for(
    world: World,
    plugins_dirs: Iterable[Any] = (),
    trace: bool | None = None,
    *,
    plugins: Iterable[object] = (),
) -> PluginHost:
    """The plugin host for a world: bundled, installed, the world's local plugin files, and
    `plugins`, plugin objects held in this process (see PluginHost)."""
    files = []
    for index, name in enumerate(world.plugins.paths):
        path = (world.directory / name).resolve()
        if not path.is_file():
            raise WorldError(
                f"plugin file not found: {path}",
                file=world.file,
                toml_path=f"plugins.paths[{index}]",
            )
        files.append(path)
    files += plugin_files(plugins_dirs)
    return PluginHost(files, disable=world.plugins.disable, trace=trace, plugins=plugins)


def _bind(
    world: World,
    entries: Sequence[E],
    registry: Registry[C],
    section: tuple[str, ...],
    generic: Iterable[str],
) -> list[Bound[E, C]]:
    bound: list[Bound[E, C]] = []
    for index, entry in enumerate(entries):
        location: tuple[str | int, ...] = (*section, index)
        try:
            registration = registry.get(entry.type)
        except SimError as error:
            raise WorldError(
                str(error),
                file=world.file,
                toml_path=_path(location, "type"),
                line=_line(world, (*location, "type")),
            ) from None
        try:
            params = registration.component.Params.model_validate(
                entry.params, context={"world_dir": world.directory}
            )
        except ValidationError as error:
            raise validation_error(
                error,
                registration.component.Params,
                world.text,
                world.file,
                prefix=location,
                extra_names=list(generic),
            ) from None
        bound.append(Bound(entry, registration.component, registration.plugin, params, location))
    return bound


def _path(location: tuple[str | int, ...], key: str) -> str:

    return format_path((*location, key))


def _line(world: World, path: tuple[str | int, ...]) -> int | None:

    return locate(world.text, path) if world.text else None


def _unique_keys(world: World, bound: list[Bound[Any, Any]], kind: str) -> None:
    seen: dict[str, tuple[str | int, ...]] = {}
    for item in bound:
        key = item.entry.key
        if key in seen:
            raise WorldError(
                f"two {kind}s are called {key!r} ({_path(seen[key], 'type')[:-5]} and "
                f"{_path(item.location, 'type')[:-5]})",
                file=world.file,
                line=_line(world, item.location),
                hint="give each a distinct `name`: it names the entry's random stream",
            )
        seen[key] = item.location


def _check_writer_labels(world: World, writers: list[Bound[PluginEntry, Writer]]) -> None:
    seen: set[str] = set()
    for bound in writers:
        if bound.component.one_per_dataset and bound.entry.type in seen:
            raise WorldError(
                f"only one {bound.entry.type!r} writer per dataset: its file names are fixed",
                file=world.file,
                line=_line(world, bound.location),
                toml_path=_path(bound.location, "type"),
            )
        seen.add(bound.entry.type)
        if bound.component.needs_clip and world.clip is None:
            raise WorldError(
                f"writer {bound.entry.type!r} writes clips: the world needs a [clip] section",
                file=world.file,
                line=_line(world, bound.location),
                toml_path=_path(bound.location, "type"),
                hint="add [clip] with frames (per clip) and fps (docs/time.md)",
            )
        missing = bound.component.requires(bound.params) - set(world.output.labels)
        if missing:
            names = ", ".join(repr(m) for m in sorted(missing))
            raise WorldError(
                f"writer {bound.entry.type!r} needs the label(s) {names}",
                file=world.file,
                line=_line(world, ("output", "labels")),
                toml_path="output.labels",
                hint=f"add {names} to [output] labels",
            )


class Pipeline:
    """Spawners and randomizers bound to a world: builds the scene of any frame."""

    def __init__(self, world: World, host: PluginHost) -> None:
        self.world = world
        self.spawners: list[Bound[SpawnerEntry, Spawner]] = _bind(
            world, world.spawners, host.spawners, ("spawners",), SpawnerEntry.model_fields
        )
        self.randomizers: list[Bound[RandomizerEntry, Randomizer]] = _bind(
            world,
            world.randomizers,
            host.randomizers,
            ("randomizers",),
            RandomizerEntry.model_fields,
        )
        self.writers: list[Bound[PluginEntry, Writer]] = _bind(
            world,
            world.output.writers,
            host.writers,
            ("output", "writers"),
            PluginEntry.model_fields,
        )
        _unique_keys(world, self.spawners, "spawner")
        _unique_keys(world, self.randomizers, "randomizer")
        self.labelers: list[Bound[LabelerEntry, Labeler]] = _bind(
            world, world.labelers, host.labelers, ("labelers",), PluginEntry.model_fields
        )
        _unique_keys(world, self.writers, "writer")
        _unique_keys(world, self.labelers, "labeler")
        _check_writer_labels(world, self.writers)
        # Animated values: their keys' stream names, and the per-clip randomizers holding
        # one, which run on every frame (simulator.capture.animated).
        self._animated, self._every_frame = animated_names(
            world,
            self.randomizers,
            [("spawner", self.spawners), ("writer", self.writers), ("labeler", self.labelers)],
        )
        self._curves: dict[int, dict[int, Curve]] = {}  # the clip's drawn keys
        self._spawners = [(b, b.component(b.params)) for b in self.spawners]
        self._randomizers = [(b, b.component(b.params)) for b in self.randomizers]
        self._labelers = [(b, b.component(b.params)) for b in self.labelers]
        self._clip_scene: dict[int, Scene] = {}  # the scene of the clip being rendered
        self.host = host
        self.categories = self._categories()
        self.keypoints = self._keypoints()
        self.assets = [
            {"spawner": bound.entry.key, **asset}
            for bound, spawner in self._spawners
            for asset in spawner.assets()
        ]
        self._check_targets()

    def _keypoints(self) -> dict[str, KeypointSchema]:
        schemas: dict[str, KeypointSchema] = {}
        for bound, spawner in self._spawners:
            if bound.entry.distractor:
                continue
            for category, schema in spawner.keypoints().items():
                name = bound.entry.category or category
                if schemas.setdefault(name, schema) != schema:
                    raise WorldError(
                        f"category {name!r} gets two different keypoint schemas",
                        file=self.world.file,
                        line=_line(self.world, bound.location),
                        toml_path=_path(bound.location, "category"),
                    )
        return schemas

    def _check_targets(self) -> None:
        known = list(dict.fromkeys([*self.categories, *(b.entry.key for b in self.spawners)]))
        for bound in self.randomizers:
            for index, target in enumerate(bound.entry.targets or ()):
                if target not in known:
                    path = (*bound.location, "targets", index)
                    raise WorldError(
                        f"target {target!r} is neither a category nor a spawner name"
                        f"{did_you_mean(target, known)}",
                        file=self.world.file,
                        line=_line(self.world, path),
                        toml_path=_path(bound.location, "targets") + f"[{index}]",
                    )

    def _categories(self) -> list[str]:
        categories: list[str] = []
        for bound, spawner in self._spawners:
            if bound.entry.distractor:
                continue
            for name in [bound.entry.category] if bound.entry.category else spawner.categories():
                if name not in categories:
                    categories.append(name)
        return categories

    def camera(self) -> CameraState:
        cam = self.world.camera
        return CameraState(
            cam.resolution[0],
            cam.resolution[1],
            cam.fov,
            cam.near,
            cam.far,
            position=np.asarray(cam.position, dtype=float),
            target=np.asarray(cam.target, dtype=float),
            lens=None if cam.lens is None else Lens(cam.lens.model, cam.lens.coefficients()),
        )

    def film(self) -> Film:
        """The world's film: its exposure, metering and tone curve (randomizers may change
        them per frame)."""
        render = self.world.render
        return Film(
            exposure=render.exposure,
            metering=bool(render.setting("metering")),
            tone=render.setting("tone"),  # type: ignore[arg-type]
        )

    def build_scene(self, frame: int) -> Scene:
        scene = self._build(frame)
        problem = scene_problem(scene)
        if problem is not None:
            # Built again, checked after every plugin, to name the one that left it (frames
            # are reproducible, so the second build takes the same draws).
            self._build(frame, check=True)
            raise PluginError(
                f"frame {frame}: the scene holds {problem}, which a plugin set "
                + rerender_hint(self.world, frame)
            )
        for entity in scene.entities:
            if entity.category is not None and entity.category not in self.categories:
                raise PluginError(
                    f"frame {frame}: entity {entity.instance_id} (from {entity.source!r}) has "
                    f"the category {entity.category!r}, which no spawner declares; declared: "
                    f"{', '.join(self.categories) or 'none'}"
                )
        camera = scene.camera
        if np.allclose(camera.position, camera.target):
            raise PluginError(
                f"frame {frame}: the camera's position and target coincide "
                f"({camera.position.tolist()}), so it has no viewing direction"
            )
        self._check_lens(camera, frame)
        return scene

    def _check_lens(self, camera: CameraState, frame: int) -> None:
        """A lens the engine cannot draw through is the world's mistake ([camera.lens]) or
        a randomizer's (its coefficients), named with its fix."""
        try:
            camera.lens_map()
        except ValueError as error:
            if camera.lens == self.camera().lens:
                raise WorldError(f"[camera.lens]: {error}") from None
            raise PluginError(
                f"frame {frame}: the camera's lens: {error} (the lens a randomizer set) "
                + rerender_hint(self.world, frame)
            ) from None

    def _build(self, frame: int, check: bool = False) -> Scene:
        """The spawners, then the randomizers, on a fresh scene; with `check`, the scene is
        checked after each one, and the first to leave a value the engine cannot draw is
        named. In a clip, the clip's scene (built once, from the clip's streams) at the
        frame, then the per-frame randomizers on it."""
        if self.world.clip is None:
            return self._fresh(frame, frame, None, check)
        clip = self.clip_frame(frame)
        base = self.clip_scene(frame, check)
        scene = frame_scene(base, clip.frame)
        self._frame_randomizers(scene, frame, clip, check)
        joined(scene, clip.frame)  # after the randomizers: their draws see the whole clip
        return scene

    def _frame_randomizers(
        self, scene: Scene, frame: int, clip: ClipFrame, check: bool, at: float | None = None
    ) -> None:
        """The randomizers that act on every frame of a clip, in the world's order: the
        per-frame ones with the frame's streams, the per-clip ones holding an animated value
        with the clip's; animated values read at fractional frame `at` (None: the frame)."""
        for varied, randomizer in self._randomizers:
            if varied.component.timing == "frame":
                self._randomize(varied, randomizer, scene, frame, frame, clip, check, at)
            elif varied.entry.key in self._every_frame:  # per clip, animated: the clip's draws
                self._randomize(varied, randomizer, scene, clip.index, frame, clip, check, at)

    def subframe_scene(self, frame: int, scene: Scene, time: float) -> Scene:
        """Frame `frame`'s scene at fractional frame `time` of its clip, inside the open
        shutter (capture.blur): `scene`, the frame's, with its motions read at `time`. Where
        the world animates a randomizer's value, the frame is rebuilt instead, from the
        clip's scene, its per-frame randomizers run again with the same streams and the
        animated values read at `time` (every other draw is the frame's), then posed at
        `time`: rebuilt, not run again on the frame's scene, where a randomizer that adds to
        what it finds (the film's exposure, a plugin's extra light) would add twice. Changes
        the sim_frame_start hook made to the frame's scene are then not in the sub-frame."""
        if not self._animated:
            return subframe_scene(scene, time)
        clip = self.clip_frame(frame)
        rebuilt = frame_scene(self.clip_scene(frame), clip.frame)
        self._frame_randomizers(rebuilt, frame, clip, False, time)
        joined(rebuilt, clip.frame)
        return subframe_scene(rebuilt, time)

    def clip_scene(self, frame: int, check: bool = False) -> Scene:
        """The scene of frame `frame`'s clip as built once for the clip, before any motion is
        read at a frame (read-only: frames are copies of it). Kept for the latest clip."""
        clip = self.clip_frame(frame)
        base = None if check else self._clip_scene.get(clip.index)
        if base is None:
            start = ClipFrame(clip.index, 0, clip.frames, clip.fps)
            base = self._fresh(clip.index, clip.first_index, start, check)
            self._clip_scene = {clip.index: base}
        return base

    def _clock(self, clip: ClipFrame | None, at: float | None = None) -> Clock | None:
        """The present time of animated values at `clip`'s frame, or at fractional frame
        `at` of the clip (None outside clips)."""
        if clip is None:
            return None
        if clip.index not in self._curves:
            self._curves = {clip.index: {}}
        return Clock(
            self.world.world.seed,
            clip.index,
            fraction(clip.frame if at is None else at, clip.frames),
            self._animated,
            self._curves[clip.index],
        )

    def clip_frame(self, frame: int) -> ClipFrame:
        """Where frame `frame` sits in its clip (worlds with [clip] only)."""
        assert self.world.clip is not None
        return ClipFrame.of(frame, self.world.clip.frames, self.world.clip.fps)

    def _fresh(self, draw: int, frame: int, clip: ClipFrame | None, check: bool) -> Scene:
        """The spawners and randomizers (in a clip, the per-clip ones) on a new scene, drawing
        from the streams of index `draw` (the frame, or the clip)."""
        seed = self.world.world.seed
        scene = Scene(self.camera(), film=self.film())
        for bound, spawner in self._spawners:
            rng = stream(seed, draw, "spawner:" + bound.entry.key)
            ctx = FrameContext(frame, seed, rng, scene, clip)
            self.host.trace(f"spawner {bound.entry.key!r}.spawn() at frame {frame}")
            with _blame(bound, "spawner", "spawn", frame, self.world), running(self._clock(clip)):
                for appears in self._arrivals(bound.entry.count, rng, clip):
                    for entity in _entities(spawner.spawn(ctx)):
                        self._label(bound, spawner, entity)
                        entity.appears = appears
                        scene.add(entity)
            if check:
                _check(scene, bound, "spawner", "spawn", frame, self.world)
        for varied, randomizer in self._randomizers:
            if clip is None or (
                varied.component.timing == "clip" and varied.entry.key not in self._every_frame
            ):
                self._randomize(varied, randomizer, scene, draw, frame, clip, check)
        return scene

    def _arrivals(self, count: Any, rng: np.random.Generator, clip: ClipFrame | None) -> list[int]:
        """For each spawn call of a spawner with `count`, the frame of the clip its entities
        join at: 0 for all `count.sample(rng)` of them, or, for a count animated over the
        clip, one call for the most it reaches, each joining at the first frame whose count
        exceeds its place. Counts only add objects: past its peak a count holds."""
        if clip is None or not isinstance(count, Keyframes):
            return [0] * int(count.sample(rng))
        clock = self._clock(clip)
        assert clock is not None
        curve = clock.curve(count)
        counts = np.maximum.accumulate(
            [int(curve(fraction(k, clip.frames))) for k in range(clip.frames)]
        )
        return [int(np.argmax(counts > place)) for place in range(int(counts[-1]))]

    def _randomize(
        self,
        varied: Bound[RandomizerEntry, Randomizer],
        randomizer: Randomizer,
        scene: Scene,
        draw: int,
        frame: int,
        clip: ClipFrame | None,
        check: bool,
        at: float | None = None,
    ) -> None:
        seed = self.world.world.seed
        rng = stream(seed, draw, "randomizer:" + varied.entry.key)
        self.host.trace(f"randomizer {varied.entry.key!r}.randomize() at frame {frame}")
        with (
            _blame(varied, "randomizer", "randomize", frame, self.world),
            running(self._clock(clip, at)),
        ):
            randomizer.randomize(
                FrameContext(frame, seed, rng, scene, clip), scene.select(varied.entry.targets)
            )
        if check:
            _check(scene, varied, "randomizer", "randomize", frame, self.world)

    def label(self, frame: FrameLabels) -> None:
        """Run the world's labelers on a labeled frame."""
        for bound, labeler in self._labelers:
            self.host.trace(f"labeler {bound.entry.key!r}.label() at frame {frame.index}")
            with _blame(bound, "labeler", "label", frame.index, self.world):
                labeler.label(frame)

    def _label(self, bound: Bound[SpawnerEntry, Spawner], spawner: Spawner, entity: Entity) -> None:
        entry = bound.entry
        entity.source = entry.key
        if entry.distractor:
            entity.category = None
            return
        entity.category = entry.category or entity.category or spawner.name
        if entity.category not in self.categories:
            raise PluginError(
                f"spawner {entry.key!r} gave an entity the category "
                f"{entity.category!r}, which its categories() does not declare"
            )


def _entities(result: Entity | Iterable[Entity] | None) -> list[Entity]:
    if result is None:
        return []
    items = [result] if isinstance(result, Entity) else list(result)
    for item in items:
        if not isinstance(item, Entity):
            raise TypeError(f"spawn() must return Entity objects, got {type(item).__name__}")
    return items


@contextmanager
def _blame(
    bound: Bound[Any, Any], kind: str, method: str, frame: int, world: World
) -> Iterator[None]:
    """Re-raise a plugin's exception naming the plugin, hook, frame and seed."""
    try:
        yield
    except (SimError, KeyboardInterrupt):
        raise
    except Exception as error:
        entry = bound.entry
        raise PluginError(
            f"{kind} {entry.key!r} (type {entry.type!r} from plugin {bound.plugin!r}) "
            f"raised {type(error).__name__}: {error} in {method}() at frame {frame} "
            + rerender_hint(world, frame)
        ) from error


def _check(
    scene: Scene, bound: Bound[Any, Any], kind: str, method: str, frame: int, world: World
) -> None:
    problem = scene_problem(scene)
    if problem is not None:
        entry = bound.entry
        raise PluginError(
            f"{kind} {entry.key!r} (type {entry.type!r} from plugin {bound.plugin!r}) left "
            f"{problem} in {method}() at frame {frame} " + rerender_hint(world, frame)
        )


def rerender_hint(world: World, frame: int) -> str:
    """How to reproduce one frame alone: its seed and the command."""
    return (
        f"(seed {world.world.seed}); re-render that frame alone with: "
        f"sim run {world.file or 'world.toml'} --start {frame} --frames 1 "
        f"--out /tmp/sim-frame-{frame}"
    )
