"""sim: a game-engine style scene simulator that renders labeled synthetic datasets.

The public API for plugin authors is what this module exports; everything else is private.
"""

from simulator import (
    assets,
    distributions,
    effects,
    filtering,
    meshes,
    polygons,
    seeding,
    testing,
    textures,
    transforms,
)
from simulator.components import (
    DatasetInfo,
    FrameContext,
    KeypointSchema,
    Labeler,
    Params,
    Randomizer,
    Spawner,
    Writer,
    world_path,
)
from simulator.distributions import Color, Count, OneOf, Scalar, Vec3
from simulator.errors import OutputError, PluginError, SimError, WorldError
from simulator.hookspecs import hookimpl
from simulator.labels import FrameLabels, Keypoint, ObjectLabel, encode_rle
from simulator.meshes import TriangleMesh
from simulator.scene import CameraState, Entity, Light, ModelAsset, Scene

__version__ = "0.1.0"

__all__ = [
    "CameraState",
    "Color",
    "Count",
    "DatasetInfo",
    "Entity",
    "FrameContext",
    "FrameLabels",
    "Keypoint",
    "KeypointSchema",
    "Labeler",
    "Light",
    "ModelAsset",
    "ObjectLabel",
    "OneOf",
    "OutputError",
    "Params",
    "PluginError",
    "Randomizer",
    "Scalar",
    "Scene",
    "SimError",
    "Spawner",
    "TriangleMesh",
    "Vec3",
    "WorldError",
    "Writer",
    "__version__",
    "assets",
    "distributions",
    "effects",
    "encode_rle",
    "filtering",
    "hookimpl",
    "meshes",
    "polygons",
    "seeding",
    "testing",
    "textures",
    "transforms",
    "world_path",
]
