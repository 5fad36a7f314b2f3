"""One frame from index to labels: build the scene, render it, derive its ground truth."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from simulator.capture.pipeline import Pipeline, host_for, rerender_hint
from simulator.cycles import cycles_for, frame_seed
from simulator.engine import Engine
from simulator.engine.film import film_gain
from simulator.errors import PluginError
from simulator.labels.derive import derive
from simulator.labels.records import FrameLabels
from simulator.scene.effects import apply_all
from simulator.scene.meshes import DrawnMesh
from simulator.scene.scene import Mesh
from simulator.world.schema import World


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
        self.engine = Engine(
            width,
            height,
            normals="normals" in world.output.labels,
            antialias=0 if self.cycles else int(world.render.setting("antialias")),  # type: ignore[call-overload]
            contact_occlusion=bool(world.render.setting("ambient_occlusion")),
        )

    def _drawn(self, mesh: Mesh) -> DrawnMesh:
        """A mesh as the engine draws it (for Cycles)."""
        return self.engine.geometry.drawn(mesh)

    def frame(self, index: int, hooks: bool = True) -> FrameLabels:
        """Build, render and label frame `index` (with the frame hooks, unless told not to)."""
        seed = self.world.world.seed
        scene = self.pipeline.build_scene(index)
        if hooks:
            self._hook("sim_frame_start", index, frame=index, seed=seed, scene=scene)
        passes = self.engine.render(scene)
        if self.cycles is not None:
            gain = film_gain(scene, self.engine.environments)
            passes.color = self.cycles.render(scene, gain, frame_seed(seed, index))
        if scene.effects:  # the sensor's doing: the RGB changes, the labels do not
            passes.color = apply_all(passes.color, scene.effects)
        labels = derive(
            index,
            self.world.world.seed,
            scene,
            passes,
            self.pipeline.categories,
            self.world.output.labels,
            self.engine,
            self.pipeline.keypoints,
        )
        self.pipeline.label(labels)
        if hooks:
            self._hook("sim_after_capture", index, frame=labels)
        return labels

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
        self.engine.close()
