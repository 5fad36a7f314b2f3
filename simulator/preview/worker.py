"""The preview's render thread: it owns the `Renderer`, so every GL call of the capture
engine happens on that one thread.

libglvnd lets a thread have a GLX or an EGL context current, never both (eglMakeCurrent
fails with EGL_BAD_ACCESS, glXMakeCurrent with BadAccess). The window (GLX) lives on the
main thread; the capture engine, the very EGL `Engine` that `sim run` uses, lives here.
"""

from __future__ import annotations

import dataclasses
import sys
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from simulator.capture.frame import Renderer
from simulator.errors import SimError
from simulator.labels.records import FrameLabels
from simulator.preview.keys import Orbit
from simulator.preview.picture import Picture
from simulator.preview.traced import rasterized
from simulator.world.schema import World


@dataclass(frozen=True)
class Job:
    """Render frame `index` of world `version`; with `world`, first replace the renderer by
    one for that world (a reload: the old one stays if this fails); with `orbit`, also
    render the frame's scene from that free camera."""

    version: int
    index: int
    world: World | None = None
    orbit: Orbit | None = None


@dataclass
class Done:
    job: Job
    picture: Picture | None = None
    error: str | None = None
    seconds: float = 0.0  # capture render time; 0 when the frame was already rendered


class RenderThread:
    """Runs jobs one at a time on its own thread; `poll` hands back the finished one."""

    def __init__(self, plugins_dirs: Sequence[Path] = ()) -> None:
        self._plugins_dirs = list(plugins_dirs)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sim-preview-render")
        self._future: Future[Done] | None = None
        self._renderer: Renderer | None = None
        self._labels: FrameLabels | None = None  # the last captured frame, reused

    @property
    def busy(self) -> bool:
        return self._future is not None

    def submit(self, job: Job) -> None:
        if self._future is not None:
            raise RuntimeError("a render job is still running")
        self._future = self._pool.submit(self._run, job)

    def poll(self) -> Done | None:
        """The finished job, once; None while it runs or when there is none."""
        if self._future is None or not self._future.done():
            return None
        done, self._future = self._future.result(), None
        return done

    def wait(self) -> Done:
        """Block until the running job is done."""
        assert self._future is not None
        done, self._future = self._future.result(), None
        return done

    def _run(self, job: Job) -> Done:
        try:
            seconds = self._replace(job.world, job.index) if job.world else 0.0
            if self._renderer is None:
                raise SimError("no world is loaded")
            labels = self._labels
            if labels is None or labels.index != job.index:
                self._labels = None
                labels, seconds = self._capture(self._renderer, job.index)
                self._labels = labels
            picture = self._picture(self._renderer, labels, job.orbit)
            return Done(job, picture, seconds=seconds)
        except SimError as error:
            return Done(job, error=str(error))
        except Exception as error:  # a bug, not the user's: keep the window up, say where
            traceback.print_exc(file=sys.stderr)
            return Done(job, error=f"{type(error).__name__}: {error}")

    @staticmethod
    def _capture(renderer: Renderer, index: int) -> tuple[FrameLabels, float]:
        """Frame `index` rendered and labeled as `sim run` does it, and the seconds it took."""
        began = time.perf_counter()
        labels = renderer.frame(index)
        return labels, time.perf_counter() - began

    def _replace(self, world: World, index: int) -> float:
        """A renderer for `world` that rendered frame `index`, or the old one on failure. A
        Cycles world is drawn by the rasterizer here (preview/traced.py)."""
        renderer = Renderer(rasterized(world), self._plugins_dirs)
        try:
            labels, seconds = self._capture(renderer, index)
        except BaseException:
            renderer.close()
            raise
        if self._renderer is not None:
            self._renderer.close()
        self._renderer, self._labels = renderer, labels
        return seconds

    @staticmethod
    def _picture(renderer: Renderer, labels: FrameLabels, orbit: Orbit | None) -> Picture:
        keypoints = renderer.pipeline.keypoints
        picture = Picture(
            labels,
            list(renderer.pipeline.categories),
            {c: [list(pair) for pair in schema.skeleton] for c, schema in keypoints.items()},
        )
        if orbit is not None:
            picture.free_camera = orbit.camera(labels.scene.camera)
            scene = dataclasses.replace(labels.scene, camera=picture.free_camera)
            picture.free = renderer.engine.render(scene)
        return picture

    def close(self) -> None:
        """Finish the running job, then close the renderer on its own thread."""
        if self._future is not None:
            self._future.result()
            self._future = None
        if self._renderer is not None:
            self._pool.submit(self._renderer.close).result()
            self._renderer = None
        self._pool.shutdown(wait=True)
