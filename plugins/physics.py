"""Randomizers "settle": objects dropped onto a surface with Bullet (inside panda3d) and
simulated until they rest, so they lie as real objects do; and "throw": in a clip, objects
thrown with initial velocities and spins, simulated over the clip (docs/time.md).

Each object collides as its real shape (plugins/collision.py): its mesh's convex hull, or
its convex parts where it is concave (`shape`), scaled as posed; model files drawn by the
engine collide as the unit cube they are normalised into. Supports (a table, a shelf, a bin:
entities named by `supports`) are static, colliding as their hull where convex, as a slab
per flat face where closed (plugins/slabs.py), else as their triangles (`support_shape`).
Shapes are built once per mesh and scale and reused on later frames.

An object is at rest once it has moved slower than `rest_speed` and turned slower than
`rest_spin` for 0.3 s (at each check 0.1 s apart, or on average since the last one: a small
part jitters in place); it is then put to sleep (it wakes if something hits it). Objects
under 10 cm (millimetre parts) are simulated larger than life, with lengths and gravity
scaled alike and shorter steps (`physics_scale`, `_step_to_rest`). The simulation is
deterministic for a given scene: the same frame settles the same way in any process. It
stops when every object sleeps, or after `max_seconds` of simulated time;
objects still moving then keep the pose they reached, marked `attributes.settled = false`.

"throw" steps the same world at a fixed internal step that divides the clip's frame interval
(at most 1/240 s), one step per call so that no pose is ever interpolated, and writes each
object's pose, velocity and spin at every frame time as its motion: they fly, collide, roll
and come to rest (Bullet puts resting bodies to sleep) the same way in any process.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from panda3d.bullet import BulletPlaneShape, BulletRigidBodyNode, BulletWorld
from panda3d.core import LPoint3f, LQuaternionf, LVector3f, NodePath
from pydantic import Field

from sim_plugins.collision import CACHE, ShapeKind, ShapeSpec, SupportKind
from simulator import Entity, FrameContext, Motion, Params, Randomizer, Vec3, hookimpl

STEP = 1.0 / 120.0
CHECK = 12  # steps between rest checks: 0.1 s
QUIET = 3  # checks in a row below the rest thresholds
SMALLEST = 0.1  # metres: smaller objects are simulated larger than life (physics_scale)


class SettleParams(Params):
    surface: float | None = Field(
        0.0, description="Height of the ground plane, metres; none: no ground (supports only)."
    )
    supports: list[str] = Field(
        [],
        description="Categories or spawner names of static scenery the objects land on (a "
        "table, a shelf, a bin): they do not move and collide as their triangles.",
    )
    support_shape: SupportKind = Field(
        "auto",
        description='Supports collide as "mesh" (their triangles), "hull", "slabs" (a convex '
        'slab per flat face: closed meshes), or "auto": the hull where the support is convex '
        "(a box), slabs where it is closed (a bin), else the triangles.",
    )
    drop: float = Field(0.05, ge=0.0, description="Lift every object this far before dropping.")
    max_seconds: float = Field(4.0, gt=0, description="Simulated time before giving up.")
    shape: ShapeKind = Field(
        "hull",
        description='Collision shape: "hull" (convex hull), "decomposition" (convex parts, '
        'for concave objects; needs closed meshes), "auto" (parts where the mesh fills less '
        "than `concavity` of its hull, else the hull).",
    )
    concavity: float = Field(0.7, gt=0, le=1, description='"auto": volume / hull volume cut.')
    max_parts: int = Field(16, ge=1, description="Decomposition: at most this many parts.")
    resolution: int = Field(
        50_000, ge=10_000, description="Decomposition: voxels; more is finer and slower."
    )
    density: float | None = Field(
        None, gt=0, description="kg/m^3: mass = density x volume; none: every object 1 kg."
    )
    friction: float = Field(0.8, ge=0.0, description="Friction of objects, ground and supports.")
    restitution: float = Field(0.1, ge=0.0, le=1.0, description="Bounciness, 0 to 1.")
    damping: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Angular and linear damping: stands in for rolling resistance, which "
        "Bullet lacks (a sphere would roll forever).",
    )
    rest_speed: float = Field(
        0.02,
        gt=0,
        description="At rest below this speed, m/s; where the smallest object is under 10 "
        "cm, divided by the physics scale (about 10 cm / its size).",
    )
    rest_spin: float = Field(0.2, gt=0, description="At rest below this turning rate, rad/s.")

    def spec(self) -> ShapeSpec:
        return ShapeSpec(
            self.shape,
            self.density is not None,
            self.concavity,
            self.max_parts,
            self.resolution,
            self.support_shape,
        )


class Settle(Randomizer[SettleParams]):
    """Drops the targeted objects onto the ground plane (and the supports) and lets them
    come to rest."""

    name = "settle"
    once_per_clip = True  # simulates once per clip: its parameters are not animated

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        supports = ctx.scene.select(self.params.supports) if self.params.supports else []
        # Objects that join the clip later (a rising spawner count) are not there yet: they
        # keep their placed pose, and only throw simulates them, from when they join.
        movers = [e for e in entities if all(e is not s for s in supports) and not e.appears]
        _, bodies, settled = simulate(movers, self.params, supports)
        k = physics_scale(movers)
        for entity, node in bodies:
            entity.position = np.array(node.get_pos(), dtype=float) / k
            entity.hpr = np.array(node.get_hpr(), dtype=float)
            entity.attributes["settled"] = settled


def simulate(
    entities: list[Entity], p: SettleParams, supports: Sequence[Entity] = ()
) -> tuple[BulletWorld, list[tuple[Entity, NodePath]], bool]:
    """Drop `entities` and step until all rest (or time runs out); returns the Bullet world,
    each entity with its body, and whether they came to rest. Entities are not changed. The
    world is `physics_scale(entities)` times larger than life: divide positions by it."""
    k = physics_scale(entities)
    world, bodies = bullet_world(entities, p, supports, k)
    return world, bodies, _step_to_rest(world, [node.node() for _, node in bodies], p, k)


def bullet_world(
    entities: list[Entity], p: SettleParams, supports: Sequence[Entity] = (), k: float = 1.0
) -> tuple[BulletWorld, list[tuple[Entity, NodePath]]]:
    """The ground, the static supports and a body for each entity, lifted by `p.drop`, in a
    world `k` times larger than life (lengths and gravity alike)."""
    world = BulletWorld()
    world.set_gravity(LVector3f(0, 0, -9.81 * k))
    if p.surface is not None:
        ground = BulletRigidBodyNode("ground")
        ground.add_shape(BulletPlaneShape(LVector3f(0, 0, 1), p.surface * k))
        ground.set_friction(p.friction)
        world.attach(ground)
    spec = p.spec()
    for support in supports:
        body = BulletRigidBodyNode(f"support-{support.instance_id}")
        for shape in CACHE.collider(support, spec, static=True, factor=k).shapes:
            body.add_shape(shape)
        body.set_friction(p.friction)
        NodePath(body).set_pos_hpr(*(support.position * k), *support.hpr)
        world.attach(body)
    bodies = [(entity, _body(entity, p, spec, k)) for entity in entities]
    for _, node in bodies:
        world.attach(node.node())
    return world, bodies


def physics_scale(entities: Sequence[Entity]) -> float:
    """How much larger than life the objects are simulated: 1, or n^2 with n the least whole
    number that brings the smallest object's largest extent up to SMALLEST (Bullet's
    tolerances are in absolute units, tuned for objects of 0.05 to 10 units). Lengths and
    gravity are multiplied alike, so the motion is the same, k times larger: a scaled drop is
    the same drop. A square, so steps are a whole n times shorter (_step_to_rest), and few
    values, so objects of varying size still reuse their collision shapes."""
    sizes = [float(np.ptp(e.outline() * e.scale, axis=0).max()) for e in entities]
    smallest = min(sizes, default=SMALLEST)
    if not 0 < smallest < SMALLEST:
        return 1.0
    return float(math.ceil(math.sqrt(SMALLEST / smallest)) ** 2)


def _body(entity: Entity, p: SettleParams, spec: ShapeSpec, k: float) -> NodePath:
    collider = CACHE.collider(entity, spec, factor=k)
    body = BulletRigidBodyNode(f"instance-{entity.instance_id}")
    for shape in collider.shapes:
        body.add_shape(shape)
    body.set_mass(1.0 if p.density is None else p.density * (collider.volume or 0.0))
    body.set_friction(p.friction)
    body.set_restitution(p.restitution)
    body.set_angular_damping(p.damping)
    body.set_linear_damping(p.damping / 3)
    # Bullet's own sleeping (after 2 s below the thresholds) agrees with ours, which is sooner.
    body.set_linear_sleep_threshold(p.rest_speed)
    body.set_angular_sleep_threshold(p.rest_spin)
    node = NodePath(body)
    node.set_pos_hpr(*((entity.position + np.array([0.0, 0.0, p.drop])) * k), *entity.hpr)
    return node


def _step_to_rest(
    world: BulletWorld, bodies: list[BulletRigidBodyNode], p: SettleParams, k: float = 1.0
) -> bool:
    """Step 0.1 s at a time; a body slow for QUIET checks in a row is put to sleep. Small
    objects (k = n^2 > 1) take n times shorter steps: an object's own time scale, the time
    it takes to fall its size, goes as the square root of its size, so each step stays as
    short a part of it as 1/120 s is for a 10 cm object."""
    steps = CHECK * round(math.sqrt(k))
    quiet = [0] * len(bodies)
    poses = [_pose(body) for body in bodies]
    elapsed = 0.0
    while elapsed < p.max_seconds:
        world.do_physics(CHECK * STEP, steps, CHECK * STEP / steps)
        elapsed += CHECK * STEP
        for index, body in enumerate(bodies):
            pose = _pose(body)
            slow = _slow(body, poses[index], pose, p, k)
            poses[index] = pose
            quiet[index] = quiet[index] + 1 if slow and body.is_active() else 0
            if quiet[index] >= QUIET:
                body.set_active(False)
        if not any(body.is_active() for body in bodies):
            return True
    return False


def _pose(body: BulletRigidBodyNode) -> tuple[LPoint3f, LQuaternionf]:
    state = body.get_transform()
    return state.get_pos(), state.get_quat()


def _slow(body, before: tuple, after: tuple, p: SettleParams, k: float) -> bool:
    """Whether a body moves slower than `rest_speed` and turns slower than `rest_spin`: at
    this instant, or on average over the last check. The average is what a small object
    resting in a pile needs: it jitters in place (a 6 mm nut at 0.3 rad/s, back and forth
    each step) while its pose stays put to a hundredth of a millimetre."""
    if (
        body.get_linear_velocity().length() < p.rest_speed
        and body.get_angular_velocity().length() < p.rest_spin
    ):
        return True
    interval = CHECK * STEP
    moved = (after[0] - before[0]).length() / interval
    cosine = min(1.0, abs(after[1].dot(before[1])))
    turned = 2.0 * math.acos(cosine) / interval
    return moved < p.rest_speed and turned < p.rest_spin


MAX_STEP = 1.0 / 240.0  # throw's internal step is the frame interval cut into equal steps


class ThrowParams(Params):
    velocity: Vec3 = Field(
        [0.0, 0.0, 0.0], description="Initial velocity of each object, m/s (world axes)."
    )
    spin: Vec3 = Field(
        [0.0, 0.0, 0.0],
        description="Initial angular velocity of each object, degrees/s about world axes.",
    )
    surface: float | None = Field(0.0, description="Height of the ground plane; none: none.")
    supports: list[str] = Field([], description="Static scenery, as settle's `supports`.")
    shape: ShapeKind = Field("hull", description="Collision shape, as settle's `shape`.")
    density: float | None = Field(None, gt=0, description="kg/m^3; none: every object 1 kg.")
    friction: float = Field(0.6, ge=0.0, description="Friction of objects, ground, supports.")
    restitution: float = Field(0.3, ge=0.0, le=1.0, description="Bounciness, 0 to 1.")
    damping: float = Field(
        0.3, ge=0.0, le=1.0, description="Angular damping (linear: a third of it)."
    )

    def settle(self) -> SettleParams:
        """The same physics as settle's parameters, thrown from where the objects are."""
        return SettleParams(
            surface=self.surface,
            supports=self.supports,
            shape=self.shape,
            density=self.density,
            friction=self.friction,
            restitution=self.restitution,
            damping=self.damping,
            drop=0.0,
        )


