"""Labeler "depth_noise": what a structured-light depth camera (a Kinect) would measure, as
a second depth map beside the exact one, which stays as rendered.

The model, per pixel of plane depth z (metres), in this order (each step can be turned off):

1. lateral noise: the pixel reads the clean depth of a neighbour `round(N(0, lateral))`
   pixels away per axis, so edges jitter and flat surfaces stay flat;
2. axial noise: z + N(0, sigma(z)), sigma(z) = axial_base + axial_quadratic (z - axial_offset)^2
   (Nguyen, Izadi and Lovell 2012's fit for the Kinect: 0.0012 + 0.0019 (z - 0.4)^2);
3. quantisation in the disparity domain: disparity = baseline f / z rounded to 1 / subpixel
   pixel (a Kinect: 7.5 cm, 1/8 px), z = baseline f / disparity (f: the frame's K[0][0]);
4. holes (0): where the clean depth jumps by more than `edge_jump` metres to a 4-neighbour
   (or to the background), where the surface is seen more than `max_angle` degrees off head
   on (from the normal pass), and outside `range`.

Random draws come from `seeding.stream(seed, frame, "labeler:" + name)` (a rig's other
cameras add "@" + their name): the same frame gives the same noisy map in any process.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from simulator import FrameLabels, Labeler, Params, PluginError, hookimpl, seeding

# Folders of the dataset a map's files must not land in.
TAKEN = {"images", "instances", "semantic", "depth", "distance", "normals", "disparity"}
TAKEN |= {"cameras", "labels", "annotations", "parts", "points"}


class DepthNoiseParams(Params):
    output: str = Field(
        "depth_noisy",
        pattern=r"^[a-z][a-z0-9_]*$",
        description="The map's name: files <output>/NNNNNN.npy, float32 metres, 0 = hole.",
    )
    lateral: float = Field(0.5, ge=0, le=10, description="Lateral jitter sigma, pixels.")
    axial_base: float = Field(0.0012, ge=0, description="Axial sigma at axial_offset, metres.")
    axial_quadratic: float = Field(0.0019, ge=0, description="Axial sigma growth, 1/metre.")
    axial_offset: float = Field(0.4, ge=0, description="Depth of the smallest sigma, metres.")
    baseline: float = Field(0.075, gt=0, description="Projector-camera baseline, metres.")
    subpixel: int = Field(8, ge=0, le=1024, description="Disparity steps per pixel; 0: none.")
    edge_jump: float = Field(0.05, gt=0, description="Depth jump that makes a hole, metres.")
    max_angle: float = Field(80.0, gt=0, le=90, description="Steepest surface seen, degrees.")
    range: tuple[float, float] = Field((0.3, 10.0), description="[near, far] seen, metres.")

    @field_validator("output")
    @classmethod
    def _not_a_pass(cls, value: str) -> str:
        if value in TAKEN:
            raise ValueError(f"{value!r} is a folder sim writes already; name the map otherwise")
        return value


class DepthNoise(Labeler[DepthNoiseParams]):
    """A noisy depth map (frame.maps[output]) from the exact depth and normal passes."""

    name = "depth_noise"

    def label(self, frame: FrameLabels) -> None:
        passes = frame.passes
        seen = passes.depth > 0
        if seen.any() and not passes.normal[seen].any():
            raise PluginError(
                'labeler depth_noise needs the normal pass: add "normals" to [output] labels'
            )
        # a rig's other cameras (camera_name set while labelers run) draw noise of their own
        suffix = f"@{frame.camera_name}" if frame.camera_name else ""
        rng = seeding.stream(frame.seed, frame.index, f"labeler:{self.name}{suffix}")
        K = frame.scene.camera.K
        frame.maps[self.params.output] = noisy_depth(
            passes.depth, passes.normal, K, self.params, rng
        )


def axial_sigma(z: np.ndarray, p: DepthNoiseParams) -> np.ndarray:
    return p.axial_base + p.axial_quadratic * (z - p.axial_offset) ** 2


def noisy_depth(
    depth: np.ndarray,
    normal: np.ndarray,
    K: np.ndarray,
    p: DepthNoiseParams,
    rng: np.random.Generator,
) -> np.ndarray:
    """The model above: float32 (H, W) metres, 0 = hole."""
    h, w = depth.shape
    z = depth.astype(np.float64)
    if p.lateral > 0:
        rows = np.arange(h)[:, None] + np.rint(rng.normal(0, p.lateral, (h, w))).astype(int)
        columns = np.arange(w)[None, :] + np.rint(rng.normal(0, p.lateral, (h, w))).astype(int)
        z = z[np.clip(rows, 0, h - 1), np.clip(columns, 0, w - 1)]
    seen = z > 0
    z = np.where(seen, z + axial_sigma(z, p) * rng.normal(0, 1, (h, w)), 0.0)
    if p.subpixel:
        bf = p.baseline * K[0, 0]
        steps = np.rint(np.divide(bf * p.subpixel, z, out=np.zeros_like(z), where=z > 0))
        z = np.divide(bf * p.subpixel, steps, out=np.zeros_like(z), where=steps > 0)
    holes = _edges(depth, p.edge_jump) | _grazing(normal, K, p.max_angle)
    holes |= ~seen | (z < p.range[0]) | (z > p.range[1])
    return np.where(holes, 0.0, z).astype(np.float32)


def _edges(depth: np.ndarray, jump: float) -> np.ndarray:
    """Pixels whose clean depth differs from a 4-neighbour's by more than `jump` metres (the
    background counts as infinitely far)."""
    z = np.where(depth > 0, depth.astype(np.float64), np.inf)
    out = np.zeros(depth.shape, dtype=bool)
    for axis in (0, 1):
        step = np.abs(np.diff(z, axis=axis))
        far = ~(step <= jump)  # inf - inf is nan: two background pixels are no edge
        far &= np.isfinite(np.delete(z, 0, axis)) | np.isfinite(np.delete(z, -1, axis))
        lead = [slice(None)] * 2
        lead[axis] = slice(None, -1)
        trail = [slice(None)] * 2
        trail[axis] = slice(1, None)
        out[tuple(lead)] |= far
        out[tuple(trail)] |= far
    return out


def _grazing(normal: np.ndarray, K: np.ndarray, max_angle: float) -> np.ndarray:
    """Pixels whose surface normal is more than `max_angle` degrees from the viewing ray."""
    h, w = normal.shape[:2]
    v, u = np.mgrid[0:h, 0:w].astype(np.float64)
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], axis=-1)
    rays /= np.linalg.norm(rays, axis=-1, keepdims=True)
    cosine = np.abs((rays * normal).sum(axis=-1))
    return (np.abs(normal).sum(axis=-1) > 0) & (cosine < np.cos(np.radians(max_angle)))


@hookimpl
def sim_register_labelers(register):
    register(DepthNoise)
