"""Randomizers "camera_orbit" (the camera on a sphere around a target, looking at it) and
"camera_lens" (a distorting lens, its coefficients drawn per frame)."""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from simulator import (
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


@hookimpl
def sim_register_randomizers(register):
    register(CameraOrbit)
    register(CameraLens)
