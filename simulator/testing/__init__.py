"""Testing sim plugins: component checks, a pytest fixture, and throwaway package installs.

    from simulator.testing import check_randomizer, check_spawner

    def test_my_spawner():
        check_spawner(MyPipes, {"stem_length": {"uniform": [0.1, 0.2]}})

    def test_my_randomizer():
        check_randomizer(MyTint)

`check_spawner` and `check_randomizer` build a small world around one component, render a
few frames at 96 x 72 and raise `AssertionError`, naming the component, when it breaks a
rule every plugin must follow (reproducible frames, declared categories and keypoints,
finite poses, labels inside the image). They return what they built for further asserts.

With `pytest_plugins = ["simulator.testing"]` in a test module (or a top-level conftest.py)
a test can ask for the `sim_world` fixture, which renders a world file with plugin modules
registered for that test only:

    def test_example_world(sim_world):
        dataset = sim_world("worlds/example.toml", my_plugin)
        assert dataset.objects

Only that fixture needs pytest, and imports it when pytest loads this module as a plugin.
PYTEST_DONT_REWRITE: this module raises its own AssertionErrors, and is often imported before
pytest loads it as a plugin.
"""

from __future__ import annotations

import copy
import importlib.metadata
import itertools
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, ValidationError

from simulator.capture.frame import Renderer
from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import PluginError, SimError, WorldError
from simulator.labels.records import FrameLabels
from simulator.plugin.components import Randomizer, Spawner
from simulator.plugin.hookspecs import hookimpl
from simulator.plugin.host import DEFAULT_PLUGINS, ENTRY_POINT_GROUP
from simulator.run.runner import RunOptions, run
from simulator.scene import transforms
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import Entity, Scene
from simulator.world.distributions import Constant, Distribution
from simulator.world.load import load_world, validation_error
from simulator.world.params import Params
from simulator.world.schema import World, WriterEntry

__all__ = [
    "ComponentReport",
    "Dataset",
    "can_build_offline",
    "check_randomizer",
    "check_spawner",
    "installed_package",
    "read_dataset",
    "render_world",
    "sim_world_renderer",
    "world_from",
]

RESOLUTION = (96, 72)
VARIATION_FRAMES = 16  # frames built (not rendered) to tell a random component from a constant


def _fixed(shape: str, x: float) -> dict[str, Any]:
    """A spawner table for one primitive of 0.6 m, standing still at (x, 0, 0.3)."""
    return {
        "type": "primitive",
        "name": shape,
        "shape": shape,
        "size": 0.6,
        "position": [x, 0, 0.3],
    }


DEFAULT_TARGETS = (_fixed("box", -1.2), _fixed("sphere", 0.0), _fixed("cone", 1.2))


# ------------------------------------------------------------------ plugins held in memory

_IN_MEMORY: dict[str, object] = {}
_tokens = itertools.count()

_FORWARDER = '''"""Written by simulator.testing: the hooks of a plugin object held in memory."""
from simulator.testing import _hooks_of

globals().update(_hooks_of({token!r}))
'''


def _hooks_of(token: str) -> dict[str, Any]:
    """The hook implementations (`@hookimpl` functions named sim_*) of an in-memory plugin."""
    if token not in _IN_MEMORY:
        raise RuntimeError(
            f"plugin {token!r} is held in memory by another process: plugins registered by "
            "simulator.testing only work where they were registered (render with workers = 1)"
        )
    plugin = _IN_MEMORY[token]
    return {
        name: getattr(plugin, name)
        for name in dir(plugin)
        if name.startswith("sim_") and hasattr(getattr(plugin, name), "sim_impl")
    }


