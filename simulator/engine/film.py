"""The camera's film on the CPU: the one gain (exposure, metering and white balance) the
frame shaders multiply the radiance by before the tone curve."""

from __future__ import annotations

import numpy as np

from simulator.engine.environment import EnvironmentMaps
from simulator.scene.scene import Light, Scene
from simulator.scene.sky import RGB_LUMINANCE as LUMINANCE

UP = np.array([0.0, 0.0, 1.0])


def film_gain(scene: Scene, environments: EnvironmentMaps) -> np.ndarray:
    """Linear RGB gains: 2**exposure, times the metering gain when metering is on, times
    the white balance."""
    film = scene.film
    gain = 2.0 ** float(film.exposure)
    if film.metering:
        white = metered_white(scene, environments)
        if white > 1e-6:
            gain /= white
    return gain * np.asarray(film.white_balance, float)


def metered_white(scene: Scene, environments: EnvironmentMaps) -> float:
    """Incident-light metering: the luminance of a white Lambertian surface at the camera's
    target facing up (+Z), lit by every light of the scene and its environment (without
    shadows: a light meter held in the open)."""
    at = scene.camera.target
    total = 0.0
    for light in scene.lights:
        total += _incident(light, at) * float(np.dot(light.color, LUMINANCE))
    if scene.environment is not None:
        total += float(environments.irradiance_up(scene.environment) @ LUMINANCE)
    return total


def _incident(light: Light, at: np.ndarray) -> float:
    """What `light` gives a white up-facing surface at `at`, in radiance (sim's units: a
    white surface facing a light of intensity 1 has radiance 1)."""
    if light.kind == "ambient":
        return float(light.intensity)
    if light.kind == "directional":
        towards = -light.direction / np.linalg.norm(light.direction)
        return float(light.intensity * max(float(towards @ UP), 0.0))
    offset = light.position - at
    distance2 = max(float(offset @ offset), 1e-4)
    towards = offset / np.sqrt(distance2)
    facing = max(float(towards @ UP), 0.0)
    if light.kind == "spot":
        axis = light.direction / np.linalg.norm(light.direction)
        if float(-towards @ axis) < np.cos(np.radians(light.angle)):
            return 0.0
    return float(light.intensity * facing / distance2)