class Throw(Randomizer[ThrowParams]):
    """Throws the targeted objects from where they are, with a velocity and spin drawn for
    each, and writes their motion over the clip (worlds with [clip] only)."""

    name = "throw"
    once_per_clip = True  # simulates once per clip: its parameters are not animated

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        if ctx.clip is None:
            raise ValueError(
                "throw moves objects over a clip: give the world a [clip] section "
                "(frames, fps), or use settle for still frames"
            )
        p = self.params
        supports = ctx.scene.select(p.supports) if p.supports else []
        movers = [e for e in entities if all(e is not s for s in supports)]
        world, bodies = bullet_world(movers, p.settle(), supports)
        for _, node in bodies:
            body = node.node()
            body.set_linear_velocity(LVector3f(*p.velocity.sample(ctx.rng)))
            body.set_angular_velocity(LVector3f(*np.radians(p.spin.sample(ctx.rng))))
        substeps = max(1, math.ceil(1.0 / (ctx.clip.fps * MAX_STEP) - 1e-9))
        flown = _fly(world, bodies, ctx.clip.frames, substeps, ctx.clip.fps)
        for entity, motion in zip(movers, flown, strict=True):
            entity.motion = motion
            entity.position, entity.hpr = motion.positions[0], motion.hprs[0]


