"""Randomizers "camera_orbit" (the camera on a sphere around a target, looking at it),
"camera_lens" (a distorting lens, its coefficients drawn per frame) and "camera_motion" (in a
clip, the camera held still, dollied, orbited or shaken by hand)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from simulator import (
    CameraPath,
    Entity,
    FrameContext,
    Lens,
    Params,
    Randomizer,
    Scalar,
    Vec3,
    hookimpl,
    transforms,
)


class OrbitParams(Params):
    target: Vec3 = Field([0.0, 0.0, 0.5], description="Point the camera looks at, metres.")
    jitter: Scalar = Field(0.0, description="Look-at jitter: the target moves up to this far.")
    distance: Scalar = Field({"uniform": [4.0, 7.0]}, description="Distance to the target, metres.")
    elevation: Scalar = Field(
        {"uniform": [15.0, 60.0]}, description="Angle above the target's horizon, degrees."
    )
    azimuth: Scalar = Field(
        {"uniform": [0.0, 360.0]},
        description="Angle around the target, degrees counter-clockwise from +X.",
    )
    roll: Scalar = Field(0.0, description="Rotation about the viewing direction, degrees.")
    fov: Scalar | None = Field(
        None, description="Horizontal field of view, degrees (default: the world's camera)."
    )
    clearance: float = Field(
        0.05, ge=0.0, description="Keep the camera this far outside every object, metres."
    )
    attempts: int = Field(50, ge=1, description="Viewpoints drawn before giving up.")


def _inside(position: np.ndarray, entities: list[Entity], clearance: float) -> bool:
    """Whether `position` lies within an object's bounding box in the object's own frame,
    grown by `clearance` metres (a plane is a flat box: the camera may be above it)."""
    for entity in entities:
        low, high = entity.bounds()
        local = transforms.transform_points(np.linalg.inv(entity.matrix()), position[None])[0]
        margin = clearance / np.maximum(np.abs(entity.scale), 1e-9)
        if (local >= low - margin).all() and (local <= high + margin).all():
            return True
    return False


class CameraOrbit(Randomizer[OrbitParams]):
    """Places the camera at a random distance, elevation and azimuth around a target,
    redrawing any viewpoint that would put it inside an object (by its bounding box)."""

    name = "camera_orbit"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p, camera = self.params, ctx.scene.camera
        if p.fov is not None:
            fov = p.fov.sample(ctx.rng)
            if not 0 < fov < 180:
                raise ValueError(f"field of view must be in (0, 180) degrees, drew {fov:.2f}")
            camera.fov = fov
        for _ in range(p.attempts):
            target = p.target.sample(ctx.rng) + _offset(ctx.rng, p.jitter.sample(ctx.rng))
            distance = p.distance.sample(ctx.rng)
            if distance <= camera.near:
                raise ValueError(
                    f"orbit distance {distance:.3f} is inside the near plane ({camera.near})"
                )
            elevation = np.radians(p.elevation.sample(ctx.rng))
            azimuth = np.radians(p.azimuth.sample(ctx.rng))
            offset = distance * transforms.direction(azimuth, elevation)
            roll = p.roll.sample(ctx.rng)
            if not _inside(target + offset, ctx.scene.entities, p.clearance):
                break
        else:
            raise ValueError(f"every one of {p.attempts} viewpoints was inside an object")
        camera.target, camera.position, camera.roll = target, target + offset, roll


def _offset(rng: np.random.Generator, radius: float) -> np.ndarray:
    """A point drawn uniformly in a ball of `radius` (zero when the radius is 0)."""
    if radius <= 0:
        return np.zeros(3)
    direction = rng.normal(size=3)
    return direction / np.linalg.norm(direction) * radius * rng.uniform() ** (1 / 3)


class LensParams(Params):
    model: Literal["radtan", "fisheye"] = Field(
        "radtan",
        description="radtan: OpenCV's radial-tangential (k1..k6, p1, p2); fisheye: "
        "Kannala-Brandt, cv2.fisheye (k1..k4).",
    )
    k1: Scalar = Field(0.0, description="Radial coefficient (both models).")
    k2: Scalar = Field(0.0, description="Radial coefficient (both models).")
    k3: Scalar = Field(0.0, description="Radial coefficient (both models).")
    k4: Scalar = Field(0.0, description="radtan: denominator coefficient; fisheye: radial.")
    k5: Scalar = Field(0.0, description="radtan only: denominator coefficient.")
    k6: Scalar = Field(0.0, description="radtan only: denominator coefficient.")
    p1: Scalar = Field(0.0, description="radtan only: tangential coefficient.")
    p2: Scalar = Field(0.0, description="radtan only: tangential coefficient.")


# The coefficients each model draws, in OpenCV's order of its distortion vector.
ORDER = {
    "radtan": ("k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6"),
    "fisheye": ("k1", "k2", "k3", "k4"),
}


class CameraLens(Randomizer[LensParams]):
    """Puts a lens on the camera, its OpenCV distortion coefficients drawn per frame;
    the frame and every label follow it (docs/world-format.md, "Lenses")."""

    name = "camera_lens"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        p = self.params
        unused = [
            n for n in ("k5", "k6", "p1", "p2") if p.model == "fisheye" and n in p.model_fields_set
        ]
        if unused:
            raise ValueError(f"a fisheye lens has k1..k4 only; remove {', '.join(unused)}")
        coefficients = tuple(float(getattr(p, n).sample(ctx.rng)) for n in ORDER[p.model])
        ctx.scene.camera.lens = Lens(p.model, coefficients)


class MotionParams(Params):
    motion: Literal["static", "dolly", "orbit"] = Field(
        "static",
        description='"static": where it is; "dolly": camera and target move at `velocity`; '
        '"orbit": the camera turns about the vertical axis through its target at `rate`.',
    )
    velocity: Vec3 = Field([0.0, 0.0, 0.0], description="Dolly velocity, m/s.")
    rate: Scalar = Field(15.0, description="Orbit rate, degrees/s counter-clockwise.")
    shake: Scalar = Field(
        0.0, description="Hand-held shake: position and target wander up to about this, m."
    )
    shake_frequency: float = Field(1.5, gt=0, description="Shake frequency, Hz.")


class CameraMotion(Randomizer[MotionParams]):
    """Moves the camera over the clip from the pose it has (set it first, with camera_orbit
    or [camera]): writes its position, target and roll at every frame (worlds with [clip])."""

    name = "camera_motion"
    once_per_clip = True  # writes the clip's path once: its parameters are not animated

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        if ctx.clip is None:
            raise ValueError("camera_motion moves the camera over a clip: add a [clip] section")
        p, camera = self.params, ctx.scene.camera
        t = ctx.clip.times()[:, None]
        positions = np.repeat(camera.position[None], len(t), axis=0)
        targets = np.repeat(camera.target[None], len(t), axis=0)
        if p.motion == "dolly":
            velocity = p.velocity.sample(ctx.rng)
            positions, targets = positions + velocity * t, targets + velocity * t
        elif p.motion == "orbit":
            angles = np.radians(p.rate.sample(ctx.rng) * t[:, 0])
            offset = camera.position - camera.target
            c, s = np.cos(angles), np.sin(angles)
            positions = targets + np.stack(
                [c * offset[0] - s * offset[1], s * offset[0] + c * offset[1], 0 * c + offset[2]],
                axis=1,
            )
        amplitude = p.shake.sample(ctx.rng)
        if amplitude > 0:
            positions = positions + _wander(ctx.rng, t, amplitude, p.shake_frequency)
            targets = targets + _wander(ctx.rng, t, amplitude, p.shake_frequency)
        camera.path = CameraPath(positions, targets, np.full(len(t), camera.roll))


def _wander(rng: np.random.Generator, t: np.ndarray, amplitude: float, hz: float) -> np.ndarray:
    """A smooth random offset per axis: three sines near `hz` with random phases, scaled so
    that the offset stays within `amplitude`."""
    frequencies = hz * rng.uniform(0.5, 1.5, size=(1, 3, 3))
    phases = rng.uniform(0, 2 * np.pi, size=(1, 3, 3))
    waves = np.sin(2 * np.pi * frequencies * t[:, :, None] + phases).sum(axis=1) / 3
    return amplitude * waves


@hookimpl
def sim_register_randomizers(register):
    register(CameraOrbit)
    register(CameraLens)
    register(CameraMotion)
