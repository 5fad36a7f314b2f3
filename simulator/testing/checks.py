"""The checks every spawner and randomizer must pass, one rule each.

Each takes the `Subject` (the component in its small world) and what it built, and raises
AssertionError naming the component when the rule is broken; `check_spawner` and
`check_randomizer` (simulator.testing.checker) compose them, as Gymnasium's `check_env` does
its checks. A test of one rule can call one directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from simulator.capture.pipeline import Pipeline
from simulator.labels.records import FrameLabels
from simulator.plugin.components import Spawner
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import Entity, Scene
from simulator.testing.compare import difference, random_fields, without_sources
from simulator.testing.subject import Subject
from simulator.world.params import Params

VARIATION_FRAMES = 16  # frames built (not rendered) to tell a random component from a constant


def check_repeatable(subject: Subject, pipeline: Pipeline, records: list[dict[str, Any]]) -> None:
    """The same frame twice, and frames built in another order, give the same scenes."""
    for frame, record in enumerate(records):
        again = subject.build(pipeline, frame).record()
        if again != record:
            raise subject.fail(
                f"building frame {frame} twice gave different scenes "
                f"({difference(record, again)}); it must not keep state between frames or "
                "draw from unseeded generators: derive everything from ctx (ctx.rng, "
                "ctx.frame)"
            )
    fresh = subject.pipeline()
    for frame in reversed(range(len(records))):
        alone = subject.build(fresh, frame).record()
        if alone != records[frame]:
            raise subject.fail(
                f"frame {frame} differs when the frames are built in another order "
                f"({difference(records[frame], alone)}); state leaks from one frame to the "
                "next: derive everything from ctx (ctx.rng, ctx.frame)"
            )


def check_variation(subject: Subject, params: Params, entry: str) -> bool:
    """If the component draws randomness, its frames must differ. It draws randomness
    when its parameters hold distributions or its scenes change with its random stream
    (the entry renamed); a component that does neither may give the same every frame."""
    count = max(subject.frames, VARIATION_FRAMES)
    pipeline, renamed = subject.pipeline(), subject.pipeline(**{entry: entry + "~"})
    scenes = [without_sources(subject.build(pipeline, f).record()) for f in range(count)]
    others = [without_sources(subject.build(renamed, f).record()) for f in range(count)]
    uses_stream = scenes != others
    drawn = random_fields(params)
    if drawn and not uses_stream:
        raise subject.fail(
            f"its parameters are random ({', '.join(drawn)}) but its scenes do not "
            "change with its random stream: sample them with .sample(ctx.rng)"
        )
    if (drawn or uses_stream) and all(s == scenes[0] for s in scenes[1:]):
        raise subject.fail(
            f"it draws randomness but frames 0-{count - 1} are all the same; draw from "
            "ctx.rng, which differs from frame to frame, not from a generator of your own"
        )
    return bool(drawn or uses_stream)


def check_entities(subject: Subject, scene: Scene, frame: int) -> None:
    """Entities are Entity objects with finite poses (undeclared categories never get
    here: building the scene already refuses them)."""
    for index, entity in enumerate(scene.entities):
        where = f"frame {frame}, entity {index}"
        if not isinstance(entity, Entity):
            raise subject.fail(f"{where} is a {type(entity).__name__}, not a simulator.Entity")
        for name in ("position", "hpr", "scale"):
            value = np.asarray(getattr(entity, name), dtype=float)
            if value.shape != (3,) or not np.all(np.isfinite(value)):
                raise subject.fail(
                    f"{where} has {name} {value.tolist()}: expected 3 finite numbers"
                )
        color = np.asarray(entity.color, dtype=float)
        if color.shape != (3,) or not np.all((color >= 0) & (color <= 1)):
            raise subject.fail(f"{where} has color {color.tolist()}: expected 3 numbers in [0, 1]")
        if isinstance(entity.mesh, TriangleMesh):
            check_mesh(subject, entity.mesh, where)


def check_mesh(subject: Subject, mesh: TriangleMesh, where: str) -> None:
    """A mesh has (N, 3) vertices and normals, finite, and triangles that index them."""
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
        raise subject.fail(f"{where}: mesh {mesh.key}: {problem}")


def check_labels(subject: Subject, labels: FrameLabels, keypoints: Mapping[str, Any]) -> None:
    """Every object's box lies inside the image and holds its pixels; objects of a category
    with a keypoint schema are labeled with its keypoints."""
    width, height = labels.width, labels.height
    for obj in labels.objects:
        x, y, w, h = obj.bbox
        if min(x, y) < 0 or min(w, h) < 1 or x + w > width or y + h > height:
            raise subject.fail(
                f"frame {labels.index}: object {obj.instance_id} has bbox {obj.bbox}, "
                f"not inside the {width}x{height} image"
            )
        if not 1 <= obj.area <= w * h:
            raise subject.fail(
                f"frame {labels.index}: object {obj.instance_id} covers {obj.area} pixels "
                f"of its {w}x{h} bbox"
            )
        schema = keypoints.get(obj.category)
        if schema is not None and [k.name for k in obj.keypoints or ()] != list(schema.names):
            raise subject.fail(
                f"frame {labels.index}: object {obj.instance_id} ({obj.category}) should "
                f"be labeled with keypoints {list(schema.names)}"
            )


def check_declarations(subject: Subject, spawner: Spawner) -> None:
    """A spawner declares named categories, and keypoint schemas only for them."""
    categories = spawner.categories()
    if not categories or not all(isinstance(c, str) and c for c in categories):
        raise subject.fail(f"categories() returned {categories!r}; expected a list of names")
    for category, schema in spawner.keypoints().items():
        if category not in categories:
            raise subject.fail(
                f"keypoints() has a schema for {category!r}, which categories() does not declare"
            )
        if not schema.names:
            raise subject.fail(f"keypoints() declares no names for {category!r}")


def check_keypoints(subject: Subject, scene: Scene, frame: int, spawner: Spawner) -> None:
    """Every entity of a category with a keypoint schema has its keypoints, finite."""
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
            raise subject.fail(
                f"frame {frame}, entity {index} ({entity.category}) lacks the keypoint(s) "
                f"{', '.join(missing)} that keypoints() declares; set Entity.keypoints (or "
                "TriangleMesh.keypoints) to points in the mesh's own frame"
            )
        for name in schema.names:
            point = np.asarray(declared[name], dtype=float)
            if point.shape != (3,) or not np.all(np.isfinite(point)):
                raise subject.fail(
                    f"frame {frame}, entity {index}: keypoint {name!r} is {point.tolist()}; "
                    "expected 3 finite numbers"
                )


def check_visible(
    subject: Subject,
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
        raise subject.fail(
            f"no entity is visible in frames 0-{len(labels) - 1} (camera at "
            f"{cam.position.tolist()} looking at {cam.target.tolist()}); are its triangles "
            "wound counter-clockwise seen from outside? (back faces are not drawn)"
        )
    for category in {obj.category for obj in objects} & set(keypoints):
        points = [k for obj in objects if obj.category == category for k in obj.keypoints or ()]
        if not any(k.visibility > 0 for k in points):
            raise subject.fail(
                f"no keypoint of {category!r} lands in the image in frames 0-{len(labels) - 1}; "
                "keypoints are points in the mesh's own frame, not in the world"
            )
