"""A glTF 2.0 document being written: its one binary buffer, accessors and embedded images.

pygltflib holds the JSON side (its dataclasses are glTF's schema, and it writes the GLB
container); this module lays numpy arrays and PNG images into the binary chunk, each in its
own buffer view, 4-byte aligned, with the min and max that glTF requires of positions.
Arrays and images are added once per key (a mesh shared by ten entities is stored once).
"""

from __future__ import annotations

import io
from collections.abc import Hashable
from typing import Any

import numpy as np
import pygltflib
from PIL import Image

from simulator.scene.textures import TextureImage

GENERATOR = "sim (simulator.export)"
_COMPONENT = {
    np.dtype(np.float32): pygltflib.FLOAT,
    np.dtype(np.uint32): pygltflib.UNSIGNED_INT,
}
_TYPE = {1: pygltflib.SCALAR, 2: pygltflib.VEC2, 3: pygltflib.VEC3, 4: pygltflib.VEC4}


class Document:
    """A `pygltflib.GLTF2` and the bytes of its binary chunk, built up together."""

    def __init__(self) -> None:
        self.gltf = pygltflib.GLTF2(asset=pygltflib.Asset(generator=GENERATOR, version="2.0"))
        self._blob = bytearray()
        self._accessors: dict[Hashable, int] = {}
        self._textures: dict[Hashable, int] = {}
        self._sampler: int | None = None

    def _view(self, data: bytes, target: int | None) -> int:
        self._blob.extend(b"\0" * (-len(self._blob) % 4))
        view = pygltflib.BufferView(
            buffer=0, byteOffset=len(self._blob), byteLength=len(data), target=target
        )
        self._blob.extend(data)
        self.gltf.bufferViews.append(view)
        return len(self.gltf.bufferViews) - 1

    def accessor(self, key: Hashable, array: np.ndarray, indices: bool = False) -> int:
        """The accessor of `array` ((N,) or (N, k): float32 vertex data or uint32 indices),
        added the first time its key is seen."""
        if key in self._accessors:
            return self._accessors[key]
        array = np.ascontiguousarray(array)
        columns = 1 if array.ndim == 1 else array.shape[1]
        target = pygltflib.ELEMENT_ARRAY_BUFFER if indices else pygltflib.ARRAY_BUFFER
        accessor = pygltflib.Accessor(
            bufferView=self._view(array.tobytes(), target),
            componentType=_COMPONENT[array.dtype],
            count=len(array),
            type=_TYPE[columns],
        )
        if not indices:  # required for POSITION, and harmless (and useful) for the rest
            flat = array.reshape(len(array), columns)
            accessor.min = flat.min(axis=0).astype(float).tolist() if len(array) else None
            accessor.max = flat.max(axis=0).astype(float).tolist() if len(array) else None
        self.gltf.accessors.append(accessor)
        self._accessors[key] = len(self.gltf.accessors) - 1
        return self._accessors[key]

    def texture(self, texture: TextureImage, name: str = "") -> int:
        """The glTF texture of an image, embedded as a PNG (rows top first, as glTF's
        images are), sampled with repeat and trilinear filtering; added once per key."""
        if texture.key in self._textures:
            return self._textures[texture.key]
        if self._sampler is None:
            self.gltf.samplers.append(
                pygltflib.Sampler(
                    magFilter=pygltflib.LINEAR, minFilter=pygltflib.LINEAR_MIPMAP_LINEAR
                )
            )
            self._sampler = len(self.gltf.samplers) - 1
        png = io.BytesIO()
        Image.fromarray(texture.image).save(png, format="PNG")
        view = self._view(png.getvalue(), None)
        label = name or texture.source or texture.key
        self.gltf.images.append(pygltflib.Image(bufferView=view, mimeType="image/png", name=label))
        self.gltf.textures.append(
            pygltflib.Texture(sampler=self._sampler, source=len(self.gltf.images) - 1)
        )
        self._textures[texture.key] = len(self.gltf.textures) - 1
        return self._textures[texture.key]

    def add(self, kind: str, item: Any) -> int:
        """Append `item` to the document's list `kind` ("nodes", "meshes", ...); its index."""
        items = getattr(self.gltf, kind)
        items.append(item)
        return len(items) - 1

    def use(self, extension: str) -> None:
        if extension not in self.gltf.extensionsUsed:
            self.gltf.extensionsUsed.append(extension)

    def glb(self) -> bytes:
        """The document as one binary glTF file."""
        blob = bytes(self._blob) + b"\0" * (-len(self._blob) % 4)
        self.gltf.buffers = [pygltflib.Buffer(byteLength=len(blob))]
        self.gltf.set_binary_blob(blob)
        return b"".join(self.gltf.save_to_bytes())
