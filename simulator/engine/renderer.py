"""The Panda3D engine: draws a `Scene` in one pass (color and ground truth together, into
several render targets) and reads the targets back."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from panda3d.core import (
    AntialiasAttrib,
    BitMask32,
    Camera,
    GraphicsEngine,
    GraphicsOutput,
    LVecBase2f,
    LVecBase3f,
    LVecBase4f,
    NodePath,
    PerspectiveLens,
    PTA_LVecBase4f,
    RenderState,
    SamplerState,
    ShaderInput,
    TransformState,
)

from simulator.engine import context, occlusion, shaders
from simulator.engine.convert import PANDA_TO_OPENCV, to_panda
from simulator.engine.environment import EnvironmentMaps, brdf_texture
from simulator.engine.film import film_gain
from simulator.engine.geometry import MATERIAL_SHADING, SHADING_TAG, VARIANT_TAG, GeometryCache
from simulator.engine.materials import (
    DEFAULT_INPUTS,
    MaterialStates,
    default_maps,
    features,
    surface,
    variant_tag,
)
from simulator.engine.programs import program
from simulator.engine.radiance import RadianceTargets
from simulator.engine.readback import Readback
from simulator.engine.shadows import SHADOW_MASK, ShadowMaps, cannot_cast
from simulator.engine.surfaces import Backdrop, TextureCache, card_distance
from simulator.errors import RenderError
from simulator.labels.records import RenderedPasses
from simulator.labels.rle import window, window_runs
from simulator.scene import transforms
from simulator.scene.meshes import TriangleMesh
from simulator.scene.patterns import linear
from simulator.scene.scene import CameraState, Entity, Light, Mesh, Scene

# Which camera draws what: the backdrop is hidden from the solo camera.
COLOR_MASK, LABEL_MASK = BitMask32.bit(0), BitMask32.bit(1)
# How soft shadows read a shadow map's depths (its own sampler compares instead).
_DEPTHS = SamplerState()
_DEPTHS.set_minfilter(SamplerState.FT_nearest)
_DEPTHS.set_magfilter(SamplerState.FT_nearest)
_DEPTHS.set_wrap_u(SamplerState.WM_clamp)
_DEPTHS.set_wrap_v(SamplerState.WM_clamp)
# GLSL view space (OpenGL axes: y up, z backwards) from OpenCV camera axes.
_OPENCV_TO_GL = np.diag([1.0, -1.0, -1.0, 1.0])


def _variant(entity: Entity) -> frozenset[str] | None:
    """The material variant an entity is drawn with: every feature its materials use (its
    own and its mesh's groups'); None without materials (the plain shader)."""
    mesh = entity.mesh
    groups = mesh.groups if isinstance(mesh, TriangleMesh) else ()
    materials = [g.material for g in groups if g.material is not None]
    if entity.material is not None:
        materials.append(entity.material)
    if not materials:
        return None
    return frozenset().union(*(features(material) for material in materials))


def shader_state(name: str, fragment: str, priority: int = 1001) -> RenderState:
    """A state that draws with `fragment` (priority 1001: a tag state's, over the camera's
    1000)."""
    state = NodePath("state")
    state.set_shader(program(fragment, name), priority)
    return state.get_state()


class Engine:
    """Renders scenes offscreen. Create one per process and reuse it for every frame."""

    def __init__(
        self,
        width: int,
        height: int,
        pipe_name: str = "p3headlessgl",
        normals: bool = True,
        antialias: int | str = 0,
        contact_occlusion: bool = False,
    ) -> None:
        """`normals=False` leaves out the normals target (RenderedPasses.normal is then 0).
        `antialias`: samples per pixel of the RGB image (0: none), or "fxaa". With
        multisampling the color is drawn apart, into a multisampled buffer, as display-linear
        light encoded after the resolve (edges averaged in linear light: engine.context), and
        the frame pass draws only the labels, exactly as it does without; with "fxaa" the
        frame pass draws both and a pass after it smooths the color (engine.post): labels are
        the same bytes either way.
        `contact_occlusion`: objects darken the light from every direction near them
        (engine.occlusion)."""
        self.width, self.height = width, height
        self.contact_occlusion = contact_occlusion
        self._antialias = antialias
        self._pipe = pipe = context.make_pipe(pipe_name)
        self._engine = GraphicsEngine(pipe)
        self._frame, self._solo, self._targets = context.make_buffers(
            self._engine, pipe, width, height, normals, antialias
        )
        self._gsg = self._frame.get_gsg()
        self._readback = Readback(self._engine, self._gsg)
        self.renderer = self._gsg.get_driver_renderer()
        self.root = NodePath("scene")
        self._entities = self.root.attach_new_node("entities")
        self._rig = self.root.attach_new_node("camera")
        self._lens = PerspectiveLens()
        self._lens.set_film_size(width, height)
        self._frame_camera = self._attach_camera(self._frame, COLOR_MASK)
        # With anti-aliasing the color camera draws the RGB into the multisampled buffer.
        self._color_camera = (
            self._attach_camera(self._targets.color_buffer, COLOR_MASK)
            if self._targets.color_buffer is not None
            else self._frame_camera
        )
        self._solo_camera = self._attach_camera(self._solo, LABEL_MASK, shaders.SOLO_FRAGMENT)
        # The solo camera's states for the solo passes and for the parts pass.
        self._solo_states = {
            False: (
                self._solo_camera.node().get_initial_state(),
                shader_state("solo", shaders.SOLO_MATERIAL_FRAGMENT),
            ),
            True: (
                self._camera_state("parts", shaders.SOLO_PART_FRAGMENT),
                shader_state("parts", shaders.SOLO_PART_MATERIAL_FRAGMENT),
            ),
        }
        self._use_solo(parts=False)
        # By (lights, environment, tone, labels only): the plain state, and the material
        # states by variant (None: every feature, under SHADING_TAG, for the labels alone).
        self._frame_states: dict[
            tuple[object, ...], tuple[RenderState, dict[frozenset[str] | None, RenderState]]
        ] = {}
        # The colour is drawn with material variants (engine.materials.features).
        self._color_camera.node().set_tag_state_key(VARIANT_TAG)
        self.textures = TextureCache()
        self.environments = EnvironmentMaps()
        self.materials = MaterialStates(self.textures.get)
        self.geometry = GeometryCache(self.materials.get)
        self._backdrop = Backdrop(self._color_camera, LABEL_MASK | SHADOW_MASK)

        self.root.set_shader_input("brdf_lut", brdf_texture())
        self._shadows = ShadowMaps(self._engine, pipe, self._frame, self.root)
        self._nodes: dict[int, NodePath] = {}
        self._staged: Scene | None = None  # the scene the nodes and the camera are of
        # Motion blur's radiance and tone passes (engine.radiance), made when first drawn.
        self._radiance: RadianceTargets | None = None
        self._radiance_camera: NodePath | None = None

    def _attach_camera(
        self, buffer: GraphicsOutput, mask: BitMask32, fragment: str | None = None
    ) -> NodePath:
        camera = self._rig.attach_new_node(Camera(buffer.get_name(), self._lens))
        camera.node().set_camera_mask(mask)
        camera.node().set_tag_state_key(SHADING_TAG)
        buffer.make_display_region().set_camera(camera)
        if fragment is not None:
            camera.node().set_initial_state(self._camera_state(buffer.get_name(), fragment))
        return camera

    def _camera_state(self, name: str, fragment: str) -> RenderState:
        state = NodePath("state")
        state.set_state(shader_state(name, fragment, 1000))
        state.set_shader_input("instance_id", 0.0)
        state.set_shader_input("base_color", LVecBase4f(1, 1, 1, 1))
        state.set_shader_input("surface", LVecBase3f(*surface(0.5, 0.0)))
        state.set_shader_input("textured", 0.0)
        state.set_shader_input("part", 0.0)
        for key, value in {**DEFAULT_INPUTS, **default_maps()}.items():
            state.set_shader_input(key, value)
        return state.get_state()

    def _use_lights(
        self,
        kinds: tuple[str, ...],
        environment: bool,
        tone: str,
        variants: set[frozenset[str]],
        radiance_pass: bool = False,
    ) -> None:
        """The color camera draws with the shaders generated for these lights (the plain one,
        and the material `variants` this frame draws, for meshes tagged with materials); with
        anti-aliasing the frame camera draws the labels alone. With `radiance_pass`, the
        radiance camera draws the light itself instead, for motion blur's sub-frames
        (engine.radiance)."""
        if radiance_pass:
            assert self._radiance is not None and self._radiance_camera is not None
            key = (kinds, environment, shaders.RADIANCE, False)
            self._use_states(self._radiance_camera, key, variants, self._radiance.multisampled)
            return
        if self._color_camera is not self._frame_camera:
            self._use_states(self._frame_camera, ((), False, "clamp", True), variants)
        multisample = self._targets.color_buffer is not None
        if multisample:  # the samples in display-linear light, encoded after their resolve
            assert self._targets.post is not None
            self._targets.post.use(shaders.encoding_fragment(tone))
        drawn = self._drawn_tone(tone)
        key = (kinds, environment, drawn, False)
        self._use_states(self._color_camera, key, variants, multisample)

    def _drawn_tone(self, tone: str) -> str:
        """What the color camera writes for the tone curve `tone`: its encoded values, or
        with multisampling its display-linear light (encoded after the resolve)."""
        return shaders.display_linear(tone) if self._targets.color_buffer is not None else tone

    def _use_states(
        self,
        camera: NodePath,
        key: tuple[object, ...],
        variants_drawn: set[frozenset[str]],
        multisample: bool = False,
    ) -> None:
        kinds, environment, tone, labels = key
        options = {
            "environment": environment,
            "tone": tone,
            "labels_only": labels,
            "contact": self.contact_occlusion,
        }
        plain, variants = self._frame_states.get(key) or self._frame_states.setdefault(
            key,
            (self._camera_state("frame", shaders.frame_fragment(kinds, **options)), {}),  # type: ignore[arg-type]
        )
        # The labels alone: every feature, by SHADING_TAG; the colour: this frame's variants.
        wanted: list[frozenset[str] | None] = [None]
        if not labels:
            wanted = [*sorted(variants_drawn, key=variant_tag)]
        for variant in wanted:
            if variant not in variants:
                fragment = shaders.frame_fragment(kinds, material=variant or True, **options)  # type: ignore[arg-type]
                variants[variant] = shader_state("frame", fragment)
        # Asked for in the camera's states, so Panda3D switches GL_MULTISAMPLE on for the
        # multisampled buffer itself: switched on by hand before the frame, in whichever GL
        # context was current, it stayed off in an engine drawn after another (a rig's, a
        # lens's) and after an engine's first frame.
        on = AntialiasAttrib.make(AntialiasAttrib.M_multisample)
        camera.node().set_initial_state(plain.add_attrib(on) if multisample else plain)
        for variant in wanted:
            state = variants[variant].add_attrib(on) if multisample else variants[variant]
            tag = MATERIAL_SHADING if variant is None else variant_tag(variant)
            camera.node().set_tag_state(tag, state)

    def render(self, scene: Scene) -> RenderedPasses:
        self._stage(scene)
        self._engine.render_frame()
        self._collect_garbage()
        return self._read_passes()

    def render_radiance(self, scene: Scene) -> np.ndarray:
        """The scene's colour as radiance: the light after the film's gain, before the tone
        curve, float32 (H, W, 3), top row first (a background image or colour as the light
        the tone curve shows as it: shaders.light_backdrop_fragment). Only the colour is
        drawn (no label), multisampled as the engine's colour is; `develop` maps it."""
        targets = self._radiance_targets()
        self._stage(scene, radiance=True)
        self._set_frame_active(False)
        targets.buffer.set_active(True)
        try:
            self._engine.render_frame()
        finally:
            targets.buffer.set_active(False)
            self._set_frame_active(True)
        self._collect_garbage()
        return self._readback.read(targets.radiance, np.float32, 3).copy()

    def develop(self, radiance: np.ndarray, tone: str) -> np.ndarray:
        """An 8-bit RGB image of a radiance image ((H, W, 3), as `render_radiance` gives):
        through the tone curve `tone`, by the frame pass's own code, then FXAA where this
        engine smooths its frames."""
        targets = self._radiance_targets()
        targets.upload(radiance, tone)
        self._set_frame_active(False)
        targets.set_tone_active(True)
        try:
            self._engine.render_frame()
        finally:
            targets.set_tone_active(False)
            self._set_frame_active(True)
        return np.ascontiguousarray(self._readback.read(targets.color, np.uint8, 3))

    def _radiance_targets(self) -> RadianceTargets:
        if self._radiance is None:
            antialias = self._antialias
            self._radiance = RadianceTargets(
                self._engine,
                self._pipe,
                self._frame,
                antialias if isinstance(antialias, int) and antialias > 1 else 0,
                fxaa=antialias == "fxaa",
            )
            self._radiance_camera = self._attach_camera(self._radiance.buffer, COLOR_MASK)
            self._radiance_camera.node().set_tag_state_key(VARIANT_TAG)
        return self._radiance

    def _stage(self, scene: Scene, radiance: bool = False) -> None:
        """Set the scene up for the next frame: camera, lights and shadows, entities and
        the backdrop; with `radiance`, for the radiance pass."""
        self._staged = scene
        self._place_camera(scene.camera)
        # The material variants this frame draws (registered on the cameras by _set_lights).
        drawn_with = {entity.instance_id: _variant(entity) for entity in scene.entities}
        self._set_lights(scene, {v for v in drawn_with.values() if v is not None}, radiance)
        self._frame.set_clear_color(LVecBase4f(*scene.background, 1.0))
        self._entities.node().remove_all_children()
        self._nodes = {}
        for entity in scene.entities:
            node = self._entities.attach_new_node(f"instance-{entity.instance_id}")
            self._nodes[entity.instance_id] = node
            self.geometry.get(entity.mesh).instance_to(node)
            node.set_mat(to_panda(entity.matrix()))
            # Drawn in the scene's order: Panda3D's default sorts by render state, whose order
            # follows memory addresses, and where two surfaces meet at the same depth the one
            # drawn first wins the pixel. A fixed order keeps frames identical across runs and
            # worker processes.
            if entity.material is not None:
                # A whole-object material: its state on the entity (the mesh's own material
                # groups sit below and keep theirs), drawn with the material shaders.
                node.set_state(self.materials.get(entity.material))
                node.set_tag(SHADING_TAG, MATERIAL_SHADING)
            else:
                node.set_shader_input("base_color", LVecBase4f(*linear(entity.color), 1.0))
                node.set_shader_input(
                    "surface", LVecBase3f(*surface(entity.roughness, entity.metallic))
                )
                if entity.texture is not None:
                    node.set_texture(self.textures.get(entity.texture, srgb=True), 1)
                    node.set_shader_input("textured", 1.0)
            variant = drawn_with[entity.instance_id]
            if variant is not None:
                node.set_tag(VARIANT_TAG, variant_tag(variant))
            node.set_bin("fixed", len(self._nodes))
            node.set_shader_input("instance_id", float(entity.instance_id))
        casting = [light for light in scene.lights if light.shadows and light.kind != "ambient"]
        if casting:
            drawn = self.geometry.arrays
            eye = scene.camera.cam_to_world()[:3, 3]
            flat = cannot_cast(casting, scene.entities, lambda e: drawn(e.mesh)[0], eye)
            for instance_id in flat:
                self._nodes[instance_id].hide(SHADOW_MASK)
        camera = scene.camera
        vfov = transforms.vertical_fov(camera.width, camera.height, camera.fov)
        distance = card_distance(camera.near, camera.far)
        # Where the color target holds light (radiance, or display-linear light), a picture
        # behind the scene is drawn as the light that shows as it (the inverse of the tone
        # curve, or of its encoding), the background colour too (on a card: a float target's
        # clear value goes through no inverse).
        tone: str = scene.film.tone
        undo: str | None = tone  # through the whole curve's inverse
        if radiance:
            written = shaders.RADIANCE
        else:
            written = self._drawn_tone(tone)
            undo = None if written == tone else written  # through the encoding's inverse
        if scene.background_image is not None:
            texture = self.textures.get(scene.background_image)
            self._backdrop.show(texture, camera.fov, vfov, distance, undo)
        elif scene.environment is not None and scene.show_environment:
            self._backdrop.show_environment(written, camera.fov, vfov, distance)
        elif undo is not None:
            self._backdrop.show_color(scene.background, undo, camera.fov, vfov, distance)
        else:
            self._backdrop.hide()

    def _collect_garbage(self) -> None:
        # ShowBase's loop does this every frame; without it, every unique per-entity transform
        # and shader-input state stays cached and memory grows with the frame count.
        TransformState.garbage_collect()
        RenderState.garbage_collect()

    def restage(self, scene: Scene) -> None:
        """Set `scene` up again where another scene was drawn since it (its solo and parts
        passes draw the staged scene: engine.source)."""
        if self._staged is not scene:
            self._stage(scene)

    def render_alone(self, groups: list[list[int]]) -> list[np.ndarray]:
        """The instance pass with only each group's entities drawn, one image per group.

        Call after `render` of the same scene. Entities in a group must not overlap on screen
        (the caller groups them by their amodal boxes), so each pixel still belongs to one
        entity drawn with nothing in front of it.
        """
        images = []
        for _ in self._drawn_alone(groups):
            solo = self._readback.read(self._targets.solo, np.float32, 1)[:, :, 0]
            images.append(solo.astype(np.uint32))
        return images

    def solo_runs(
        self, groups: list[list[int]], boxes: dict[int, list[float]]
    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        """{instance id: its pixels drawn alone} as `runs_by_id(render_alone(groups)[g],
        groups[g])` gives them, for every entity of every group, reading back only each
        entity's box ([x, y, w, h] in pixels, holding all of its pixels) and a margin."""
        runs = {}
        for group in self._drawn_alone(groups):
            for instance_id in group:
                rows, columns = window(boxes[instance_id], self.width, self.height)
                pixels = self._readback.read_window(
                    self._targets.solo, np.float32, 1, rows, columns
                )[:, :, 0]
                runs[instance_id] = window_runs(
                    pixels, instance_id, rows.start, columns.start, self.height
                )
        return runs

    def _drawn_alone(self, groups: list[list[int]]) -> Iterator[list[int]]:
        """Each group, once the solo target holds it drawn alone (see render_alone)."""
        self._set_frame_active(False)
        self._solo.set_active(True)
        try:
            for group in groups:
                members = set(group)
                for instance_id, node in self._nodes.items():
                    node.show() if instance_id in members else node.hide()
                self._engine.render_frame()
                yield group
        finally:
            for node in self._nodes.values():
                node.show()
            self._solo.set_active(False)
            self._set_frame_active(True)

    def render_parts(self) -> np.ndarray:
        """Each pixel's part code (labels.parts; 0 where no part is drawn), from the scene as
        drawn by the last `render`: the solo buffer draws everything with part codes in place
        of instance ids, with the same depth test, so its pixels match the instance pass's."""
        self._set_frame_active(False)
        self._solo.set_active(True)
        self._use_solo(parts=True)
        try:
            self._engine.render_frame()
            parts = self._readback.read(self._targets.solo, np.float32, 1)[:, :, 0]
            return parts.astype(np.uint32)
        finally:
            self._use_solo(parts=False)
            self._solo.set_active(False)
            self._set_frame_active(True)

    def _set_frame_active(self, active: bool) -> None:
        self._frame.set_active(active)
        if self._targets.color_buffer is not None:
            self._targets.color_buffer.set_active(active)
        if self._targets.post is not None:
            self._targets.post.buffer.set_active(active)

    def _use_solo(self, parts: bool) -> None:
        plain, material = self._solo_states[parts]
        self._solo_camera.node().set_initial_state(plain)
        self._solo_camera.node().set_tag_state(MATERIAL_SHADING, material)

    def arrays(self, mesh: Mesh) -> tuple[np.ndarray, np.ndarray]:
        """Vertices and triangles of `mesh` in its own frame, exactly as the engine draws it."""
        return self.geometry.arrays(mesh)

    def _place_camera(self, camera: CameraState) -> None:
        if (camera.width, camera.height) != (self.width, self.height):
            raise RenderError(
                f"camera is {camera.width}x{camera.height} but the engine renders "
                f"{self.width}x{self.height}"
            )
        self._lens.set_fov(
            camera.fov, transforms.vertical_fov(camera.width, camera.height, camera.fov)
        )
        self._lens.set_near_far(camera.near, camera.far)
        self._rig.set_mat(to_panda(camera.cam_to_world() @ PANDA_TO_OPENCV))

    def _set_lights(
        self, scene: Scene, variants: set[frozenset[str]], radiance_pass: bool = False
    ) -> None:
        world_to_view = _OPENCV_TO_GL @ np.linalg.inv(scene.camera.cam_to_world())
        environment = scene.environment
        if environment is not None:
            view_to_world = np.linalg.inv(world_to_view)[:3, :3]
            self.environments.bind(self.root, environment, view_to_world)
        gain = film_gain(scene, self.environments)
        self.root.set_shader_input("film_gain", LVecBase3f(*gain))
        vectors, colors, spots = (PTA_LVecBase4f.empty_array(shaders.MAX_LIGHTS) for _ in range(3))
        ambient, count, kinds = np.zeros(3), 0, []
        casting: list[tuple[int, Light]] = []
        for light in scene.lights:
            radiance = light.color * light.intensity
            if light.kind == "ambient":
                ambient += radiance
                continue
            if count == shaders.MAX_LIGHTS:
                raise RenderError(f"at most {shaders.MAX_LIGHTS} lights besides the ambient")
            if light.kind == "directional":
                towards = -light.direction / np.linalg.norm(light.direction)
                vector = np.append(world_to_view[:3, :3] @ towards, 0.0)
            else:
                vector = np.append(
                    transforms.transform_points(world_to_view, light.position[None])[0], 1.0
                )
            spot = np.zeros(4)
            if light.kind == "spot":
                axis = world_to_view[:3, :3] @ (light.direction / np.linalg.norm(light.direction))
                spot = np.append(axis, np.cos(np.radians(light.angle)))
            vectors[count], colors[count] = LVecBase4f(*vector), LVecBase4f(*radiance, 1.0)
            spots[count] = LVecBase4f(*spot)
            softened = light.kind == "directional" and light.size > 0
            shading = (":soft" if softened else ":shadow") if light.shadows else ""
            kinds.append(light.kind + shading)
            if light.shadows:
                casting.append((count, light))
            count += 1
        shown = environment is not None
        self._use_lights(tuple(kinds), shown, scene.film.tone, variants, radiance_pass)
        self._bind_shadows(casting, scene, np.linalg.inv(world_to_view))
        # Shader inputs set on the scene root reach every entity below it.
        self.root.set_shader_input("light_vector", vectors)
        self.root.set_shader_input("light_color", colors)
        self.root.set_shader_input("light_spot", spots)
        self.root.set_shader_input("ambient", LVecBase3f(*ambient))
        if self.contact_occlusion:
            found = occlusion.proxies(scene.entities, self.geometry, world_to_view)
            occlusion.bind(self.root, found)

    def _bind_shadows(
        self, casting: list[tuple[int, Light]], scene: Scene, view_to_world: np.ndarray
    ) -> None:
        maps = self._shadows.render(casting, scene.entities, view_to_world)
        for slot, (texture, matrix, texel, soft) in maps.items():
            self.root.set_shader_input(f"shadow_map_{slot}", texture)
            # the same depth map read as depths (no comparison), for soft shadows' blockers
            self.root.set_shader_input(ShaderInput(f"shadow_depth_{slot}", texture, _DEPTHS))
            self.root.set_shader_input(f"shadow_matrix_{slot}", to_panda(matrix))
            self.root.set_shader_input(f"shadow_offset_{slot}", 1.5 * texel)
            self.root.set_shader_input(f"shadow_soft_{slot}", LVecBase2f(*soft))

    def _read_passes(self) -> RenderedPasses:
        read = self._readback.read
        color = read(self._targets.color, np.uint8, 3)  # RGB straight from GL: no slow [:, :, :3]
        label = read(self._targets.label, np.float32, 4)
        if self._targets.normal is not None:
            normal = read(self._targets.normal, np.float32, 3)
        else:
            normal = np.zeros((self.height, self.width, 3), np.float32)
        return RenderedPasses(
            color=np.ascontiguousarray(color),
            instance=label[:, :, 0].astype(np.uint32),  # ids are exact in float32
            depth=np.ascontiguousarray(label[:, :, 1]),
            distance=np.ascontiguousarray(label[:, :, 2]),
            normal=np.ascontiguousarray(normal),
        )

    def close(self) -> None:
        self._entities.node().remove_all_children()
        self._shadows.close(self._engine)
        if self._radiance is not None:
            self._radiance.close(self._engine)
        self._engine.remove_all_windows()
