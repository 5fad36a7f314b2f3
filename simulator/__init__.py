"""sim: a game-engine style scene simulator that renders labeled synthetic datasets.

This module is the public API for plugin authors, and nothing else: the components a plugin
contributes and their parameters, the hook marker, the scene and label types they handle,
the errors they raise, the helper modules they may use, and the atomic writes (`atomic_write`,
`atomic_open`, `atomic_link`) a writer's files go through. Importing it loads no renderer
(no Panda3D) and no runner; `simulator.assets` (model files, through the engine) and
`simulator.testing` (which renders) load on first use, and so does `simulator.models` (model
files read through trimesh, renderer-free but slow to import).
"""

from __future__ import annotations

import importlib
import os

# One BLAS thread: frames render in parallel processes, one per core, and numpy's OpenBLAS
# threads then only compete with them; after every threaded call they also spin, waiting for
# more work (measured on the pipes world, 2 cores: 538 -> 427 ms of CPU time a frame). Set
# before numpy loads OpenBLAS; a value the user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
from typing import TYPE_CHECKING, Any

from simulator import seeding
from simulator.dataset import cache as disk_cache
from simulator.dataset.atomic import atomic_link, atomic_open, atomic_write
from simulator.dataset.encode import color_bytes as encode_image
from simulator.errors import OutputError, PluginError, SimError, WorldError
from simulator.labels import filtering, polygons
from simulator.labels.filtering import Filtered, VisibilityFilter
from simulator.labels.polygons import mask_polygons, merge_polygons
from simulator.labels.records import FrameLabels, Keypoint, KeypointSchema, ObjectLabel
from simulator.labels.rle import encode_rle
from simulator.plugin.components import (
    DatasetInfo,
    FrameContext,
    Labeler,
    Randomizer,
    Spawner,
    Writer,
)
from simulator.plugin.hookspecs import hookimpl
from simulator.scene import effects, material_library, meshes, sky, studio, textures, transforms
from simulator.scene.environment import Environment
from simulator.scene.lens import Lens
from simulator.scene.meshes import TriangleMesh
from simulator.scene.motion import CameraPath, ClipFrame, Motion
from simulator.scene.scene import CameraState, Entity, Film, Light, ModelAsset, Scene
from simulator.world import distributions
from simulator.world.distributions import Color, Count, Flag, Name, OneOf, Scalar, Vec3
from simulator.world.params import DatasetPath, Params, PlainName, world_path

if TYPE_CHECKING:
    from simulator import testing
    from simulator.engine import assets
    from simulator.scene import hdr, models

__version__ = "0.1.0"

# Public modules that load heavy dependencies, imported when first asked for (PEP 562).
_LAZY = {
    "assets": "simulator.engine.assets",
    "hdr": "simulator.scene.hdr",  # OpenCV and OpenEXR
    "models": "simulator.scene.models",
    "testing": "simulator.testing",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module = importlib.import_module(_LAZY[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")


__all__ = [
    "CameraPath",
    "CameraState",
    "ClipFrame",
    "Color",
    "Count",
    "DatasetInfo",
    "DatasetPath",
    "Entity",
    "Environment",
    "Film",
    "Filtered",
    "Flag",
    "FrameContext",
    "FrameLabels",
    "Keypoint",
    "KeypointSchema",
    "Labeler",
    "Lens",
    "Light",
    "ModelAsset",
    "Motion",
    "Name",
    "ObjectLabel",
    "OneOf",
    "OutputError",
    "Params",
    "PlainName",
    "PluginError",
    "Randomizer",
    "Scalar",
    "Scene",
    "SimError",
    "Spawner",
    "TriangleMesh",
    "Vec3",
    "VisibilityFilter",
    "WorldError",
    "Writer",
    "__version__",
    "assets",
    "atomic_link",
    "atomic_open",
    "atomic_write",
    "disk_cache",
    "distributions",
    "effects",
    "encode_image",
    "encode_rle",
    "filtering",
    "hdr",
    "hookimpl",
    "mask_polygons",
    "material_library",
    "merge_polygons",
    "meshes",
    "models",
    "polygons",
    "seeding",
    "sky",
    "studio",
    "testing",
    "textures",
    "transforms",
    "world_path",
]
