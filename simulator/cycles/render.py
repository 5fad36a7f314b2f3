"""The Cycles renderer: one Blender scene per process, kept in step with sim's scenes
(cycles.scene), rendered to a linear float image and developed by sim's own film
(cycles.film), so that only the light transport differs from the engine's.

The render is read back as an uncompressed multilayer EXR in a private temporary folder (the
Render Result has no pixels Python can read; the EXR round trip costs about 3 ms at 64 x 48),
through OpenEXR, which sim already reads HDR maps with.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import bpy
import numpy as np
import OpenEXR
from PIL import Image

from simulator.cycles import Shutter
from simulator.cycles.devices import choose_device
from simulator.cycles.film import develop
from simulator.cycles.meshes import Drawn
from simulator.cycles.scene import SceneSync
from simulator.errors import RenderError
from simulator.scene.scene import Scene

COMBINED = "ViewLayer.Combined."
OBJECT_INDEX = "ViewLayer.Object Index.X"


def _blender_scripts_last() -> None:
    """Blender puts its script folders at the front of sys.path (again at every factory
    reset), and `bpy` itself is the pure-Python package in one of them, which needs the
    compiled module loaded first. A worker process spawned from here inherits sys.path, so
    it would find that package before the compiled one and fail: behind everything else the
    folders still serve the modules Blender imports from them."""
    scripts = str(Path(bpy.__file__).resolve().parents[2])  # .../scripts/modules/bpy/
    found = [p for p in sys.path if p == scripts or p.startswith(scripts + "/")]
    sys.path[:] = [p for p in sys.path if p not in found] + found


class CyclesRenderer:
    """Renders sim scenes path-traced. One per process: Blender's scene is global, and
    opening another renderer resets it (this one then refuses to render)."""

    current: CyclesRenderer | None = None

    def __init__(
        self,
        width: int,
        height: int,
        drawn: Drawn,
        samples: int = 64,
        denoise: bool = False,
        device: str = "auto",
    ) -> None:
        bpy.ops.wm.read_factory_settings(use_empty=True)
        _blender_scripts_last()
        CyclesRenderer.current = self
        self.width, self.height, self.samples = width, height, samples
        scene = self.scene = bpy.context.scene
        scene.render.engine = "CYCLES"
        render = scene.render
        render.resolution_x, render.resolution_y, render.resolution_percentage = width, height, 100
        render.pixel_aspect_x = render.pixel_aspect_y = 1.0
        render.use_persistent_data = True  # keep the scene's BVH and images between frames
        render.use_compositing = False
        render.use_sequencer = False
        settings = render.image_settings
        settings.media_type = "MULTI_LAYER_IMAGE"
        settings.file_format = "OPEN_EXR_MULTILAYER"
        settings.color_depth = "32"
        settings.exr_codec = "NONE"
        scene.view_settings.view_transform = "Standard"
        scene.view_settings.look = "None"
        scene.view_settings.exposure = 0.0
        scene.view_settings.gamma = 1.0
        cycles = scene.cycles
        cycles.device = choose_device(device)
        cycles.samples = samples
        cycles.use_adaptive_sampling = False
        cycles.use_denoising = denoise
        if denoise:
            cycles.denoiser = "OPENIMAGEDENOISE"
        cycles.use_animated_seed = False
        self.sync = SceneSync(scene, drawn)
        self._folder = Path(tempfile.mkdtemp(prefix="sim-cycles-"))

    def render(
        self, scene: Scene, gain: np.ndarray, seed: int, shutter: Shutter | None = None
    ) -> np.ndarray:
        """The frame's 8-bit sRGB image (H, W, 3): Cycles' radiance through sim's film
        (`gain`: engine.film.film_gain of the scene), deterministic for a `seed`; with
        `shutter`, the light gathered while it is open (cycles.motion)."""
        self._check(scene)
        behind = self._behind(scene)
        self.scene.render.film_transparent = behind is not None
        channels = self._render(scene, seed, shutter)
        rgba = np.stack([channels[COMBINED + c] for c in "RGBA"], axis=-1)
        return develop(rgba, gain, scene.film.tone, behind)

    def render_index(self, scene: Scene) -> np.ndarray:
        """Cycles' object-index pass (H, W) uint32 at one sample through each pixel's centre
        (a pixel filter 0.01 px wide): which entity each pixel sees, for checking that the
        Cycles image lines up with sim's instance mask."""
        self._check(scene)
        cycles, layer = self.scene.cycles, self.scene.view_layers[0]
        kept = (cycles.samples, cycles.filter_width, cycles.use_denoising)
        cycles.samples, cycles.filter_width, cycles.use_denoising = 1, 0.01, False
        layer.use_pass_object_index = True
        try:
            channels = self._render(scene, 0)
        finally:
            cycles.samples, cycles.filter_width, cycles.use_denoising = kept
            layer.use_pass_object_index = False
        return np.rint(channels[OBJECT_INDEX]).astype(np.uint32)

    def _render(
        self, scene: Scene, seed: int, shutter: Shutter | None = None
    ) -> dict[str, np.ndarray]:
        self.sync.set(scene, shutter)
        self.scene.cycles.seed = seed
        bpy.ops.render.render()
        path = self._folder / "frame.exr"
        bpy.data.images["Render Result"].save_render(str(path))
        with OpenEXR.File(str(path), separate_channels=True) as exr:
            return {
                name: np.array(channel.pixels, np.float32)
                for part in exr.parts
                for name, channel in part.channels.items()
            }

    def _check(self, scene: Scene) -> None:
        if CyclesRenderer.current is not self:
            raise RenderError("another Cycles renderer was opened in this process since this one")
        camera = scene.camera
        if (camera.width, camera.height) != (self.width, self.height):
            raise RenderError(
                f"camera is {camera.width}x{camera.height} but Cycles renders "
                f"{self.width}x{self.height}"
            )

    def _behind(self, scene: Scene) -> np.ndarray | None:
        """What the camera sees where no surface is: None where it is the environment (the
        film stays opaque); else the background image or colour, laid on after the film."""
        if scene.background_image is not None:
            picture = Image.fromarray(scene.background_image.image[..., :3])
            resized = picture.resize((self.width, self.height), Image.Resampling.BILINEAR)
            return np.asarray(resized, np.float32) / 255
        if scene.environment is not None and scene.show_environment:
            return None
        return np.clip(np.asarray(scene.background, np.float32), 0.0, 1.0)

    def close(self) -> None:
        shutil.rmtree(self._folder, ignore_errors=True)
        if CyclesRenderer.current is self:
            CyclesRenderer.current = None
            bpy.ops.wm.read_factory_settings(use_empty=True)
            _blender_scripts_last()
