"""The backends by name (`sim run --backend NAME`), and choosing one from a run's options.

A backend's factory gets the run's options and the spec its remote renderers are built from.
Another backend is added by adding its factory to BACKENDS.
"""

from __future__ import annotations

from collections.abc import Callable

from simulator.errors import UnknownNameError
from simulator.run.backend import Backend, RendererSpec
from simulator.run.in_process import InProcess
from simulator.run.options import RunOptions
from simulator.run.pool import ProcessPool
from simulator.run.ray_backend import Ray

BackendFactory = Callable[[RunOptions, RendererSpec], Backend]


def local(options: RunOptions, spec: RendererSpec) -> Backend:
    """Worker processes on this machine, or this process alone when one is asked for."""
    return InProcess() if options.workers <= 1 else ProcessPool(spec, options.workers)


def on_ray(options: RunOptions, spec: RendererSpec) -> Backend:
    """Actors on the Ray cluster at `options.address`."""
    return Ray(spec, options.address, options.workers)


BACKENDS: dict[str, BackendFactory] = {"local": local, "ray": on_ray}


def backend_for(options: RunOptions, spec: RendererSpec) -> Backend:
    """The backend `options.backend` names, for this run; UnknownNameError (with the closest
    name) for a name that is not in BACKENDS."""
    factory = BACKENDS.get(options.backend)
    if factory is None:
        raise UnknownNameError("backend", options.backend, BACKENDS)
    return factory(options, spec)
