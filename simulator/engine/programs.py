"""GLSL programs made once per process from sim's shader sources (engine.shaders).

A Panda3D `Shader` is compiled by a graphics context the first time it draws, once per
`Shader` object: the same source made into two objects is compiled twice (llvmpipe takes tens
of milliseconds a program). Every pass asks here for its program by source, so a source is
one object for every camera, pass and engine of the process.
"""

from __future__ import annotations

from panda3d.core import Shader

from simulator.engine import shaders
from simulator.errors import RenderError

_made: dict[tuple[str, str], Shader] = {}


def program(fragment: str, what: str, vertex: str = shaders.VERTEX) -> Shader:
    """The program of `vertex` and `fragment`; `what` names it in the error if it does not
    compile."""
    shader = _made.get((vertex, fragment))
    if shader is None:
        shader = Shader.make(Shader.SL_GLSL, vertex, fragment)
        if shader is None:
            raise RenderError(f"the {what} shader did not compile")
        _made[vertex, fragment] = shader
    return shader
