"""sim's camera and lights as glTF nodes, in sim's Z-up world (the document's root node
turns that world to glTF's Y up; `gltf`).

Camera: glTF's perspective camera looks down its -Z with +Y up; sim's (OpenCV's) down +Z
with +Y down, so the node's matrix is cam_to_world times a half turn about x. Its yfov is
the frame's vertical field of view, aspectRatio width / height, znear and zfar the clip
planes. sim's principal point is the image centre, so nothing is lost; the camera's
`extras` keep the image size and K (glTF has no resolution: set Blender's to width x
height for the same view).

Lights (KHR_lights_punctual): sim's light units are radiance (engine.shaders: a white
Lambertian surface facing a light of intensity I has radiance I, so its irradiance is pi I
W/m^2 counting sim's units as watts; a point light's radiant intensity is pi I W/sr).
glTF's are photometric (a directional light in lux, point and spot lights in candela), so
at 683 lm/W a light of intensity I is written as 683 pi I for every kind. Blender's importer
(its default lighting mode, "Standard") divides by 683 again, which gives a SUN of strength
pi I and a POINT or SPOT of power 4 pi^2 I: the strengths sim's Cycles backend renders
(cycles.lights). A spot's cone: outerConeAngle is its half-angle, innerConeAngle where the
engine's soft edge ends (full inside cos = cos(outer) + 0.25 (1 - cos(outer))). glTF
allows no cone wider than 90 degrees: a wider one is written at 90 (noted). Ambient light
has no glTF form and goes into the scene's extras (`gltf`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pygltflib

from simulator.export.document import Document
from simulator.scene import transforms
from simulator.scene.scene import CameraState, Light

LIGHTS = "KHR_lights_punctual"
LUMENS_PER_WATT = 683.0
SPOT_EDGE = 0.25  # the engine's soft edge: the outer quarter of the cone's cosine range
OPENCV_TO_GLTF = np.diag([1.0, -1.0, -1.0, 1.0])


def column_major(matrix: np.ndarray) -> list[float]:
    """A 4x4 matrix as glTF's `matrix` list (column by column)."""
    return np.asarray(matrix, float).T.reshape(-1).tolist()


def camera_node(document: Document, camera: CameraState) -> pygltflib.Node:
    vertical = transforms.vertical_fov(camera.width, camera.height, camera.fov)
    index = document.add(
        "cameras",
        pygltflib.Camera(
            type=pygltflib.PERSPECTIVE,
            name="sim camera",
            perspective=pygltflib.Perspective(
                yfov=float(np.radians(vertical)),
                aspectRatio=camera.width / camera.height,
                znear=float(camera.near),
                zfar=float(camera.far),
            ),
            extras={
                "width": camera.width,
                "height": camera.height,
                "fov_horizontal_degrees": float(camera.fov),
                "K": np.asarray(camera.K, float).tolist(),
            },
        ),
    )
    return pygltflib.Node(
        name="sim camera",
        camera=index,
        matrix=column_major(camera.cam_to_world() @ OPENCV_TO_GLTF),
    )


def light_intensity(light: Light) -> float:
    """A light's glTF intensity (lux or candela) in sim's units at 683 lm/W."""
    return float(LUMENS_PER_WATT * np.pi * light.intensity)


def spot_cone(angle: float) -> tuple[float, float]:
    """(innerConeAngle, outerConeAngle) in radians of a spot of half-angle `angle` degrees."""
    outer = float(np.radians(min(angle, 90.0)))
    inner = float(np.arccos(np.cos(outer) + SPOT_EDGE * (1.0 - np.cos(outer))))
    return inner, outer


def light_node(
    document: Document, light: Light, number: int, note: Callable[[str], None]
) -> pygltflib.Node:
    """The node of a directional, point or spot light (ambient light has none)."""
    document.use(LIGHTS)
    item: dict[str, Any] = {
        "name": f"sim {light.kind} light {number}",
        "type": light.kind,
        "color": np.asarray(light.color, float).tolist(),
        "intensity": light_intensity(light),
    }
    if light.kind == "spot":
        if light.angle > 90.0:
            note(
                f"a spot light of half-angle {light.angle:g} degrees is written at 90 "
                "(glTF's widest)"
            )
        inner, outer = spot_cone(light.angle)
        item["spot"] = {"innerConeAngle": inner, "outerConeAngle": outer}
    extension = document.gltf.extensions.setdefault(LIGHTS, {"lights": []})
    extension["lights"].append(item)
    extras: dict[str, Any] = {"sim_intensity": float(light.intensity)}
    if light.shadows:
        extras["shadows"] = True
    if light.size:
        extras["angular_diameter_degrees"] = float(light.size)
    return pygltflib.Node(
        name=item["name"],
        matrix=column_major(light.matrix()),
        extensions={LIGHTS: {"light": len(extension["lights"]) - 1}},
        extras=extras,
    )
