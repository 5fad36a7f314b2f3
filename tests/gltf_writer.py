"""Writes small glTF 2.0 files (JSON + embedded buffer, or binary GLB) from a TriangleMesh,
so model-loading tests need no downloaded assets."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np

from simulator.scene.meshes import TriangleMesh


def _document(mesh: TriangleMesh, uri: str | None, blob: bytes) -> dict:
    n, m = len(mesh.vertices), mesh.triangles.size
    buffer = {"byteLength": len(blob)} | ({"uri": uri} if uri else {})
    return {
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "materials": [{"pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1]}}],
        "meshes": [
            {
                "primitives": [
                    {"attributes": {"POSITION": 0, "NORMAL": 1}, "indices": 2, "material": 0}
                ]
            }
        ],
        "buffers": [buffer],
        "bufferViews": [
            {"buffer": 0, "byteOffset": 0, "byteLength": 12 * n},
            {"buffer": 0, "byteOffset": 12 * n, "byteLength": 12 * n},
            {"buffer": 0, "byteOffset": 24 * n, "byteLength": 4 * m},
        ],
        "accessors": [
            {
                "bufferView": 0,
                "componentType": 5126,
                "count": n,
                "type": "VEC3",
                "min": mesh.vertices.min(0).tolist(),
                "max": mesh.vertices.max(0).tolist(),
            },
            {"bufferView": 1, "componentType": 5126, "count": n, "type": "VEC3"},
            {"bufferView": 2, "componentType": 5125, "count": m, "type": "SCALAR"},
        ],
    }


def _blob(mesh: TriangleMesh) -> bytes:
    return (
        mesh.vertices.astype("<f4").tobytes()
        + mesh.normals.astype("<f4").tobytes()
        + mesh.triangles.astype("<u4").tobytes()
    )


def write_gltf(mesh: TriangleMesh, path: Path) -> Path:
    """glTF uses Y up; the mesh is written as is (the loader converts to Panda3D's Z up)."""
    blob = _blob(mesh)
    uri = "data:application/octet-stream;base64," + base64.b64encode(blob).decode()
    path.write_text(json.dumps(_document(mesh, uri, blob)))
    return path


def write_glb(mesh: TriangleMesh, path: Path) -> Path:
    blob = _blob(mesh)
    blob += b"\0" * (-len(blob) % 4)
    text = json.dumps(_document(mesh, None, blob)).encode()
    text += b" " * (-len(text) % 4)
    chunks = (
        struct.pack("<II", len(text), 0x4E4F534A)
        + text
        + struct.pack("<II", len(blob), 0x004E4942)
        + blob
    )
    path.write_bytes(struct.pack("<III", 0x46546C67, 2, 12 + len(chunks)) + chunks)
    return path


def stretched_box() -> TriangleMesh:
    """A 2 x 1 x 0.5 box (so normalisation to a unit longest side is visible)."""
    from simulator import meshes

    box = meshes.box()
    return TriangleMesh(box.vertices * np.array([2.0, 1.0, 0.5]), box.normals, box.triangles)
