"""One frame from index to labels: build the scene, render it, derive its ground truth."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache, partial
from pathlib import Path

import numpy as np

from simulator.capture.blur import exposed
from simulator.capture.neighbours import FIRST, Drawn, Neighbours
from simulator.capture.pipeline import Pipeline, host_for, rerender_hint
from simulator.capture.traced import traced
from simulator.cycles import cycles_for, frame_seed
from simulator.engine import Engine
from simulator.engine.film import film_gain
from simulator.engine.source import SceneSource
from simulator.errors import PluginError, RenderError
from simulator.labels import rig, tracks
from simulator.labels.derive import LabelSource, derive
from simulator.labels.flow import MotionFields, motion_fields, no_frame
from simulator.labels.records import FrameLabels, RenderedPasses, TrackFrame, TrackPoints
from simulator.labels.remap import LensSource, remap_color, remap_passes
from simulator.scene.effects import apply_all
from simulator.scene.meshes import DrawnMesh
from simulator.scene.scene import CameraState, Mesh, Scene
from simulator.seeding import stream
from simulator.world.schema import RigSection, World

# Render sizes whose engines a lens keeps besides the frame's own.
WIDE_ENGINES = 2
# The stream a clip's track points are drawn from (with the seed and the clip's index).
TRACKS_STREAM = "label:point_tracks"


class Renderer:
    """A pipeline and an engine: renders and labels any frame index of a world."""

    def __init__(
        self,
        world: World,
        plugins_dirs: Iterable[Path] = (),
        trace: bool | None = None,
        *,
        plugins: Iterable[object] = (),
    ) -> None:
        self.world = world
        self.host = host_for(world, plugins_dirs, trace, plugins=plugins)
        self.pipeline = Pipeline(world, self.host)
        width, height = world.camera.resolution
        # With [render] renderer = "cycles" the RGB comes from Cycles, the labels from the
        # engine (which then draws no multisampled colour of its own).
        self.cycles = cycles_for(world.render, width, height, self._drawn)
        self.engine = self._engine(width, height)
        # Lens frames are drawn wider: engines by render size, the most recent last.
        self._wide: dict[tuple[int, int], Engine] = {}
        # In a clip with flow: each camera's next frame drawn ahead (its passes are reused when
        # it is asked for next) and its previous frame kept.
        self._neighbours = Neighbours(self.pipeline.build_scene, self._render, self._view)
        self._points: dict[int, TrackPoints] = {}  # the query points of the latest clip

    def _engine(self, width: int, height: int) -> Engine:
        return Engine(
            width,
            height,
            normals="normals" in self.world.output.labels,
            antialias=0 if self.cycles else self.world.render.setting("antialias"),  # type: ignore[arg-type]
            contact_occlusion=bool(self.world.render.setting("ambient_occlusion")),
        )

    def _engine_for(self, camera: CameraState) -> Engine:
        """The engine that draws `camera` (a lens's wide render: kept for the next two)."""
        size = (camera.width, camera.height)
        if size == (self.engine.width, self.engine.height):
            return self.engine
        engine = self._wide.pop(size, None) or self._engine(*size)
        self._wide[size] = engine
        while len(self._wide) > WIDE_ENGINES:
            self._wide.pop(next(iter(self._wide))).close()
        return engine

    def _drawn(self, mesh: Mesh) -> DrawnMesh:
        """A mesh as the engine draws it (for Cycles)."""
        return self.engine.geometry.drawn(mesh)

    def frame(self, index: int, hooks: bool = True) -> FrameLabels:
        """Build, render and label frame `index` (with the frame hooks, unless told not to);
        in a rig, the other cameras' frames in `views`, all of the one scene."""
        seed = self.world.world.seed
        ahead = self._neighbours.take(index)
        first = ahead.get(FIRST)
        scene = first[0] if first else self.pipeline.build_scene(index)
        if hooks:  # in a clip with flow, a frame drawn ahead was drawn before this hook
            self._hook("sim_frame_start", index, frame=index, seed=seed, scene=scene)
        drawn = (first[1], first[2]) if first else self._render(scene)
        subframe: Callable[[float], Scene] = partial(self.pipeline.subframe_scene, index, scene)
        rig_section = self.world.camera.rig
        if rig_section is not None:  # every camera sees the one scene at each sub-frame time
            subframe = cache(subframe)
        labels = self._capture(index, scene, drawn, subframe)
        if rig_section is not None:
            self._rig(index, scene, labels, rig_section, ahead, subframe)
        if hooks:
            self._hook("sim_after_capture", index, frame=labels)
        return labels

    def _capture(
        self,
        index: int,
        scene: Scene,
        drawn: tuple[RenderedPasses, LabelSource],
        subframe: Callable[[float], Scene],
        camera: str = "",
    ) -> FrameLabels:
        """One camera's frame from its passes: film, labels, its place in the clip (its RGB
        blurred over the shutter from `subframe(t)`, its scene at fractional frame t; its flow
        and point tracks), sensor effects and labelers (which see `camera_name` set on a rig's
        other cameras, to draw their own noise)."""
        passes, source = drawn
        if self.cycles is not None:
            passes.color = self._path_traced(index, scene, subframe)
        labels = derive(
            index,
            self.world.world.seed,
            scene,
            passes,
            self.pipeline.categories,
            self.world.output.labels,
            source,
            self.pipeline.keypoints,
        )
        labels.camera_name = camera
        if self.world.clip is not None:
            labels.clip = self.pipeline.clip_frame(index)
            blurred = None
            if self.cycles is None:  # Cycles blurs its own (_path_traced)
                blurred = exposed(
                    scene,
                    labels.clip,
                    self.world.clip.shutter,
                    self.world.clip.blur_samples,
                    subframe,
                    self._radiance,
                    self.engine.develop,
                )
            if blurred is not None:  # drawn after the labels: they keep the centre's passes
                passes.color = blurred
            wanted = self.world.output.labels
            if "flow" in wanted or "scene_flow" in wanted:
                self._flow(labels, camera)
            if "point_tracks" in wanted:
                labels.point_tracks = self._track_frame(labels)
        if scene.effects:  # the sensor's doing: the RGB changes, the labels do not
            passes.color = apply_all(passes.color, scene.effects)
        self.pipeline.label(labels)
        return labels

    def _path_traced(
        self, index: int, scene: Scene, subframe: Callable[[float], Scene]
    ) -> np.ndarray:
        """The frame's RGB from Cycles; in a clip with the shutter open, blurred by Cycles
        over it (capture.traced), from `subframe(t)`, the scene at fractional frame t."""
        assert self.cycles is not None
        seed, clip = frame_seed(self.world.world.seed, index), self.world.clip
        gain = partial(film_gain, environments=self.engine.environments)
        if clip is None:
            return self.cycles.render(scene, gain(scene), seed)
        at = self.pipeline.clip_frame(index)
        lit, mean_gain, shutter = traced(scene, at, clip.shutter, clip.blur_samples, subframe, gain)
        return self.cycles.render(lit, mean_gain, seed, shutter)

    def _rig(
        self,
        index: int,
        scene: Scene,
        labels: FrameLabels,
        section: RigSection,
        ahead: dict[str, Drawn],
        subframe: Callable[[float], Scene],
    ) -> None:
        """The rig's other cameras, each moved from the frame's (as randomizers left it);
        their passes drawn `ahead` for the previous frame's flow are used, not drawn again.
        Blurred, each sees the first camera's sub-frame scene (`subframe`) from its own pose
        in the rig there."""
        if scene.camera.lens is not None:
            raise RenderError(
                "a stereo rig's cameras are a rectified pair, which a distorting lens is not: "
                "remove the camera_lens randomizer (or [camera.rig])"
            )
        labels.camera_name, labels.rig_pose = rig.first(section), np.eye(4)
        for name, camera, in_rig in rig.views(section, scene.camera):
            moved = replace(scene, camera=camera)
            drawn = ahead[name][1:] if name in ahead else self._render(moved)
            sub = partial(self._subview, subframe, name)
            view = self._capture(index, moved, drawn, sub, name)
            view.rig_pose = in_rig
            labels.views[name] = view
        if section.kind == "stereo":
            focal = float(scene.camera.K[0, 0])
            labels.disparity = rig.disparity(labels.passes.depth, section.baseline, focal)

    def _render(self, scene: Scene) -> tuple[RenderedPasses, LabelSource]:
        """The passes at the camera's size; through a lens, the pinhole render remapped (and
        a label source whose solo and parts passes are remapped alike)."""
        remap = scene.camera.lens_map()
        if remap is None:
            return self.engine.render(scene), SceneSource(self.engine, scene)
        if self.cycles is not None:
            raise RenderError(
                '[render] renderer = "cycles" draws pinhole frames only: remove the lens '
                "([camera.lens] or the camera_lens randomizer) or render with the engine"
            )
        camera = scene.camera.render_camera()
        engine = self._engine_for(camera)
        wide_scene = replace(scene, camera=camera)
        wide = engine.render(wide_scene)
        return remap_passes(remap, wide), LensSource(SceneSource(engine, wide_scene), remap)

    def _view(self, scene: Scene, name: str) -> Scene:
        """The scene as the rig's camera `name` sees it (the first camera's scene given)."""
        assert self.world.camera.rig is not None
        views = rig.views(self.world.camera.rig, scene.camera)
        return replace(scene, camera=next(c for n, c, _ in views if n == name))

    def _subview(self, subframe: Callable[[float], Scene], name: str, time: float) -> Scene:
        """The rig's camera `name` at fractional frame `time`: where its pose in the rig puts
        it about the first camera, as the first camera's sub-frame scene is posed there."""
        return self._view(subframe(time), name)

    def _radiance(self, scene: Scene) -> np.ndarray:
        """The camera's radiance image (motion blur's sub-frames); through a lens, the
        pinhole radiance remapped, so that the frame's engine maps the mean through the tone
        curve (and FXAA after the lens, where the unblurred frame has it before)."""
        remap = scene.camera.lens_map()
        if remap is None:
            return self.engine.render_radiance(scene)
        camera = scene.camera.render_camera()
        wide = self._engine_for(camera).render_radiance(replace(scene, camera=camera))
        return remap_color(remap, wide)

    def _flow(self, labels: FrameLabels, camera: str) -> None:
        """The forward and backward flow (optical, scene or both, as labeled) of `camera`'s
        frame, from its neighbours' scenes and passes as that camera sees them (the previous
        one kept, the next one drawn ahead)."""
        assert labels.clip is not None
        index, clip, passes = labels.index, labels.clip, labels.passes
        self._neighbours.keep(index, camera, labels.scene, passes)
        here = (labels.scene, passes.instance, passes.depth)
        height, width = passes.instance.shape
        for direction, end, other in (
            ("backward", 0, index - 1),
            ("forward", clip.frames - 1, index + 1),
        ):
            if clip.frame == end:
                optical = no_frame(height, width, passes.instance)
                fields = MotionFields(optical, no_frame(height, width, passes.instance, 3))
            else:
                scene, there = self._neighbours.at(index, other, camera)
                fields = motion_fields(
                    *here,
                    scene,
                    there.instance,
                    there.depth,
                    "scene_flow" in self.world.output.labels,
                )
            if "flow" in self.world.output.labels:
                labels.flow[direction] = fields.optical
            if fields.scene is not None and "scene_flow" in self.world.output.labels:
                labels.scene_flow[direction] = fields.scene

    def _track_frame(self, labels: FrameLabels) -> TrackFrame:
        """Where the clip's query points are at this frame; the points are drawn on the
        clip's first call, from the clip's stream and its scene as built (so the same points
        whichever of its frames a run starts at)."""
        assert labels.clip is not None and self.world.clip is not None
        clip = labels.clip
        points = self._points.get(clip.index)
        if points is None:
            rng = stream(self.world.world.seed, clip.index, TRACKS_STREAM)
            base = self.pipeline.clip_scene(labels.index)
            points = tracks.sample_points(
                base, self.world.clip.tracks, rng, self.engine.geometry.arrays
            )
            self._points = {clip.index: points}
        passes = labels.passes
        return tracks.track_frame(
            points, labels.scene, passes.instance, passes.depth, clip.index, clip.frame
        )

    def frame_end(self, frame: FrameLabels) -> None:
        """The sim_frame_end hook, once every writer has the frame."""
        self._hook("sim_frame_end", frame.index, frame=frame)

    def _hook(self, hook: str, index: int, **kwargs: object) -> None:
        """A frame hook; a plugin's error also says how to re-render that frame alone."""
        try:
            self.host.call(hook, **kwargs)
        except PluginError as error:
            raise PluginError(f"{error} {rerender_hint(self.world, index)}") from error.__cause__

    def close(self) -> None:
        if self.cycles is not None:
            self.cycles.close()
        for engine in self._wide.values():
            engine.close()
        self.engine.close()
