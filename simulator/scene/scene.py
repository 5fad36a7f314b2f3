"""The scene of one frame: what is in it, where, and how it looks. Knows nothing of the renderer.

Spawners add `Entity`s, randomizers change entities, lights, the camera and the background;
the engine draws whatever the scene says, and `Scene.record()` is what the frame's label
record keeps of the sampled parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from simulator.scene import lens as lenses
from simulator.scene import transforms
from simulator.scene.effects import ImageEffect
from simulator.scene.environment import Environment
from simulator.scene.materials import Material
from simulator.scene.meshes import TriangleMesh
from simulator.scene.motion import CameraPath, Motion
from simulator.scene.textures import TextureImage


def _vec(values: Any, size: int = 3) -> np.ndarray:
    array = np.asarray(values, dtype=float).reshape(-1)
    if array.size == 1 and size > 1:
        array = np.repeat(array, size)
    if array.size != size:
        raise ValueError(f"expected {size} values, got {values!r}")
    return array


def _round(values: Any, digits: int = 6) -> Any:
    if isinstance(values, np.ndarray):
        return [round(v, digits) for v in values.astype(float).reshape(-1).tolist()]
    if isinstance(values, float):
        return round(values, digits)
    return values


_UNIT_CUBE = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])


@dataclass(frozen=True)
class ModelAsset:
    """A model file loaded by the engine: a path (.gltf, .glb, .egg, .bam, ...) or a Panda3D
    bundled model name such as "models/teapot"."""

    path: str

    @property
    def key(self) -> str:
        return "model:" + self.path


Mesh = TriangleMesh | ModelAsset


@dataclass
class Entity:
    """One object in the scene. `category=None` marks an unlabeled distractor."""

    mesh: Mesh
    category: str | None = None
    position: np.ndarray = field(default_factory=lambda: np.zeros(3))
    hpr: np.ndarray = field(default_factory=lambda: np.zeros(3))
    scale: np.ndarray = field(default_factory=lambda: np.ones(3))
    color: np.ndarray = field(default_factory=lambda: np.array([0.8, 0.8, 0.8]))
    keypoints: dict[str, np.ndarray] = field(default_factory=dict)  # default: the mesh's own
    texture: TextureImage | None = None  # multiplies the base color, by the mesh's uvs
    roughness: float = 0.5  # 0: mirror-like highlights, 1: matte
    metallic: float = 0.0  # 0: dielectric (plastic, wood), 1: metal
    # A whole-object material (a procedural library material, say): when set it replaces
    # color, texture, roughness and metallic on the mesh's parts that have no material of
    # their own (a model file's materials still win on their groups).
    material: Material | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    instance_id: int = 0
    # In a clip (docs/time.md): the pose at each of the clip's frames, and the velocity (m/s)
    # and spin (rad/s about world axes) of the frame shown, which the record keeps.
    motion: Motion | None = None
    velocity: np.ndarray | None = None
    spin: np.ndarray | None = None
    # The frame of its clip it joins the scene at (a spawner's count animated over the clip:
    # the clip's scene holds every object it can, each frame only those that have joined).
    appears: int = 0
    # matrix(), cached for the pose (position, hpr and scale, as bytes) it was computed from
    _pose_key: bytes = field(default=b"", init=False, repr=False, compare=False)
    _pose: np.ndarray = field(
        default_factory=lambda: np.eye(4), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.position, self.hpr = _vec(self.position), _vec(self.hpr)
        self.scale, self.color = _vec(self.scale), _vec(self.color)

    def matrix(self) -> np.ndarray:
        """4x4 object-to-world transform."""
        key = np.concatenate((self.position, self.hpr, self.scale), axis=None, dtype=float)
        if key.tobytes() != self._pose_key:
            self._pose_key = key.tobytes()
            self._pose = transforms.pose_matrix(self.position, self.hpr, self.scale)
        return self._pose.copy()

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The low and high corners of the box around `outline()`, in the entity's own frame."""
        if isinstance(self.mesh, TriangleMesh):
            return self.mesh.bounds()
        return np.full(3, -0.5), np.full(3, 0.5)

    def outline(self) -> np.ndarray:
        """Points in the entity's own frame whose convex hull encloses its shape: a generated
        mesh's vertices, else the corners of the unit cube every model file is normalised
        into by the engine. For placement, physics and collision tests without the engine."""
        if isinstance(self.mesh, TriangleMesh):
            return self.mesh.vertices.astype(float)
        return _UNIT_CUBE.copy()

    def dimensions(self) -> np.ndarray | None:
        """The object's real extent in metres along its own axes (the mesh's box times the
        scale), for meshes read from model files (keys `model:...`); None for others."""
        if not (isinstance(self.mesh, TriangleMesh) and self.mesh.key.startswith("model:")):
            return None
        low, high = self.mesh.bounds()
        return (high - low) * np.abs(self.scale)

    def record(self) -> dict[str, Any]:
        mesh = self.mesh.key
        dimensions = self.dimensions()
        return {
            "instance_id": self.instance_id,
            "category": self.category,
            "source": self.source,
            "mesh": mesh,
            "position": _round(self.position),
            "hpr": _round(self.hpr),
            "scale": _round(self.scale),
            **({"velocity": _round(self.velocity)} if self.velocity is not None else {}),
            **({"spin": _round(self.spin)} if self.spin is not None else {}),
            **({"appears": self.appears} if self.appears else {}),
            **({"dimensions": _round(dimensions)} if dimensions is not None else {}),
            "color": _round(self.color),
            "roughness": _round(float(self.roughness)),
            "metallic": _round(float(self.metallic)),
            **({"attributes": self.attributes} if self.attributes else {}),
            **({"texture": self.texture.source or self.texture.key} if self.texture else {}),
            **({"material": self.material.record()} if self.material is not None else {}),
        }