@contextmanager
def _plugin_files(plugins: Mapping[str, object]) -> Iterator[list[Path]]:
    """Plugin files (for `[plugins] paths`) that forward to plugin objects, by plugin name.

    sim loads local plugins from files; these let a test register a module or a namespace
    it already holds, through the same path a world file's plugins take."""
    with tempfile.TemporaryDirectory(prefix="sim-testing-") as directory:
        paths, tokens = [], []
        for name, plugin in plugins.items():
            token = f"{name}-{next(_tokens)}"
            _IN_MEMORY[token] = plugin
            tokens.append(token)
            path = Path(directory) / f"{name}.py"
            path.write_text(_FORWARDER.format(token=token), encoding="utf-8")
            paths.append(path)
        try:
            yield paths
        finally:
            for token in tokens:
                _IN_MEMORY.pop(token, None)


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _plugin_name(plugin: object, taken: Sequence[str]) -> str:
    """A plugin (file) name for `plugin`: its module name with dots as underscores."""
    base = str(getattr(plugin, "__name__", "plugin")).replace(".", "_")
    name = base
    for n in itertools.count(2):
        if name not in taken:
            return name
        name = f"{base}_{n}"
    raise AssertionError("unreachable")


# ------------------------------------------------------------------------- component checks


@dataclass
class ComponentReport:
    """What a check built: the world, a scene and the rendered labels of every frame checked.

    `random` tells whether the component draws randomness (its parameters hold
    distributions, or its scene changes with its random stream)."""

    component: type[Spawner] | type[Randomizer]
    world: World
    scenes: list[Scene]
    frames: list[FrameLabels]
    categories: list[str]
    random: bool


