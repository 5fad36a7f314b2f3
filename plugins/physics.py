"""Randomizer "settle": objects dropped onto a surface with Bullet (inside panda3d) and
simulated until they rest, so they lie as real objects do.

Each object is a convex hull of its mesh (of the unit cube for model files), scaled as posed.
The simulation is deterministic for a given scene: the same frame settles the same way in
any process. It stops when every object is at rest, or after `max_seconds` of simulated time;
objects still moving then keep the pose they reached, marked `attributes.settled = false`.
"""

from __future__ import annotations

import numpy as np
from panda3d.bullet import BulletConvexHullShape, BulletPlaneShape, BulletRigidBodyNode, BulletWorld
from panda3d.core import LPoint3f, LVector3f, NodePath
from pydantic import Field

from simulator import Entity, FrameContext, Params, Randomizer, hookimpl

STEP = 1.0 / 240.0


def _hull(entity: Entity) -> BulletConvexHullShape:
    """The entity's convex hull, scaled as posed (rotation and position go on the body)."""
    points = np.unique(entity.outline(), axis=0)
    shape = BulletConvexHullShape()
    for point in points * entity.scale:
        shape.add_point(LPoint3f(*point))
    shape.set_margin(0.001)
    return shape


class SettleParams(Params):
    surface: float = Field(0.0, description="Height of the ground plane, metres.")
    drop: float = Field(0.05, ge=0.0, description="Lift every object this far before dropping.")
    max_seconds: float = Field(4.0, gt=0, description="Simulated time before giving up.")
    friction: float = Field(0.8, ge=0.0, description="Friction of objects and ground.")
    restitution: float = Field(0.1, ge=0.0, le=1.0, description="Bounciness, 0 to 1.")
    damping: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Angular and linear damping: stands in for rolling resistance, which "
        "Bullet lacks (a sphere would roll forever).",
    )


class Settle(Randomizer[SettleParams]):
    """Drops the targeted objects onto the ground plane and lets them come to rest."""

    name = "settle"

    def randomize(self, ctx: FrameContext, entities: list[Entity]) -> None:
        _, bodies, settled = simulate(entities, self.params)
        for entity, node in bodies:
            entity.position = np.array(node.get_pos(), dtype=float)
            entity.hpr = np.array(node.get_hpr(), dtype=float)
            entity.attributes["settled"] = settled


def simulate(
    entities: list[Entity], p: SettleParams
) -> tuple[BulletWorld, list[tuple[Entity, NodePath]], bool]:
    """Drop `entities` and step until all rest (or time runs out); returns the Bullet world,
    each entity with its body, and whether they came to rest. Entities are not changed."""
    world = BulletWorld()
    world.set_gravity(LVector3f(0, 0, -9.81))
    ground = BulletRigidBodyNode("ground")
    ground.add_shape(BulletPlaneShape(LVector3f(0, 0, 1), p.surface))
    ground.set_friction(p.friction)
    world.attach(ground)
    bodies = []
    for entity in entities:
        body = BulletRigidBodyNode(f"instance-{entity.instance_id}")
        body.add_shape(_hull(entity))
        body.set_mass(1.0)
        body.set_friction(p.friction)
        body.set_restitution(p.restitution)
        body.set_angular_damping(p.damping)
        body.set_linear_damping(p.damping / 3)
        node = NodePath(body)
        node.set_pos_hpr(*(entity.position + np.array([0.0, 0.0, p.drop])), *entity.hpr)
        world.attach(body)
        bodies.append((entity, node))
    elapsed, quiet = 0.0, 0
    while elapsed < p.max_seconds:
        for _ in range(24):  # 0.1 s between rest checks
            world.do_physics(STEP, 1, STEP)
        elapsed += 24 * STEP
        # At rest: every body nearly still for three checks in a row (0.3 s), so a hull
        # balanced on an edge, rolling ever so slowly, does not count.
        still = all(
            n.node().get_linear_velocity().length() < 0.003
            and n.node().get_angular_velocity().length() < 0.02
            for _, n in bodies
        )
        quiet = quiet + 1 if still else 0
        if quiet >= 3:
            return world, bodies, True
    return world, bodies, False


@hookimpl
def sim_register_randomizers(register):
    register(Settle)