LightKind = Literal["ambient", "directional", "point", "spot"]


@dataclass
class Light:
    """A light. Directional lights shine along `direction`; point lights sit at `position`;
    spot lights sit at `position` and shine along `direction` in a cone of half-angle
    `angle` degrees (with a soft edge). Directional and spot lights with `shadows` cast
    shadows (shadow maps); point lights cast none."""

    kind: LightKind = "directional"
    color: np.ndarray = field(default_factory=lambda: np.ones(3))
    intensity: float = 1.0
    direction: np.ndarray = field(default_factory=lambda: np.array([-0.3, 0.5, -1.0]))
    position: np.ndarray = field(default_factory=lambda: np.array([0.0, 0.0, 5.0]))
    angle: float = 30.0
    shadows: bool = False
    # The angular diameter of a directional light's source, degrees (the sun: 0.53; a soft
    # box: 10 to 30): its shadows soften with the distance from what casts them.
    size: float = 0.0

    def __post_init__(self) -> None:
        if self.shadows and self.kind not in ("directional", "spot"):
            raise ValueError(f"only directional and spot lights cast shadows, not {self.kind}")
        self.color, self.direction, self.position = (
            _vec(self.color),
            _vec(self.direction),
            _vec(self.position),
        )

    def matrix(self) -> np.ndarray:
        """4x4 light-to-world in the convention Blender and glTF give lights: at its
        position (point and spot lights), its -Z along its direction (directional and
        spot lights)."""
        m = np.eye(4)
        if self.kind in ("directional", "spot"):
            forward = self.direction / np.linalg.norm(self.direction)
            helper = np.array([0.0, 0.0, 1.0]) if abs(forward[2]) < 0.9 else np.array([1.0, 0, 0])
            x = np.cross(helper, -forward)
            x /= np.linalg.norm(x)
            m[:3, 0], m[:3, 1], m[:3, 2] = x, np.cross(-forward, x), -forward
        if self.kind in ("point", "spot"):
            m[:3, 3] = self.position
        return m

    def record(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "color": _round(self.color),
            "intensity": _round(float(self.intensity)),
        }
        if self.kind in ("directional", "spot"):
            out["direction"] = _round(self.direction)
        if self.kind in ("point", "spot"):
            out["position"] = _round(self.position)
        if self.kind == "spot":
            out["angle"] = _round(float(self.angle))
        if self.shadows:
            out["shadows"] = True
        if self.size:
            out["size"] = _round(float(self.size))
        return out