class _Check:
    """One component in a small world: builds, compares and renders its frames."""

    def __init__(
        self,
        kind: str,
        component: type[Spawner] | type[Randomizer],
        data: dict[str, Any],
        frames: int,
    ) -> None:
        if frames < 1:
            raise ValueError(f"frames must be >= 1, got {frames}")
        if not (isinstance(component, type) and issubclass(component, (Spawner, Randomizer))):
            raise TypeError(f"expected a Spawner or Randomizer subclass, got {component!r}")
        self.kind, self.component, self.data, self.frames = kind, component, data, frames
        self.label = f"{kind} {component.__name__} ({component.name!r})"

    def fail(self, problem: str) -> AssertionError:
        return AssertionError(f"{self.label}: {problem}")

    @contextmanager
    def plugin(self) -> Iterator[None]:
        """Register the component (unless a bundled plugin already does) and leave installed
        plugins out, so the check sees the component, sim's own plugins and nothing else."""
        plugins: dict[str, object] = {}
        if self.component.__module__ not in DEFAULT_PLUGINS:
            component = self.component

            @hookimpl
            def sim_register_spawners(register: Callable[[type[Spawner]], None]) -> None:
                if issubclass(component, Spawner):
                    register(component)

            @hookimpl
            def sim_register_randomizers(register: Callable[[type[Randomizer]], None]) -> None:
                if issubclass(component, Randomizer):
                    register(component)

            plugins["under_test"] = SimpleNamespace(
                sim_register_spawners=sim_register_spawners,
                sim_register_randomizers=sim_register_randomizers,
            )
        with _plugin_files(plugins) as paths:
            self.data["plugins"] = {
                "paths": [str(p) for p in paths],
                "disable": sorted({ep.name for ep in _entry_points()} - set(plugins)),
            }
            yield

    def world(self, **renamed: str) -> World:
        """The check's world; `renamed` gives entries (by current name) another name, which
        gives them another random stream and leaves every other draw as it was."""
        data = copy.deepcopy(self.data)
        for section in ("spawners", "randomizers"):
            for entry in data.get(section, []):
                if entry.get("name") in renamed:
                    entry["name"] = renamed[entry["name"]]
        return world_from(data)

    def renderer(self) -> Renderer:
        try:
            return Renderer(self.world())
        except (WorldError, PluginError) as error:
            raise self.fail(f"the world around it does not load: {error}") from None

    def pipeline(self, **renamed: str) -> Pipeline:
        world = self.world(**renamed)
        return Pipeline(world, host_for(world))

    def build(self, pipeline: Pipeline, frame: int) -> Scene:
        """Build a frame, reporting plugin errors and use of global random state."""
        before = _global_random_state()
        try:
            scene = pipeline.build_scene(frame)
        except SimError as error:
            raise self.fail(f"building frame {frame} failed: {error}") from None
        changed = _global_random_state_changed(before)
        if changed:
            raise self.fail(
                f"draws from {changed} global random state while building frame {frame}; "
                "draw only from ctx.rng, so that every frame is reproducible"
            )
        return scene

    def check_repeatable(self, pipeline: Pipeline, records: list[dict[str, Any]]) -> None:
        """The same frame twice, and frames built in another order, give the same scenes."""
        for frame, record in enumerate(records):
            again = self.build(pipeline, frame).record()
            if again != record:
                raise self.fail(
                    f"building frame {frame} twice gave different scenes "
                    f"({_difference(record, again)}); it must not keep state between frames or "
                    "draw from unseeded generators: derive everything from ctx (ctx.rng, "
                    "ctx.frame)"
                )
        fresh = self.pipeline()
        for frame in reversed(range(len(records))):
            alone = self.build(fresh, frame).record()
            if alone != records[frame]:
                raise self.fail(
                    f"frame {frame} differs when the frames are built in another order "
                    f"({_difference(records[frame], alone)}); state leaks from one frame to the "
                    "next: derive everything from ctx (ctx.rng, ctx.frame)"
                )

    def check_variation(self, params: Params, entry: str) -> bool:
        """If the component draws randomness, its frames must differ. It draws randomness
        when its parameters hold distributions or its scenes change with its random stream
        (the entry renamed); a component that does neither may give the same every frame."""
        count = max(self.frames, VARIATION_FRAMES)
        pipeline, renamed = self.pipeline(), self.pipeline(**{entry: entry + "~"})
        scenes = [_without_sources(self.build(pipeline, f).record()) for f in range(count)]
        others = [_without_sources(self.build(renamed, f).record()) for f in range(count)]
        uses_stream = scenes != others
        random_fields = _random_fields(params)
        if random_fields and not uses_stream:
            raise self.fail(
                f"its parameters are random ({', '.join(random_fields)}) but its scenes do not "
                "change with its random stream: sample them with .sample(ctx.rng)"
            )
        if (random_fields or uses_stream) and all(s == scenes[0] for s in scenes[1:]):
            raise self.fail(
                f"it draws randomness but frames 0-{count - 1} are all the same; draw from "
                "ctx.rng, which differs from frame to frame, not from a generator of your own"
            )
        return bool(random_fields or uses_stream)

    def check_entities(self, scene: Scene, frame: int) -> None:
        """Entities are Entity objects with finite poses (undeclared categories never get
        here: building the scene already refuses them)."""
        for index, entity in enumerate(scene.entities):
            where = f"frame {frame}, entity {index}"
            if not isinstance(entity, Entity):
                raise self.fail(f"{where} is a {type(entity).__name__}, not a simulator.Entity")
            for name in ("position", "hpr", "scale"):
                value = np.asarray(getattr(entity, name), dtype=float)
                if value.shape != (3,) or not np.all(np.isfinite(value)):
                    raise self.fail(
                        f"{where} has {name} {value.tolist()}: expected 3 finite numbers"
                    )
            color = np.asarray(entity.color, dtype=float)
            if color.shape != (3,) or not np.all((color >= 0) & (color <= 1)):
                raise self.fail(f"{where} has color {color.tolist()}: expected 3 numbers in [0, 1]")
            if isinstance(entity.mesh, TriangleMesh):
                self.check_mesh(entity.mesh, where)

    def check_mesh(self, mesh: TriangleMesh, where: str) -> None:
        vertices, normals, triangles = mesh.vertices, mesh.normals, mesh.triangles
        problem = ""
        if vertices.ndim != 2 or vertices.shape[1:] != (3,) or normals.shape != vertices.shape:
            problem = f"vertices {vertices.shape} and normals {normals.shape} must both be (N, 3)"
        elif triangles.ndim != 2 or triangles.shape[1:] != (3,) or len(triangles) == 0:
            problem = f"triangles have shape {triangles.shape}; expected (M, 3), M >= 1"
        elif triangles.max() >= len(vertices):
            problem = f"a triangle uses vertex {triangles.max()} of {len(vertices)}"
        elif not (np.all(np.isfinite(vertices)) and np.all(np.isfinite(normals))):
            problem = "vertices or normals are not finite"
        if problem:
            raise self.fail(f"{where}: mesh {mesh.key}: {problem}")

    def check_labels(self, labels: FrameLabels, keypoints: Mapping[str, Any]) -> None:
        width, height = labels.width, labels.height
        for obj in labels.objects:
            x, y, w, h = obj.bbox
            if min(x, y) < 0 or min(w, h) < 1 or x + w > width or y + h > height:
                raise self.fail(
                    f"frame {labels.index}: object {obj.instance_id} has bbox {obj.bbox}, "
                    f"not inside the {width}x{height} image"
                )
            if not 1 <= obj.area <= w * h:
                raise self.fail(
                    f"frame {labels.index}: object {obj.instance_id} covers {obj.area} pixels "
                    f"of its {w}x{h} bbox"
                )
            schema = keypoints.get(obj.category)
            if schema is not None and [k.name for k in obj.keypoints or ()] != list(schema.names):
                raise self.fail(
                    f"frame {labels.index}: object {obj.instance_id} ({obj.category}) should "
                    f"be labeled with keypoints {list(schema.names)}"
                )


