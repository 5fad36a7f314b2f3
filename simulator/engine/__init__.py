"""The Panda3D engine: offscreen rendering of scenes into color and ground-truth passes."""

from simulator.engine.renderer import Engine

__all__ = ["Engine"]