def _fly(
    world: BulletWorld,
    bodies: list[tuple[Entity, NodePath]],
    frames: int,
    substeps: int,
    fps: float,
) -> list[Motion]:
    """Each body's pose, velocity and spin at each frame time, stepping `substeps` equal
    steps per frame interval. Bullet reports a body's pose one step late (the latency of its
    motion states), its velocities on time: so each frame's velocities are read, then one
    more step is taken to read the frame's pose. A body whose entity joins the clip later
    (`Entity.appears`) is out of the world until that frame's time: it then starts from its
    placed pose with its thrown velocity, and before it holds that pose, at rest."""
    step = 1.0 / (fps * substeps)
    samples = np.zeros((len(bodies), frames, 4, 3))
    for entity, node in bodies:
        if entity.appears:
            world.remove(node.node())
    for frame in range(frames):
        for _ in range(substeps - 1 if frame else 0):
            world.do_physics(step, 1, step)
        for index, (entity, node) in enumerate(bodies):
            body = node.node()
            if frame and entity.appears == frame:
                world.attach(body)
            if entity.appears <= frame:
                samples[index, frame, 2:] = body.get_linear_velocity(), body.get_angular_velocity()
        world.do_physics(step, 1, step)
        for index, (_, node) in enumerate(bodies):
            samples[index, frame, :2] = node.get_pos(), node.get_hpr()
    return [Motion(*(track[:, part] for part in range(4))) for track in samples]


@hookimpl
def sim_register_randomizers(register):
    register(Settle)
    register(Throw)