def _global_random_state() -> tuple[Any, dict[str, Any]]:
    return random.getstate(), np.random.get_state(legacy=False)


def _global_random_state_changed(before: tuple[Any, dict[str, Any]]) -> str:
    """Which global random state changed since `before`: "numpy's", "Python's" or ""."""
    python, numpy = _global_random_state()
    old = before[1]
    same_numpy = (
        np.array_equal(old["state"]["key"], numpy["state"]["key"])
        and old["state"]["pos"] == numpy["state"]["pos"]
        and old["has_gauss"] == numpy["has_gauss"]
    )
    if not same_numpy:
        return "numpy's (np.random)"
    if python != before[0]:
        return "Python's (random)"
    return ""


def _random_fields(params: Any, prefix: str = "") -> list[str]:
    """Names of the parameters holding a distribution that is not a constant."""
    if isinstance(params, Distribution):
        return [] if isinstance(params, Constant) else [prefix]
    if isinstance(params, BaseModel):
        items: Iterator[tuple[str, Any]] = (
            (f"{prefix}.{name}" if prefix else name, getattr(params, name))
            for name in type(params).model_fields
        )
    elif isinstance(params, (list, tuple)):
        items = ((f"{prefix}[{i}]", value) for i, value in enumerate(params))
    elif isinstance(params, dict):
        items = ((f"{prefix}[{key!r}]", value) for key, value in params.items())
    else:
        return []
    return [name for key, value in items for name in _random_fields(value, key)]


def _without_sources(record: dict[str, Any]) -> dict[str, Any]:
    """A scene record without the entities' `source` (an entry's name, not a draw)."""
    entities = [{k: v for k, v in e.items() if k != "source"} for e in record["entities"]]
    return {**record, "entities": entities}


