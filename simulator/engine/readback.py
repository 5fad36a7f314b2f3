"""Reading render targets back into numpy arrays.

Panda3D's read-back (`GraphicsEngine.extract_texture_data`) allocates and zero-fills a new
image for every read: for a 640x480 float32 RGBA target that took 2.2 ms on llvmpipe, nearly
all of it page faults. OpenGL 4.5's `glGetTextureImage` reads a texture by its GL name into
memory we own, so each target reads into one array kept for the engine's life (0.1 ms).

The fast path is checked once per target against Panda3D's own read-back (the same pixels,
bit for bit); where OpenGL 4.5 is missing, or the check fails, every read goes through Panda3D.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from panda3d.core import GraphicsEngine, GraphicsStateGuardian, Texture

from simulator.errors import RenderError

_GL_RED, _GL_RGB, _GL_RGBA = 0x1903, 0x1907, 0x1908
_GL_UNSIGNED_BYTE, _GL_FLOAT = 0x1401, 0x1406
_GL_PACK_ALIGNMENT, _GL_NO_ERROR = 0x0D05, 0
_FORMATS = {1: _GL_RED, 3: _GL_RGB, 4: _GL_RGBA}
_TYPES = {np.dtype(np.uint8): _GL_UNSIGNED_BYTE, np.dtype(np.float32): _GL_FLOAT}


@dataclass(frozen=True)
class _GL:
    """The few OpenGL functions the fast path calls, from the library Panda3D's context uses
    (libglvnd dispatches them to the context current on this thread)."""

    get_texture_image: Callable[..., None]  # (texture, level, format, type, size, pixels)
    # (texture, level, x, y, z, width, height, depth, format, type, size, pixels)
    get_texture_sub_image: Callable[..., None]
    get_integer: Callable[..., None]  # glGetIntegerv(name, int*)
    pixel_store: Callable[..., None]  # glPixelStorei(name, value)
    get_error: Callable[[], int]


@functools.cache
def _gl() -> _GL | None:
    for name in ("libGL.so.1", "libOpenGL.so.0", ctypes.util.find_library("GL")):
        if not name:
            continue
        try:
            library = ctypes.CDLL(name)
            functions = [
                library.glGetTextureImage,
                library.glGetTextureSubImage,
                library.glGetIntegerv,
                library.glPixelStorei,
                library.glGetError,
            ]
        except (OSError, AttributeError):
            continue
        uint, sizei, pointer = ctypes.c_uint, ctypes.c_int, ctypes.c_void_p
        arguments: list[list[Any]] = [
            [uint, ctypes.c_int, uint, uint, sizei, pointer],
            [uint, ctypes.c_int, *[ctypes.c_int] * 3, *[sizei] * 3, uint, uint, sizei, pointer],
            [uint, pointer],
            [uint, ctypes.c_int],
            [],
        ]
        for function, argtypes in zip(functions, arguments, strict=True):
            function.argtypes = argtypes
            function.restype = None
        functions[-1].restype = uint
        return _GL(*functions)
    return None


def _has_gl45(gsg: GraphicsStateGuardian) -> bool:
    version = (gsg.get_driver_version_major(), gsg.get_driver_version_minor())
    return version >= (4, 5) or gsg.has_extension("GL_ARB_direct_state_access")


class Readback:
    """Reads one engine's render targets. `read` returns a view of an array that the next read
    of the same target overwrites: copy what must outlive it."""

    def __init__(
        self, engine: GraphicsEngine, gsg: GraphicsStateGuardian, direct: bool = True
    ) -> None:
        """`direct=False` always reads through Panda3D."""
        self._engine, self._gsg = engine, gsg
        self._gl = _gl() if direct and _has_gl45(gsg) else None
        self._arrays: dict[str, np.ndarray] = {}
        self._checked: set[str] = set()

    @property
    def direct(self) -> bool:
        """Whether targets are read with glGetTextureImage (False: Panda3D's read-back)."""
        return self._gl is not None

    def read(self, texture: Texture, dtype: type, channels: int) -> np.ndarray:
        """A target's pixels as (H, W, channels), top row first, channels in RGBA order."""
        image = self._checked_direct(texture, np.dtype(dtype), channels) if self._gl else None
        return image if image is not None else self.read_panda(texture, dtype, channels)

    def _checked_direct(
        self, texture: Texture, dtype: np.dtype, channels: int
    ) -> np.ndarray | None:
        """The direct read; None, and Panda3D's read-back from then on, where it fails or (on
        a target's first read) disagrees with Panda3D's."""
        try:
            image = self.read_direct(texture, dtype, channels)
        except RenderError:
            self._gl = None
            return None
        if texture.get_name() not in self._checked:
            self._checked.add(texture.get_name())
            if not np.array_equal(image, self.read_panda(texture, dtype.type, channels)):
                self._gl = None
                return None
        return image

    def read_direct(self, texture: Texture, dtype: np.dtype, channels: int) -> np.ndarray:
        """With glGetTextureImage, into this target's array."""
        shape = (texture.get_y_size(), texture.get_x_size(), channels)
        array = self._array(texture.get_name(), shape, dtype)
        pixels = (_FORMATS[channels], _TYPES[dtype], array.nbytes, array.ctypes.data)
        self._call(texture, "get_texture_image", 0, *pixels)
        return array[::-1]

    def read_window(
        self, texture: Texture, dtype: type, channels: int, rows: slice, columns: slice
    ) -> np.ndarray:
        """`read(texture, dtype, channels)[rows, columns]` (slices with a start and a stop,
        inside the image), reading only those pixels where the direct read is on and has been
        checked on this target."""
        if self._gl is None or texture.get_name() not in self._checked:
            return self.read(texture, dtype, channels)[rows, columns]
        top, left = rows.start, columns.start
        height, width = rows.stop - top, columns.stop - left
        shape = (height, width, channels)
        array = self._array(f"{texture.get_name()}:window", shape, np.dtype(dtype), grow=True)
        bottom = texture.get_y_size() - top - height  # GL counts rows from the bottom
        try:
            pixels = (_FORMATS[channels], _TYPES[array.dtype], array.nbytes, array.ctypes.data)
            self._call(
                texture, "get_texture_sub_image", 0, left, bottom, 0, width, height, 1, *pixels
            )
        except RenderError:
            self._gl = None
            return self.read(texture, dtype, channels)[rows, columns]
        return array[::-1]

    def _array(
        self, name: str, shape: tuple[int, ...], dtype: np.dtype, grow: bool = False
    ) -> np.ndarray:
        """The array a target (or a window of it) reads into, kept between reads; with `grow`,
        a view of a larger one kept for windows of any size."""
        size = int(np.prod(shape))
        kept = self._arrays.get(name)
        if grow:
            if kept is None or kept.size < size or kept.dtype != dtype:
                kept = self._arrays[name] = np.empty(max(size, 1), dtype)
            return kept[:size].reshape(shape)
        if kept is None or kept.shape != shape or kept.dtype != dtype:
            kept = self._arrays[name] = np.empty(shape, dtype)
        return kept

    def _call(self, texture: Texture, function: str, *arguments: object) -> None:
        """`function` of _GL called with the texture's GL name and `arguments`, rows packed
        tightly (3-byte pixels need it), then Panda3D's alignment put back; RenderError where
        GL reports an error."""
        context = texture.prepare_now(0, self._gsg.get_prepared_objects(), self._gsg)
        gl = self._gl
        assert gl is not None
        while gl.get_error() != _GL_NO_ERROR:  # errors left by earlier calls are not ours
            pass
        alignment = ctypes.c_int(4)
        gl.get_integer(_GL_PACK_ALIGNMENT, ctypes.byref(alignment))
        gl.pixel_store(_GL_PACK_ALIGNMENT, 1)
        getattr(gl, function)(context.get_native_id(), *arguments)
        error = gl.get_error()
        gl.pixel_store(_GL_PACK_ALIGNMENT, alignment.value)
        if error != _GL_NO_ERROR:
            raise RenderError(f"{function} failed on {texture.get_name()}: {error:#x}")

    def read_panda(self, texture: Texture, dtype: type, channels: int) -> np.ndarray:
        """Through Panda3D: a fresh RAM image, stored bottom row first in BGR(A) order."""
        if not self._engine.extract_texture_data(texture, self._gsg):
            raise RenderError(f"could not read back the {texture.get_name()} target")
        height, width = texture.get_y_size(), texture.get_x_size()
        image: np.ndarray = np.frombuffer(texture.get_ram_image(), dtype)
        image = image.reshape(height, width, -1)[::-1]
        texture.clear_ram_image()
        order = [2, 1, 0, 3][:channels] if image.shape[2] >= 3 else [0]
        return image[:, :, order]