@dataclass
class CameraState:
    """A camera at `position` looking at `target`, with a horizontal field of view: a
    pinhole, or with a `lens` (then `K` and `lens` are OpenCV's camera matrix and distortion
    model, and the engine draws `render_camera()`, a wider pinhole, remapped by `lens_map()`)."""

    width: int
    height: int
    fov: float = 60.0
    near: float = 0.05
    far: float = 100.0
    position: np.ndarray = field(default_factory=lambda: np.array([0.0, -6.0, 3.0]))
    target: np.ndarray = field(default_factory=lambda: np.zeros(3))
    roll: float = 0.0
    lens: lenses.Lens | None = None
    path: CameraPath | None = None  # in a clip: the pose at each of its frames (docs/time.md)
    # cam_to_world and its inverse, cached for the pose they were computed from
    _pose_key: tuple[float, ...] = field(default=(), init=False, repr=False, compare=False)
    _pose: np.ndarray = field(
        default_factory=lambda: np.eye(4), init=False, repr=False, compare=False
    )
    _world_to_cam: np.ndarray = field(
        default_factory=lambda: np.eye(4), init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.position, self.target = _vec(self.position), _vec(self.target)

    @property
    def K(self) -> np.ndarray:
        return transforms.intrinsics(self.width, self.height, self.fov)

    def lens_map(self) -> lenses.LensMap | None:
        """Where the distorted frame's pixels look in the pinhole render (None: no lens)."""
        if self.lens is None:
            return None
        return lenses.lens_map(self.lens, self.K, self.width, self.height)

    def render_camera(self) -> CameraState:
        """The pinhole camera the engine draws: this one, or with a lens, the one wide enough
        that every distorted pixel's ray lands inside it (same pose, square pixels)."""
        remap = self.lens_map()
        if remap is None:
            return self
        same = (remap.width, remap.height, remap.focal) == (self.width, self.height, self.K[0, 0])
        fov = self.fov if same else remap.fov()
        return CameraState(
            remap.width,
            remap.height,
            fov,
            self.near,
            self.far,
            self.position.copy(),
            self.target.copy(),
            self.roll,
        )

    def moved(self, offset: np.ndarray) -> CameraState:
        """This camera moved by `offset` (metres, in its own OpenCV axes: x right, y down,
        z forward), turned alike: another camera of a rig, with the same intrinsics."""
        shift = self.cam_to_world()[:3, :3] @ np.asarray(offset, dtype=np.float64)
        return replace(self, position=self.position + shift, target=self.target + shift)

    def cam_to_world(self) -> np.ndarray:
        key = (*self.position.tolist(), *self.target.tolist(), float(self.roll))
        if self._pose_key != key:
            self._pose_key = key
            self._pose = transforms.look_at(self.position, self.target, roll=self.roll)
            self._world_to_cam = np.linalg.inv(self._pose)
        return self._pose.copy()

    def world_to_cam(self) -> np.ndarray:
        """Inverse of `cam_to_world`."""
        self.cam_to_world()
        return self._world_to_cam.copy()

    def record(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "fov": _round(float(self.fov)),
            "fov_vertical": _round(transforms.vertical_fov(self.width, self.height, self.fov)),
            "near": self.near,
            "far": self.far,
            "position": _round(self.position),
            "target": _round(self.target),
            "roll": _round(float(self.roll)),
            "K": [_round(row) for row in self.K],
            "cam_to_world": [_round(row) for row in self.cam_to_world()],
            **({"lens": self._lens_record()} if self.lens is not None else {}),
        }

    def _lens_record(self) -> dict[str, Any]:
        assert self.lens is not None
        render = self.render_camera()
        return {
            **self.lens.record(),
            "render": {
                "width": render.width,
                "height": render.height,
                "fov": _round(float(render.fov)),
                "K": [_round(row) for row in render.K],
            },
        }


ToneCurve = Literal["clamp", "linear", "aces"]


@dataclass
class Film:
    """What the camera makes of the light arriving at it: exposure, white balance and the
    tone curve that maps radiance to the 8-bit sRGB image. Labels never depend on it.

    The pixel's radiance is multiplied by 2**`exposure` (stops; +1 doubles), by the metering
    gain when `metering` is on (automatic exposure by incident-light metering: the gain that
    renders a white, up-facing surface at the camera's target at 1, as a photographer's
    light meter would set it), and by the `white_balance` gains (linear RGB), then mapped by
    `tone`: "clamp" (clip at 1, 2.2 gamma: sim's fast look), "linear" (clip at 1, the sRGB
    curve: what Blender calls the Standard view) or "aces" (the ACES filmic curve, which rolls
    highlights off instead of clipping them)."""

    exposure: float = 0.0
    metering: bool = False
    white_balance: np.ndarray = field(default_factory=lambda: np.ones(3))
    tone: ToneCurve = "clamp"

    def __post_init__(self) -> None:
        self.white_balance = _vec(self.white_balance)

    def record(self) -> dict[str, Any]:
        return {
            "exposure": _round(float(self.exposure)),
            "metering": self.metering,
            "white_balance": _round(self.white_balance),
            "tone": self.tone,
        }


def default_lights() -> list[Light]:
    return [Light("ambient", intensity=0.35), Light("directional", intensity=0.9)]


@dataclass
class Scene:
    camera: CameraState
    lights: list[Light] = field(default_factory=default_lights)
    background: np.ndarray = field(default_factory=lambda: np.array([0.1, 0.1, 0.12]))
    entities: list[Entity] = field(default_factory=list)
    effects: list[ImageEffect] = field(default_factory=list)  # applied to the RGB pass only
    background_image: TextureImage | None = None  # fills the frame behind everything
    # Light from every direction (image-based lighting). Seen behind the scene unless a
    # background image is set or `show_environment` is off (then the background colour is);
    # it lights the scene either way.
    environment: Environment | None = None
    show_environment: bool = True
    film: Film = field(default_factory=Film)

    def add(self, entity: Entity) -> Entity:
        """Add an entity and give it the next instance id (1, 2, ...; 0 is background)."""
        entity.instance_id = len(self.entities) + 1
        self.entities.append(entity)
        return entity

    def select(self, targets: Iterable[str] | None = None) -> list[Entity]:
        """Entities whose category or source (spawner name) is in `targets`; all if None."""
        if targets is None:
            return list(self.entities)
        wanted = set(targets)
        return [e for e in self.entities if e.category in wanted or e.source in wanted]

    def __iter__(self) -> Iterator[Entity]:
        return iter(self.entities)

    def record(self, camera: bool = True) -> dict[str, Any]:
        """The sampled scene; `camera=False` leaves the camera out (records keep it apart)."""
        return {
            **({"camera": self.camera.record()} if camera else {}),
            "lights": [light.record() for light in self.lights],
            "background": _round(self.background),
            "entities": [e.record() for e in self.entities],
            **({"effects": [e.record() for e in self.effects]} if self.effects else {}),
            **(
                {"background_image": self.background_image.source or self.background_image.key}
                if self.background_image
                else {}
            ),
            **({"environment": self.environment.record()} if self.environment else {}),
            "film": self.film.record(),
        }