def _difference(a: Any, b: Any, path: str = "scene") -> str:
    """Where two records first differ, e.g. "entities[0].position: [0, 1, 0] != [0, 2, 0]"."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in a or key not in b:
                return f"{path}.{key} is missing from one of them"
            found = _difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return ""
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path} has {len(a)} items, then {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _difference(x, y, f"{path}[{index}]")
            if found:
                return found
        return ""
    return "" if a == b else f"{path}: {a!r} != {b!r}"


def _frame_camera(world: World, renderer: Renderer, scenes: Sequence[Scene]) -> None:
    """Point the camera at everything the scenes hold, from the front, above and close
    enough that it fills the image (objects of any size get labels to check)."""
    corners = []
    for scene in scenes:
        for entity in scene.entities:
            vertices = renderer.engine.arrays(entity.mesh)[0]
            if len(vertices):
                low, high = vertices.min(axis=0), vertices.max(axis=0)
                box = np.array(list(itertools.product(*zip(low, high, strict=True))))
                corners.append(transforms.transform_points(entity.matrix(), box))
    if not corners:
        return
    points = np.concatenate(corners)
    low, high = points.min(axis=0), points.max(axis=0)
    centre, radius = (low + high) / 2, max(float(np.linalg.norm(high - low)) / 2, 1e-3)
    cam = world.camera
    vertical = transforms.vertical_fov(*cam.resolution, cam.fov)
    distance = 1.1 * radius / math.sin(math.radians(min(cam.fov, vertical)) / 2)
    direction = np.array([0.0, -2.0, 1.0]) / math.sqrt(5.0)
    cam.position = _triple(centre + distance * direction)
    cam.target = _triple(centre)
    cam.near = min(cam.near, (distance - radius) / 2)
    cam.far = max(cam.far, 2 * (distance + radius))


def _triple(vector: np.ndarray) -> tuple[float, float, float]:
    return float(vector[0]), float(vector[1]), float(vector[2])


def _base_world(name: str, frames: int, seed: int, resolution: tuple[int, int]) -> dict[str, Any]:
    return {
        "world": {"name": f"check-{name}", "seed": seed, "frames": frames},
        "camera": {"resolution": list(resolution)},
        "output": {"writers": []},
    }


def check_spawner(
    spawner_cls: type[Spawner],
    params: Mapping[str, Any] | None = None,
    frames: int = 3,
    seed: int = 0,
    *,
    count: int = 2,
    camera: Mapping[str, Any] | None = None,
    resolution: tuple[int, int] = RESOLUTION,
) -> ComponentReport:
    """Check a spawner in a world of its own, with `params` as a world file would give them.

    Raises AssertionError naming the spawner when its Params reject `params`; building a
    frame twice, or frames in another order, gives different scenes; it draws from global
    random state; its frames never differ although it draws randomness; an entity is not an
    Entity, has a non-finite pose or a category `categories()` does not declare; an entity
    lacks a keypoint `keypoints()` declares for its category; or a rendered frame has no
    visible object or a label outside the image. The camera is pointed at what the spawner
    places unless `camera` (keys of a world's [camera] table) says otherwise; `count` is the
    spawner entry's count.
    """
    world = _base_world(spawner_cls.name, frames, seed, resolution)
    check = _Check("spawner", spawner_cls, world, frames)
    entry = {"type": spawner_cls.name, "name": spawner_cls.name, "count": count}
    check.data["spawners"] = [{**entry, **(params or {})}]
    check.data["camera"].update(camera or {})
    with check.plugin():
        renderer = check.renderer()
        try:
            bound = renderer.pipeline.spawners[0]
            spawner = bound.component(bound.params)
            _check_declarations(check, spawner)
            if camera is None:
                scenes = [check.build(renderer.pipeline, f) for f in range(frames)]
                for frame, scene in enumerate(scenes):  # finite poses, before framing them
                    check.check_entities(scene, frame)
                try:
                    _frame_camera(renderer.world, renderer, scenes)
                except SimError as error:
                    raise check.fail(f"its meshes cannot be loaded: {error}") from None
                check.data["camera"] = renderer.world.camera.model_dump(mode="json")
            return _run_checks(check, renderer, bound.params, bound.entry.key, spawner)
        finally:
            renderer.close()


def _check_declarations(check: _Check, spawner: Spawner) -> None:
    categories = spawner.categories()
    if not categories or not all(isinstance(c, str) and c for c in categories):
        raise check.fail(f"categories() returned {categories!r}; expected a list of names")
    for category, schema in spawner.keypoints().items():
        if category not in categories:
            raise check.fail(
                f"keypoints() has a schema for {category!r}, which categories() does not declare"
            )
        if not schema.names:
            raise check.fail(f"keypoints() declares no names for {category!r}")


def _check_keypoints(check: _Check, scene: Scene, frame: int, spawner: Spawner) -> None:
    schemas = spawner.keypoints()
    for index, entity in enumerate(scene.entities):
        schema = schemas.get(entity.category or "")
        if schema is None:
            continue
        declared = entity.keypoints
        if not declared and isinstance(entity.mesh, TriangleMesh):
            declared = entity.mesh.keypoints
        missing = [name for name in schema.names if name not in declared]
        if missing:
            raise check.fail(
                f"frame {frame}, entity {index} ({entity.category}) lacks the keypoint(s) "
                f"{', '.join(missing)} that keypoints() declares; set Entity.keypoints (or "
                "TriangleMesh.keypoints) to points in the mesh's own frame"
            )
        for name in schema.names:
            point = np.asarray(declared[name], dtype=float)
            if point.shape != (3,) or not np.all(np.isfinite(point)):
                raise check.fail(
                    f"frame {frame}, entity {index}: keypoint {name!r} is {point.tolist()}; "
                    "expected 3 finite numbers"
                )


def _run_checks(
    check: _Check,
    renderer: Renderer,
    params: Params,
    entry: str,
    spawner: Spawner | None,
) -> ComponentReport:
    """The checks both kinds share, on a renderer whose world holds the component."""
    pipeline = renderer.pipeline
    scenes = [check.build(pipeline, frame) for frame in range(check.frames)]
    for frame, scene in enumerate(scenes):
        check.check_entities(scene, frame)
        if spawner is not None:
            _check_keypoints(check, scene, frame, spawner)
    records = [scene.record() for scene in scenes]
    check.check_repeatable(pipeline, records)
    is_random = check.check_variation(params, entry)
    labels = []
    for frame in range(check.frames):
        try:
            labels.append(renderer.frame(frame))
        except SimError as error:
            raise check.fail(f"rendering frame {frame} failed: {error}") from None
        check.check_labels(labels[-1], pipeline.keypoints)
    if spawner is not None:
        _check_visible(check, scenes, labels, pipeline.keypoints)
    return ComponentReport(
        check.component, renderer.world, scenes, labels, list(pipeline.categories), is_random
    )


def _check_visible(
    check: _Check,
    scenes: Sequence[Scene],
    labels: Sequence[FrameLabels],
    keypoints: Mapping[str, Any],
) -> None:
    """What a spawner places shows up in the labels, keypoints included."""
    if not any(e.category for scene in scenes for e in scene.entities):
        return
    objects = [obj for frame in labels for obj in frame.objects]
    if not objects:
        cam = labels[0].scene.camera
        raise check.fail(
            f"no entity is visible in frames 0-{len(labels) - 1} (camera at "
            f"{cam.position.tolist()} looking at {cam.target.tolist()}); are its triangles "
            "wound counter-clockwise seen from outside? (back faces are not drawn)"
        )
    for category in {obj.category for obj in objects} & set(keypoints):
        points = [k for obj in objects if obj.category == category for k in obj.keypoints or ()]
        if not any(k.visibility > 0 for k in points):
            raise check.fail(
                f"no keypoint of {category!r} lands in the image in frames 0-{len(labels) - 1}; "
                "keypoints are points in the mesh's own frame, not in the world"
            )


def check_randomizer(
    randomizer_cls: type[Randomizer],
    params: Mapping[str, Any] | None = None,
    frames: int = 3,
    seed: int = 0,
    *,
    spawners: Sequence[Mapping[str, Any]] = DEFAULT_TARGETS,
    targets: Sequence[str] | None = None,
    camera: Mapping[str, Any] | None = None,
    resolution: tuple[int, int] = RESOLUTION,
) -> ComponentReport:
    """Check a randomizer acting on the entities of `spawners` (world-file spawner tables;
    by default a box, a sphere and a cone of sim's `primitive` spawner, fixed in place).

    Raises AssertionError naming the randomizer when its Params reject `params`; building a
    frame twice, or frames in another order, gives different scenes (state kept between
    frames); it draws from global random state; its frames never differ although it draws
    randomness; it leaves an entity with a non-finite pose, a color outside [0, 1] or an
    undeclared category; or a rendered frame has a label outside the image. `targets` is
    the randomizer entry's `targets`; `camera` holds keys of a world's [camera] table.
    """
    world = _base_world(randomizer_cls.name, frames, seed, resolution)
    check = _Check("randomizer", randomizer_cls, world, frames)
    entry: dict[str, Any] = {"type": randomizer_cls.name, "name": randomizer_cls.name}
    if targets is not None:
        entry["targets"] = list(targets)
    check.data["spawners"] = [dict(s) for s in spawners]
    check.data["randomizers"] = [{**entry, **(params or {})}]
    check.data["camera"].update(camera or {})
    with check.plugin():
        renderer = check.renderer()
        try:
            bound = renderer.pipeline.randomizers[0]
            return _run_checks(check, renderer, bound.params, bound.entry.key, None)
        finally:
            renderer.close()


# ----------------------------------------------------------------------- rendering a world


@dataclass
class Dataset:
    """A rendered dataset: its folder, manifest, native records and COCO file (if written)."""

    root: Path
    manifest: dict[str, Any]
    records: list[dict[str, Any]]
    coco: dict[str, Any] | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def objects(self) -> list[dict[str, Any]]:
        """Every labeled object of every frame, in frame order."""
        return [obj for record in self.records for obj in record["objects"]]


def render_world(
    world: Path | str | Mapping[str, Any],
    out: Path,
    *plugins: object,
    frames: int = 2,
    resolution: tuple[int, int] | None = RESOLUTION,
    seed: int | None = None,
) -> Dataset:
    """Render `frames` frames of a world (a world file, or the tables of one as a dict) into
    a new dataset folder `out`, with `plugins` (modules, or objects with @hookimpl
    functions) registered for this run only. An installed plugin that is the same module
    as one of `plugins` is left out, so a package can be tested installed or not.

    `resolution` replaces the world's (None keeps it). The `native` writer is added if the
    world lacks it, for the records."""
    loaded = load_world(world) if isinstance(world, (str, Path)) else world_from(world)
    if resolution is not None:
        loaded.camera.resolution = resolution
    if seed is not None:
        loaded.world.seed = seed
    if not any(w.type == "native" for w in loaded.output.writers):
        loaded.output.writers.append(WriterEntry(type="native"))
    names: dict[str, object] = {}
    for plugin in plugins:
        names[_plugin_name(plugin, [*names, *loaded.plugins.disable])] = plugin
    modules = {getattr(p, "__name__", None) for p in plugins}
    loaded.plugins.disable += [ep.name for ep in _entry_points() if ep.module in modules]
    with _plugin_files(names) as paths:
        loaded.plugins.paths += [str(p) for p in paths]
        run(loaded, RunOptions(out, frames=frames))
    return read_dataset(out)


def world_from(tables: Mapping[str, Any]) -> World:
    """A world from the tables of a world file as a dict (relative paths in it are taken
    from the current directory); WorldError, as for a file, if it is not valid."""
    try:
        return World.model_validate(tables)
    except ValidationError as error:
        raise validation_error(error, World, "", None) from None


def read_dataset(root: Path) -> Dataset:
    """A dataset folder written by `sim run`, read back."""
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    native = root / "frames.jsonl"
    records = [json.loads(line) for line in native.read_text(encoding="utf-8").splitlines()]
    coco_file = root / "annotations" / "instances.json"
    coco = json.loads(coco_file.read_text(encoding="utf-8")) if coco_file.is_file() else None
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    return Dataset(root, manifest, records, coco, files)


class WorldRenderer(Protocol):
    """What the `sim_world` fixture gives a test."""

    def __call__(
        self,
        world: Path | str | Mapping[str, Any],
        *plugins: object,
        frames: int = 2,
        resolution: tuple[int, int] | None = RESOLUTION,
        seed: int | None = None,
    ) -> Dataset: ...


def sim_world_renderer(rootpath: Path, tmp_path: Path) -> WorldRenderer:
    """What the `sim_world` fixture gives a test: `render(world, *plugins, frames=2)`
    renders into a new folder under `tmp_path`; a relative world path is taken from
    `rootpath` (the project's root), else from the current directory."""
    runs = itertools.count()

    def render(
        world: Path | str | Mapping[str, Any],
        *plugins: object,
        frames: int = 2,
        resolution: tuple[int, int] | None = RESOLUTION,
        seed: int | None = None,
    ) -> Dataset:
        if isinstance(world, (str, Path)) and not Path(world).is_absolute():
            rooted = rootpath / world
            world = rooted if rooted.exists() else Path(world)
        out = tmp_path / f"sim-world-{next(runs)}"
        return render_world(world, out, *plugins, frames=frames, resolution=resolution, seed=seed)

    return render


FIXTURES = "simulator.testing.fixtures"


def pytest_configure(config: Any) -> None:
    """pytest hook, run when a test suite names this module in `pytest_plugins`: adds the
    `sim_world` fixture. (pytest is imported here, so that importing simulator.testing
    never needs it.)"""
    import pytest

    class Fixtures:
        @pytest.fixture
        def sim_world(self, request: Any, tmp_path: Path) -> WorldRenderer:
            """Render a world with plugin modules registered for this call only:
            `sim_world("worlds/example.toml", my_plugin, frames=2)` returns a `Dataset`.
            Relative world paths are taken from the project's root; frames are 96 x 72
            unless `resolution` says otherwise."""
            return sim_world_renderer(Path(request.config.rootpath), tmp_path)

    if not config.pluginmanager.has_plugin(FIXTURES):
        config.pluginmanager.register(Fixtures(), FIXTURES)


# ------------------------------------------------------------------ installing a package


def can_build_offline() -> bool:
    """Whether pip can build a setuptools package here without downloading anything:
    setuptools >= 70.1 has the `bdist_wheel` command, older ones need the `wheel` package."""
    commands = importlib.metadata.entry_points(group="distutils.commands", name="bdist_wheel")
    return bool(list(commands))


@contextmanager
def installed_package(package: Path, directory: Path | None = None) -> Iterator[Path]:
    """Install a plugin package with pip, as a user would, for the duration of a `with`.

    The package is copied (pip builds in the source folder) and installed without its
    dependencies into a private folder put first on sys.path and on PYTHONPATH, so that
    sim finds it through its entry points here and in subprocesses; leaving the block
    removes it all, whatever happened, and leaves the Python environment untouched. The
    build runs without build isolation when setuptools can build wheels offline (see
    `can_build_offline`), else pip fetches setuptools for it. Yields the install folder."""
    with tempfile.TemporaryDirectory(prefix="sim-install-", dir=directory) as work:
        source, target = Path(work) / "source", Path(work) / "site"
        shutil.copytree(package, source, ignore=shutil.ignore_patterns(*_BUILD_LITTER))
        command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        command += ["--disable-pip-version-check", "--root-user-action=ignore"]
        offline = can_build_offline()
        if offline:
            command.append("--no-build-isolation")
        result = subprocess.run(
            [*command, "--target", str(target), str(source)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            hint = "" if offline else _OFFLINE_HINT
            raise AssertionError(f"pip could not install {package}{hint}:\n{result.stderr}")
        before = set(sys.modules)
        old_path = os.environ.get("PYTHONPATH")
        sys.path.insert(0, str(target))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), old_path]))
        try:
            yield target
        finally:
            sys.path.remove(str(target))
            if old_path is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = old_path
            for name in set(sys.modules) - before:
                if str(getattr(sys.modules[name], "__file__", "") or "").startswith(work):
                    del sys.modules[name]


_OFFLINE_HINT = (
    " (it needed the package index for setuptools: install setuptools>=70.1, or the wheel "
    "package, to build without one)"
)
_BUILD_LITTER = ("build", "dist", "*.egg-info", "__pycache__", ".pytest_cache")
