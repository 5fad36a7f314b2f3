"""Shadow maps: for each shadow-casting light, a depth pass from the light, sampled by the
frame shader (see shaders.frame_fragment) to darken what the light cannot see.

Directional lights get an orthographic map fitted around the scene's objects, spot lights a
perspective map covering their cone. The passes are rendered only for frames whose lights cast
shadows, before the frame pass, into depth-only targets of SIZE x SIZE texels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from panda3d.core import (
    BitMask32,
    Camera,
    FrameBufferProperties,
    GraphicsEngine,
    GraphicsOutput,
    GraphicsPipe,
    Lens,
    LVecBase2f,
    LVecBase4f,
    NodePath,
    OrthographicLens,
    PerspectiveLens,
    RenderState,
    SamplerState,
    Texture,
    WindowProperties,
)

from simulator.engine import shaders
from simulator.engine.convert import PANDA_TO_OPENCV, from_panda, to_panda
from simulator.engine.geometry import MATERIAL_SHADING, SHADING_TAG
from simulator.engine.programs import program
from simulator.errors import RenderError
from simulator.scene import transforms
from simulator.scene.scene import Entity, Light

SIZE = 1024  # texels per side of each shadow map
PENUMBRA = 0.5  # metres from a blocker to its shadow that soft shadows look for blockers over
SHADOW_MASK = BitMask32.bit(2)
# Texture coordinates in [0, 1] (and depth in [0, 1]) from clip coordinates in [-1, 1].
_BIAS = np.array([[0.5, 0, 0, 0.5], [0, 0.5, 0, 0.5], [0, 0, 0.5, 0.5], [0, 0, 0, 1]], dtype=float)
# Objects this many times larger than all the rest (a floor, a room's walls) receive shadows
# but do not size a directional light's map, which would otherwise spread its texels over
# them: the map covers the rest, and the shadows they cast.
_LARGE = 4.0


def bounding_spheres(entities: list[Entity]) -> tuple[np.ndarray, np.ndarray]:
    """World-space centres (N, 3) and radii (N,) of the spheres around each entity's posed
    bounding box (its half-diagonal: rotation keeps lengths, scale stretches the box)."""
    centres, radii = [], []
    for entity in entities:
        low, high = entity.bounds()
        centres.append(transforms.transform_points(entity.matrix(), ((low + high) / 2)[None])[0])
        radii.append(np.linalg.norm((high - low) * entity.scale) / 2)
    return np.array(centres).reshape(-1, 3), np.array(radii)


# How far below a flat entity a point of another may reach and still count as on its lit
# side: settled objects touch a floor to within Bullet's margins, and a point that far under
# a floor is hidden by the floor from a camera above it.
SUBMERGED = 1e-3  # metres


def cannot_cast(
    lights: list[Light],
    entities: list[Entity],
    vertices: Callable[[Entity], np.ndarray],
    eye: np.ndarray,
) -> list[int]:
    """Instance ids of flat entities (a floor, a table top: one extent zero) that cast no
    shadow on anything visible for any of these shadow-casting lights, so the shadow passes
    may leave them out. A plane shadows nothing of itself, nor anything on the side of it that
    the light falls on: here every other entity's vertices (`vertices`: in its own frame, as
    drawn) lie on that side, within SUBMERGED, and the camera at `eye` is on that side too. A
    floor fills the whole map (a million texels: 35 ms of CPU a pipes frame). The shadows stay
    the same, but for a few pixels where objects touch the floor (a few levels: the floor no
    longer counts among the soft shadows' blockers there)."""
    posed: list[np.ndarray] = []  # every entity's vertices, posed: only once a plane needs them
    found = []
    for k, entity in enumerate(entities):
        low, high = entity.bounds()
        flat = np.flatnonzero((high - low) * np.abs(entity.scale) == 0)
        pose = entity.matrix()
        normal = pose[:3, :3] @ np.eye(3)[flat[0]] if len(flat) == 1 else np.zeros(3)
        if not np.any(normal):
            continue
        normal /= np.linalg.norm(normal)
        point = transforms.transform_points(pose, ((low + high) / 2)[None])[0]
        sides = [
            -light.direction @ normal
            if light.kind == "directional"
            else (light.position - point) @ normal
            for light in lights
        ]
        side = np.sign(sides[0])
        if side == 0 or any(np.sign(s) != side for s in sides):
            continue
        if side * ((eye - point) @ normal) <= 0:
            continue
        if not posed:
            posed = [transforms.transform_points(e.matrix(), vertices(e)) for e in entities]
        lowest = [
            float(np.min(side * ((p - point) @ normal))) for i, p in enumerate(posed) if i != k
        ]
        if all(h >= -SUBMERGED for h in lowest):
            found.append(entity.instance_id)
    return found


class ShadowMap:
    """One light's depth pass: a depth-only target, a camera and its lens."""

    def __init__(
        self, engine: GraphicsEngine, pipe: GraphicsPipe, host: GraphicsOutput, scene: NodePath
    ) -> None:
        props = FrameBufferProperties()
        props.set_depth_bits(24)
        props.set_rgba_bits(0, 0, 0, 0)
        self.buffer = engine.make_output(
            pipe,
            "shadow",
            -5,  # before the frame pass, which samples it
            props,
            WindowProperties.size(SIZE, SIZE),
            GraphicsPipe.BF_refuse_window,
            host.get_gsg(),
            host,
        )
        if self.buffer is None:
            raise RenderError("the OpenGL driver cannot render the depth targets shadows need")
        self.texture = Texture("shadow-map")
        self.buffer.add_render_texture(
            self.texture, GraphicsOutput.RTM_bind_or_copy, GraphicsOutput.RTP_depth
        )
        self.texture.set_minfilter(SamplerState.FT_shadow)
        self.texture.set_magfilter(SamplerState.FT_shadow)
        # Beyond the map nothing is shadowed: the border reads as the far plane.
        for set_wrap in (self.texture.set_wrap_u, self.texture.set_wrap_v):
            set_wrap(SamplerState.WM_border_color)
        self.texture.set_border_color((1, 1, 1, 1))
        self.buffer.set_clear_depth_active(True)
        self.buffer.set_clear_color_active(False)
        self.camera = scene.attach_new_node(Camera("shadow"))
        self.camera.node().set_camera_mask(SHADOW_MASK)
        self.camera.node().set_initial_state(_state(shaders.SHADOW_FRAGMENT, 1000))
        # Meshes with materials cast the shadow of what their labels keep (MASK cut-outs).
        self.camera.node().set_tag_state_key(SHADING_TAG)
        material = _state(shaders.SHADOW_MATERIAL_FRAGMENT, 1001)
        self.camera.node().set_tag_state(MATERIAL_SHADING, material)
        self.buffer.make_display_region().set_camera(self.camera)
        self.buffer.set_active(False)

    def aim(
        self, light: Light, centres: np.ndarray, radii: np.ndarray
    ) -> tuple[np.ndarray, float, float]:
        """Point the camera and fit the lens for `light` over spheres (centres, radii).
        Returns world -> clip of the map, the size of one texel at the scene and the depth
        the map spans (metres; 0 for spot lights, whose depth is not linear)."""
        direction = light.direction / np.linalg.norm(light.direction)
        small = _not_large(radii)
        lens: Lens
        if light.kind == "directional":
            # Footprint: the objects' spheres across the light; depth: everything along it.
            centre = centres[small].mean(axis=0)
            across = (
                np.linalg.norm(np.cross(centres[small] - centre, direction), axis=1) + radii[small]
            )
            footprint = float(across.max()) * 1.02
            along = (centres - centre) @ direction
            near, far = float((along - radii).min()), float((along + radii).max())
            eye = centre + direction * (near - 1.0)
            lens = OrthographicLens()
            lens.set_film_size(2 * footprint, 2 * footprint)
            lens.set_near_far(0.5, far - near + 1.5)
            texel, depth = 2 * footprint / SIZE, far - near + 1.0
        elif light.kind == "spot":
            eye = light.position
            reach = np.linalg.norm(centres - eye, axis=1) + radii
            lens = PerspectiveLens()
            fov = min(2 * light.angle * 1.05, 170.0)
            lens.set_fov(fov, fov)
            lens.set_near_far(0.05, float(reach.max()) * 1.01)
            distance = float(np.linalg.norm(centres[small] - eye, axis=1).mean())
            texel = 2 * distance * np.tan(np.radians(fov / 2)) / SIZE
            depth = 0.0
        else:
            raise RenderError(f"{light.kind} lights cast no shadows")
        pose = transforms.look_at(eye, eye + direction, up=_up(direction))
        panda_pose = pose @ PANDA_TO_OPENCV
        self.camera.node().set_lens(lens)
        self.camera.set_mat(to_panda(panda_pose))
        projection = from_panda(lens.get_projection_mat())
        return projection @ np.linalg.inv(panda_pose), texel, depth


def _state(fragment: str, priority: int) -> RenderState:
    state = NodePath("state")
    state.set_shader(program(fragment, "shadow"), priority)
    state.set_shader_input("base_color", LVecBase4f(1, 1, 1, 1))
    state.set_shader_input("textured", 0.0)
    state.set_shader_input("alpha_mode", LVecBase2f(0, 0))
    state.set_shader_input("texture_scale", LVecBase2f(1, 1))
    return state.get_state()


def _not_large(radii: np.ndarray) -> np.ndarray:
    """Which spheres are not far larger than all the smaller ones: the largest gap of more
    than _LARGE times between consecutive sizes, from the top, splits them off."""
    descending = np.sort(radii)[::-1]
    for i in range(len(descending) - 1):
        if descending[i] > _LARGE * descending[i + 1]:
            return radii <= descending[i + 1]
    return np.ones(len(radii), dtype=bool)


def _up(direction: np.ndarray) -> tuple[float, float, float]:
    return (0.0, 1.0, 0.0) if abs(direction[2]) > 0.99 else (0.0, 0.0, 1.0)


class ShadowMaps:
    """The shadow maps of a frame's shadow-casting lights, made as first needed."""

    def __init__(
        self, engine: GraphicsEngine, pipe: GraphicsPipe, host: GraphicsOutput, scene: NodePath
    ) -> None:
        self._args = (engine, pipe, host, scene)
        self._maps: list[ShadowMap] = []

    def render(
        self, lights: list[tuple[int, Light]], entities: list[Entity], view_to_world: np.ndarray
    ) -> dict[int, tuple[Texture, np.ndarray, float, tuple[float, float]]]:
        """Aim one map per (slot, light) and return {slot: (depth texture, view space ->
        map coordinates, texel size, softness)}; the maps render with the next frame.
        Softness, for directional lights with a size: (penumbra width in map coordinates per
        unit of map depth between blocker and receiver, the widest penumbra searched)."""
        while len(self._maps) < len(lights):
            self._maps.append(ShadowMap(*self._args))
        for unused in self._maps[len(lights) :]:
            unused.buffer.set_active(False)
        if not lights:
            return {}
        centres, radii = bounding_spheres(entities)
        if not len(radii):
            centres, radii = np.zeros((1, 3)), np.ones(1)
        found = {}
        for shadow, (slot, light) in zip(self._maps, lights, strict=False):
            world_to_clip, texel, depth = shadow.aim(light, centres, radii)
            shadow.buffer.set_active(True)
            soft = (0.0, 0.0)
            if light.size > 0 and depth > 0:
                spread = np.tan(np.radians(light.size) / 2) * 2 / (texel * SIZE)  # map / metre
                soft = (depth * spread, min(PENUMBRA * spread, 0.05))
            found[slot] = (shadow.texture, _BIAS @ world_to_clip @ view_to_world, texel, soft)
        return found

    def close(self, engine: GraphicsEngine) -> None:
        for shadow in self._maps:
            engine.remove_window(shadow.buffer)
        self._maps.clear()
