"""USD stages (.usd, .usda, .usdc, .usdz) as model parts, read by Pixar's own library
(`usd-core`, the optional extra `sim[usd]`: 29 MB, no other dependency; sim writes no USD
parser). `scene.models.read_model` loads this module only for USD files, so sim runs without
the extra and says how to install it when a USD file is asked for.

What is read: every `Mesh` prim the stage shows (instance proxies included; invisible prims
and the guide and proxy purposes left out) with its composed transform, its points, faces
(polygons fan-triangulated), normals (or smooth ones computed where it has none), `st`
texture coordinates and `displayColor`, interpolated as authored (vertex, faceVarying,
uniform, constant; indexed primvars too); and the `UsdPreviewSurface` bound to it: diffuse
colour (a value or a `UsdUVTexture` file), metallic, roughness, opacity and emission. USD's
colours are linear, as glTF's are, and are encoded to sRGB here as `Material` keeps them.

Units and axes: the stage's own `metersPerUnit` and `upAxis` (`stage_frame`), so a stage
authored in centimetres with Y up lands in metres with Z up; a `unit` other than "m" given
with the file replaces the stage's `metersPerUnit`.
"""

from __future__ import annotations

import functools
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from PIL import Image
from pxr import Tf, Usd, UsdGeom, UsdShade
from trimesh.visual.color import linear_to_srgb

from simulator.errors import WorldError
from simulator.scene.materials import Material
from simulator.scene.models import MissingAssetWarning
from simulator.scene.textures import TextureImage

_Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
Part = tuple[
    str, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, Material | None
]


def _open(path: str) -> Any:
    try:
        stage = Usd.Stage.Open(path)
    except Tf.ErrorException as error:
        raise WorldError(
            f"cannot read this USD file: {str(error).strip().splitlines()[-1]}",
            file=path,
            hint="is the file complete and a USD layer (.usda text, .usdc crate, .usdz)?",
        ) from None
    if stage is None:
        raise WorldError("cannot open this USD file", file=path)
    return stage


@functools.lru_cache(maxsize=32)
def stage_frame(path: str) -> tuple[np.ndarray, float]:
    """(rotation from the stage's axes to sim's Z up, the stage's metres per unit)."""
    return _frame(_open(path))


def _frame(stage: Any) -> tuple[np.ndarray, float]:
    up = UsdGeom.GetStageUpAxis(stage)
    rotation = _Y_UP_TO_Z_UP if up == UsdGeom.Tokens.y else np.eye(3)
    return rotation, float(UsdGeom.GetStageMetersPerUnit(stage))


def read_parts(path: str, scale: float | None) -> list[Part]:
    """Every shown mesh of the stage in sim's frame, in metres (`scale` metres per unit, or
    None for the stage's own), one part per prim: (name, vertices, normals, uvs, triangles,
    colours, material)."""
    stage = _open(path)
    rotation, metres = _frame(stage)  # from the stage read here: the file is opened once
    scale = metres if scale is None else scale
    cache = UsdGeom.XformCache(Usd.TimeCode.Default())
    parts = []
    for prim in Usd.PrimRange(stage.GetPseudoRoot(), Usd.TraverseInstanceProxies()):
        if not prim.IsA(UsdGeom.Mesh) or not _shown(prim):
            continue
        part = _mesh(prim, cache.GetLocalToWorldTransform(prim), rotation, scale, path)
        if part is not None:
            parts.append(part)
    return parts


def _shown(prim: Any) -> bool:
    imageable = UsdGeom.Imageable(prim)
    if imageable.ComputeVisibility() == UsdGeom.Tokens.invisible:
        return False
    return imageable.ComputePurpose() in (UsdGeom.Tokens.default_, UsdGeom.Tokens.render)


def _fan(counts: np.ndarray) -> np.ndarray:
    """Fan triangles of polygons with these corner counts, as indices of their corners."""
    starts = np.cumsum(counts) - counts
    triangles = []
    for k in range(1, int(counts.max(initial=0)) - 1):
        first = starts[counts > k + 1]
        triangles.append(np.stack([first, first + k, first + k + 1], 1))
    if not triangles:
        return np.zeros((0, 3), np.int64)
    # polygon order, then fan order within each polygon
    faces = np.concatenate(triangles)
    order = np.lexsort((faces[:, 1], faces[:, 0]))
    return faces[order]


def _primvar(mesh: Any, name: str) -> tuple[np.ndarray, str] | None:
    """A primvar's values per point or per corner ("vertex" / "faceVarying"), flattened to
    its indices, with its interpolation; None where the mesh has none."""
    primvar = UsdGeom.PrimvarsAPI(mesh).GetPrimvar(name)
    if not primvar or not primvar.HasValue():
        return None
    values = primvar.ComputeFlattened()
    if values is None or len(values) == 0:
        return None
    return np.asarray(values, float), str(primvar.GetInterpolation())


def _per_corner(
    values: np.ndarray, interpolation: str, points: np.ndarray, counts: np.ndarray
) -> np.ndarray:
    """A primvar spread over the faces' corners, whatever its interpolation."""
    if interpolation == "faceVarying":
        return values
    if interpolation in ("vertex", "varying"):
        return values[points]
    if interpolation == "uniform":  # one per face
        return np.repeat(values, counts, axis=0)
    return np.repeat(values[:1], len(points), axis=0)  # constant


