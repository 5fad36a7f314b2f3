"""`check_spawner` and `check_randomizer`: a component in a small world of its own, put
through every check of simulator.testing.checks, frame by frame."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.capture.frame import Renderer
from simulator.errors import SimError
from simulator.labels.records import FrameLabels
from simulator.plugin.components import Randomizer, Spawner
from simulator.scene import transforms
from simulator.scene.scene import Scene
from simulator.testing.checks import (
    check_declarations,
    check_entities,
    check_keypoints,
    check_labels,
    check_repeatable,
    check_variation,
    check_visible,
)
from simulator.testing.subject import Subject
from simulator.testing.worlds import RESOLUTION
from simulator.world.params import Params
from simulator.world.schema import World


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
    subject = Subject("spawner", spawner_cls, world, frames)
    entry = {"type": spawner_cls.name, "name": spawner_cls.name, "count": count}
    subject.data["spawners"] = [{**entry, **(params or {})}]
    subject.data["camera"].update(camera or {})
    renderer = subject.renderer()
    try:
        bound = renderer.pipeline.spawners[0]
        spawner = bound.component(bound.params)
        check_declarations(subject, spawner)
        if camera is None:
            scenes = [subject.build(renderer.pipeline, f) for f in range(frames)]
            for frame, scene in enumerate(scenes):  # finite poses, before framing them
                check_entities(subject, scene, frame)
            try:
                _frame_camera(renderer.world, renderer, scenes)
            except SimError as error:
                raise subject.fail(f"its meshes cannot be loaded: {error}") from None
            subject.data["camera"] = renderer.world.camera.model_dump(mode="json")
        return _run_checks(subject, renderer, bound.params, bound.entry.key, spawner)
    finally:
        renderer.close()


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
    clip: Mapping[str, Any] | None = None,
) -> ComponentReport:
    """Check a randomizer acting on the entities of `spawners` (world-file spawner tables;
    by default a box, a sphere and a cone of sim's `primitive` spawner, fixed in place).

    Raises AssertionError naming the randomizer when its Params reject `params`; building a
    frame twice, or frames in another order, gives different scenes (state kept between
    frames); it draws from global random state; its frames never differ although it draws
    randomness; it leaves an entity with a non-finite pose, a color outside [0, 1] or an
    undeclared category; or a rendered frame has a label outside the image. `targets` is
    the randomizer entry's `targets`; `camera` holds keys of a world's [camera] table, `clip`
    those of its [clip] table, for randomizers of clips (docs/time.md).
    """
    world = _base_world(randomizer_cls.name, frames, seed, resolution)
    if clip is not None:
        world["clip"] = dict(clip)
    subject = Subject("randomizer", randomizer_cls, world, frames)
    entry: dict[str, Any] = {"type": randomizer_cls.name, "name": randomizer_cls.name}
    if targets is not None:
        entry["targets"] = list(targets)
    subject.data["spawners"] = [dict(s) for s in spawners]
    subject.data["randomizers"] = [{**entry, **(params or {})}]
    subject.data["camera"].update(camera or {})
    renderer = subject.renderer()
    try:
        bound = renderer.pipeline.randomizers[0]
        return _run_checks(subject, renderer, bound.params, bound.entry.key, None)
    finally:
        renderer.close()


def _run_checks(
    subject: Subject,
    renderer: Renderer,
    params: Params,
    entry: str,
    spawner: Spawner | None,
) -> ComponentReport:
    """The checks both kinds share, on a renderer whose world holds the component."""
    pipeline = renderer.pipeline
    scenes = [subject.build(pipeline, frame) for frame in range(subject.frames)]
    for frame, scene in enumerate(scenes):
        check_entities(subject, scene, frame)
        if spawner is not None:
            check_keypoints(subject, scene, frame, spawner)
    records = [scene.record() for scene in scenes]
    check_repeatable(subject, pipeline, records)
    is_random = check_variation(subject, params, entry)
    labels = []
    for frame in range(subject.frames):
        try:
            labels.append(renderer.frame(frame))
        except SimError as error:
            raise subject.fail(f"rendering frame {frame} failed: {error}") from None
        check_labels(subject, labels[-1], pipeline.keypoints)
    if spawner is not None:
        check_visible(subject, scenes, labels, pipeline.keypoints)
    return ComponentReport(
        subject.component, renderer.world, scenes, labels, list(pipeline.categories), is_random
    )


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