def _mesh(prim: Any, world: Any, rotation: np.ndarray, scale: float, path: str) -> Part | None:
    mesh = UsdGeom.Mesh(prim)
    points = np.asarray(mesh.GetPointsAttr().Get() or [], float).reshape(-1, 3)
    counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get() or [], np.int64)
    corners = np.asarray(mesh.GetFaceVertexIndicesAttr().Get() or [], np.int64)
    if not len(points) or not len(counts) or counts.sum() != len(corners):
        return None
    if corners.min() < 0 or corners.max() >= len(points):
        raise WorldError(f"mesh {prim.GetPath()} indexes points it does not have", file=path)
    triangles = _fan(counts)  # corner indices
    if not len(triangles):
        return None
    if mesh.GetOrientationAttr().Get() == UsdGeom.Tokens.leftHanded:
        triangles = triangles[:, ::-1]
    # Each corner its own vertex: faceVarying normals and uvs stay exact (USD's usual).
    positions = points[corners]
    normals = _normals(mesh, points, corners, counts, triangles)
    st = _primvar(mesh, "st")
    uvs = np.zeros((len(corners), 2)) if st is None else _per_corner(*st, corners, counts)[:, :2]
    color = _primvar(mesh, "displayColor")
    colors = None
    if color is not None and len(color[0]) and color[1] != "constant":
        rgb = linear_to_srgb(np.clip(_per_corner(*color, corners, counts)[:, :3], 0, 1))
        colors = np.column_stack([rgb, np.ones(len(corners))])
    look = _material(prim, path, None if color is None else color[0][0])
    if look is None and colors is not None:
        look = Material(name=str(prim.GetPath()))  # a painted mesh shows its own colours
    linear = rotation @ np.asarray(world, float).T[:3, :3]  # Gf matrices act on row vectors
    offset = rotation @ np.asarray(world, float)[3, :3]
    vertices = (positions @ linear.T + offset) * scale
    normals = np.asarray(normals @ np.linalg.inv(linear), float)
    normals = normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    if np.linalg.det(linear) < 0:  # a mirroring transform turns the faces inside out
        triangles = triangles[:, ::-1]
    return str(prim.GetPath()), vertices, normals, uvs, triangles, colors, look


def _normals(
    mesh: Any, points: np.ndarray, corners: np.ndarray, counts: np.ndarray, triangles: np.ndarray
) -> np.ndarray:
    """The authored normals per corner, else smooth ones (area-weighted over each point's
    faces, computed by trimesh)."""
    authored = _primvar(mesh, "normals")
    if authored is None:
        values = mesh.GetNormalsAttr().Get()
        if values is not None and len(values):
            interpolation = str(mesh.GetNormalsInterpolation())
            authored = (np.asarray(values, float), interpolation)
    if authored is not None:
        values, interpolation = authored
        per_corner = _per_corner(values, interpolation, corners, counts)
        if len(per_corner) == len(corners):
            return per_corner
    welded = trimesh.Trimesh(points, corners[triangles], process=False)
    return np.asarray(welded.vertex_normals)[corners]


def _material(prim: Any, path: str, display: np.ndarray | None) -> Material | None:
    """The UsdPreviewSurface bound to the prim as sim's Material (None: no material)."""
    bound, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
    if not bound:
        if display is None:
            return None
        rgb = linear_to_srgb(np.clip(display[:3], 0, 1))
        return Material(name=str(prim.GetPath()), base_color=(*map(float, rgb), 1.0))  # type: ignore[arg-type]
    shader = bound.ComputeSurfaceSource()[0]
    if not shader or shader.GetIdAttr().Get() != "UsdPreviewSurface":
        return Material(name=str(bound.GetPath()))
    diffuse, texture = _input(shader, "diffuseColor", (0.18, 0.18, 0.18), path)
    emissive, _ = _input(shader, "emissiveColor", (0.0, 0.0, 0.0), path)
    opacity, _ = _input(shader, "opacity", 1.0, path)
    metallic, _ = _input(shader, "metallic", 0.0, path)
    roughness, _ = _input(shader, "roughness", 0.5, path)
    alpha = float(np.asarray(opacity).ravel()[0])
    return Material(
        name=str(bound.GetPath()),
        base_color=(*_srgb(diffuse), alpha),  # type: ignore[arg-type]
        base_color_texture=texture,
        metallic=float(np.asarray(metallic).ravel()[0]),
        roughness=float(np.asarray(roughness).ravel()[0]),
        emissive=_srgb(emissive),  # type: ignore[arg-type]
        alpha_mode="BLEND" if alpha < 1.0 else "OPAQUE",
    )


def _srgb(linear: Any) -> tuple[float, float, float]:
    rgb = linear_to_srgb(np.clip(np.asarray(linear, float).ravel()[:3], 0, 1))
    return float(rgb[0]), float(rgb[1]), float(rgb[2])


def _input(shader: Any, name: str, default: Any, path: str) -> tuple[Any, TextureImage | None]:
    """An input's value, and the texture a UsdUVTexture connected to it reads (its factor
    is then white, as in glTF)."""
    port = shader.GetInput(name)
    if not port:
        return default, None
    sources = port.GetConnectedSources()[0]
    if sources:
        source = UsdShade.Shader(sources[0].source.GetPrim())
        if source.GetIdAttr().Get() == "UsdUVTexture":
            asset = source.GetInput("file").Get()
            file = asset.resolvedPath if asset is not None else ""
            if file and Path(file).is_file():
                image = Image.open(file)
                mode = "RGBA" if "A" in image.getbands() else "RGB"
                texture = TextureImage(np.asarray(image.convert(mode)), source=file)
                return (1.0, 1.0, 1.0), texture
            warnings.warn(
                f"model file {path} names {asset}, which cannot be read: drawn without it "
                "(its material keeps its colour factor)",
                MissingAssetWarning,
                stacklevel=2,
            )
            return default, None
        value = source.GetInput(name).Get() if source.GetInput(name) else None
        return (default if value is None else value), None
    value = port.Get()
    return (default if value is None else value), None
