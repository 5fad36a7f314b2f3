"""Every label against geometry computed without the renderer (issue: ground truth)."""

import numpy as np
import pytest

from simulator import meshes, transforms
from simulator.labels.derive import derive, disjoint_groups, runs_alone
from simulator.labels.records import KeypointSchema
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import CameraState, Entity, Scene

W, H = 160, 120
ALL = ["boxes", "masks", "visibility", "amodal_masks", "boxes3d", "keypoints"]


def camera(position=(0.0, -5.0, 0.0), target=(0.0, 0.0, 0.0)) -> CameraState:
    return CameraState(W, H, fov=60, position=position, target=target)


def label(engine, scene, categories, keypoints=None):
    passes = engine.render(scene)
    return derive(0, 0, scene, passes, categories, ALL, engine, keypoints)


def projected(entity: Entity, cam: CameraState) -> np.ndarray:
    """Mesh vertices in pixel-edge coordinates, by plain pinhole projection."""
    world = transforms.transform_points(entity.matrix(), entity.mesh.vertices)
    return transforms.project(world, cam.K, cam.cam_to_world())[:, :2] + 0.5


def wall(x0, x1, z0, z1, y=0.0, category="wall") -> Entity:
    """A plane facing a camera on the -Y axis, spanning [x0, x1] x [z0, z1] at depth y."""
    return Entity(
        meshes.plane(),
        category,
        position=[(x0 + x1) / 2, y, (z0 + z1) / 2],
        hpr=[0, 90, 0],
        scale=[x1 - x0, z1 - z0, 1],
    )


def pixels_inside(cam: CameraState, x0, x1, z0, z1, y) -> np.ndarray:
    """Which pixel centres see the rectangle [x0, x1] x [z0, z1] in the plane at depth y."""
    v, u = np.mgrid[0:H, 0:W]
    rays = np.linalg.inv(cam.K) @ np.stack([u.ravel(), v.ravel(), np.ones(u.size)])
    world = cam.cam_to_world()[:3, :3] @ rays  # ray directions in the world
    t = (y - cam.position[1]) / world[1]
    x, z = cam.position[0] + t * world[0], cam.position[2] + t * world[2]
    return ((x >= x0) & (x <= x1) & (z >= z0) & (z <= z1)).reshape(H, W)


@pytest.mark.parametrize("position", [(0.0, 0.0, 0.0), (2.6, 0.0, 0.3), (-0.4, 0.0, -1.9)])
def test_amodal_box_is_the_projected_mesh_even_outside_the_image(engine, position):
    cam = camera()
    scene = Scene(cam)
    entity = scene.add(
        Entity(meshes.box(), "box", position=position, hpr=[25, 35, 10], scale=[1.2, 0.8, 1.0])
    )
    (obj,) = label(engine, scene, ["box"]).objects
    uv = projected(entity, cam)
    expected = [uv[:, 0].min(), uv[:, 1].min(), np.ptp(uv[:, 0]), np.ptp(uv[:, 1])]
    assert np.allclose(obj.amodal_bbox, expected, atol=1e-6)
    x, y, w, h = expected
    clipped = [max(x, 0), max(y, 0), min(x + w, W) - max(x, 0), min(y + h, H) - max(y, 0)]
    assert np.allclose(obj.amodal_bbox_clipped, clipped, atol=1e-6)
    assert np.isclose(obj.truncation, 1 - clipped[2] * clipped[3] / (w * h))
    if position[0] > 2:  # partly outside on the right: the amodal box reaches past the edge
        assert x + w > W and obj.truncation > 0.1
        assert obj.bbox[0] + obj.bbox[2] == W


def test_amodal_box_of_an_object_cut_by_the_near_plane(engine):
    cam = CameraState(W, H, fov=60, near=0.5, position=(0, -1.0, 0), target=(0, 0, 0))
    scene = Scene(cam)
    # x in [0.3, 1.1], y in [-0.6, 2.0], z in [-0.4, 0.4]: its near end lies behind the near
    # plane (y = -0.5). What the camera can see is the same box cut at y = -0.5.
    scene.add(Entity(meshes.box(), "beam", position=[0.7, 0.7, 0], scale=[0.8, 2.6, 0.8]))
    (obj,) = label(engine, scene, ["beam"]).objects
    cut = np.array([[x, y, z] for x in (0.3, 1.1) for y in (-0.5, 2.0) for z in (-0.4, 0.4)])
    uv = transforms.project(cut, cam.K, cam.cam_to_world())[:, :2] + 0.5
    expected = [uv[:, 0].min(), uv[:, 1].min(), np.ptp(uv[:, 0]), np.ptp(uv[:, 1])]
    assert np.allclose(obj.amodal_bbox, expected, atol=1e-6)
    assert obj.amodal_bbox[0] + obj.amodal_bbox[2] > W, "it runs off the right edge"
    assert obj.truncation > 0.3


def test_visibility_of_a_wall_half_hidden_behind_a_known_occluder(engine):
    cam = camera()
    scene = Scene(cam)
    back = scene.add(wall(-1.0, 1.0, -0.7, 0.7, y=0.0, category="wall"))
    scene.add(wall(-3.0, 0.013, -3.0, 3.0, y=-1.0, category="screen"))
    frame = label(engine, scene, ["wall", "screen"])
    obj = next(o for o in frame.objects if o.instance_id == back.instance_id)
    whole = pixels_inside(cam, -1.0, 1.0, -0.7, 0.7, 0.0)
    hidden = pixels_inside(cam, -3.0, 0.013, -3.0, 3.0, -1.0)
    assert obj.unoccluded_pixels == whole.sum()
    assert obj.area == (whole & ~hidden).sum()
    assert obj.visibility == pytest.approx((whole & ~hidden).sum() / whole.sum())
    assert 0.4 < obj.visibility < 0.6


def test_amodal_mask_is_the_object_drawn_alone(engine):
    from pycocotools import mask as mask_utils

    cam = camera()
    scene = Scene(cam)
    back = scene.add(wall(-1.0, 1.0, -0.7, 0.7, y=0.0))
    scene.add(wall(-0.2, 0.2, -3.0, 3.0, y=-1.0, category="bar"))
    frame = label(engine, scene, ["wall", "bar"])
    obj = next(o for o in frame.objects if o.instance_id == back.instance_id)
    amodal = mask_utils.decode({**obj.amodal_rle, "counts": obj.amodal_rle["counts"].encode()})
    visible = mask_utils.decode({**obj.rle, "counts": obj.rle["counts"].encode()})
    assert np.array_equal(amodal.astype(bool), pixels_inside(cam, -1.0, 1.0, -0.7, 0.7, 0.0))
    assert not (visible & ~amodal).any() and visible.sum() < amodal.sum()


def test_objects_that_cannot_occlude_each_other_share_a_solo_pass(engine):
    calls = []

    class Counting:
        def arrays(self, mesh):
            return engine.arrays(mesh)

        def solo_runs(self, groups, boxes):
            calls.append(groups)
            return engine.solo_runs(groups, boxes)

    scene = Scene(camera())
    for x in (-1.6, 0.0, 1.6):
        scene.add(Entity(meshes.sphere(), "ball", position=[x, 0, 0], scale=[0.6] * 3))
    frame = derive(0, 0, scene, engine.render(scene), ["ball"], ["visibility"], Counting())
    assert calls == [[[1, 2, 3]]]
    assert all(o.visibility == 1.0 for o in frame.objects)


@pytest.mark.parametrize("seed", range(4))
def test_solo_runs_read_in_windows_are_those_of_the_whole_solo_images(engine, seed):
    # Objects cut by the image's edges, by the near plane, and one taller than the image (its
    # runs go on from the foot of a column to the top of the next).
    rng = np.random.default_rng(seed)
    cam = CameraState(W, H, fov=60, near=0.5, position=(0, -3.0, 0), target=(0, 0, 0))
    scene = Scene(cam)
    scene.add(wall(-0.3, 0.3, -4.0, 4.0, y=0.5, category="pole"))
    for _ in range(6):
        position = rng.uniform([-2.5, -2.6, -1.6], [2.5, 1.0, 1.6])
        shape = [meshes.box, meshes.sphere, meshes.torus][int(rng.integers(3))]
        hpr = rng.uniform(0, 360, 3)
        scene.add(Entity(shape(), "thing", position=position, hpr=hpr, scale=[0.7] * 3))
    passes = engine.render(scene)
    frame = derive(0, 0, scene, passes, ["pole", "thing"], ["boxes"], engine)
    boxes = {o.instance_id: o.amodal_bbox_clipped for o in frame.objects}
    groups = disjoint_groups(boxes)
    windowed = engine.solo_runs(groups, boxes)
    whole = runs_alone(groups, engine.render_alone(groups))
    assert windowed.keys() == whole.keys() == boxes.keys() and len(boxes) >= 4
    for i, (begin, end) in whole.items():
        assert begin.size > 0
        assert np.array_equal(windowed[i][0], begin) and np.array_equal(windowed[i][1], end)


def test_3d_box_corners_are_the_mesh_bounds_in_the_recorded_pose(engine):
    cam = camera(position=(3.0, -4.0, 2.0))
    scene = Scene(cam)
    entity = scene.add(
        Entity(
            meshes.cone(),
            "cone",
            position=[0.2, 0.1, 0.3],
            hpr=[30, -20, 65],
            scale=[0.9, 0.6, 1.3],
        )
    )
    (obj,) = label(engine, scene, ["cone"]).objects
    record = scene.record()["entities"][0]
    low, high = entity.mesh.bounds()
    corners_local = np.array(
        [
            [(high if (i >> b) & 1 else low)[a] for a, b in ((0, 2), (1, 1), (2, 0))]
            for i in range(8)
        ]
    )
    pose = transforms.pose_matrix(record["position"], record["hpr"], record["scale"])
    corners = transforms.transform_points(pose, corners_local)
    assert np.allclose(obj.box3d["corners_world"], corners, atol=1e-5)
    pixels = transforms.project(corners, cam.K, cam.cam_to_world())
    assert np.allclose(obj.box3d["corners_pixels"], pixels[:, :2] + 0.5, atol=1e-4)
    assert np.allclose(obj.box3d["corners_depth"], pixels[:, 2], atol=1e-5)
    assert np.allclose(obj.box3d["size"], (high - low) * [0.9, 0.6, 1.3], atol=1e-6)
    assert np.allclose(obj.box3d["center_world"], corners.mean(axis=0), atol=1e-6)


def test_keypoint_visibility_flips_when_an_occluder_covers_it(engine):
    cam = camera()
    schema = {"box": KeypointSchema(("front", "back", "aside"), (("front", "back"),))}
    keypoints = {
        "front": np.array([0.0, -0.5, 0.0]),
        "back": np.array([0.0, 0.5, 0.0]),
        "aside": np.array([30.0, 0.0, 0.0]),
    }

    def frame(with_occluder: bool):
        scene = Scene(cam)
        scene.add(Entity(meshes.box(), "box", keypoints=keypoints))
        if with_occluder:
            scene.add(wall(-0.2, 0.2, -0.2, 0.2, y=-1.5, category="card"))
        return next(
            o for o in label(engine, scene, ["box", "card"], schema).objects if o.instance_id == 1
        )

    clear = {k.name: k for k in frame(False).keypoints}
    hidden = {k.name: k for k in frame(True).keypoints}
    front_uv = transforms.project(np.array([[0.0, -0.5, 0.0]]), cam.K, cam.cam_to_world())[0]
    assert (clear["front"].x, clear["front"].y) == pytest.approx(tuple(front_uv[:2] + 0.5))
    assert clear["front"].visibility == 2 and hidden["front"].visibility == 1
    assert clear["back"].visibility == 1, "the box hides its own back face"
    assert clear["aside"].visibility == 0 and (clear["aside"].x, clear["aside"].y) == (0, 0)


def test_sphere_distance_matches_ray_sphere_intersection(engine):
    fine = meshes.sphere(segments=256, rings=128)
    cam = camera(position=(0.4, -3.0, 0.3))
    scene = Scene(cam)
    center, radius = np.array([0.1, 0.2, -0.1]), 0.5
    scene.add(Entity(fine, "ball", position=center))
    passes = engine.render(scene)
    v, u = np.nonzero(passes.instance == 1)
    rays = (np.linalg.inv(cam.K) @ np.stack([u, v, np.ones(u.size)])).T
    directions = rays @ cam.cam_to_world()[:3, :3].T
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    oc = cam.position - center
    b = directions @ oc
    disc = b * b - (oc @ oc - radius * radius)
    inner = disc > 0.05 * radius**2  # away from grazing rays at the silhouette
    t = -b[inner] - np.sqrt(disc[inner])
    assert inner.sum() > 0.8 * u.size
    assert np.abs(passes.distance[v[inner], u[inner]] - t).max() < 5e-4
    plane_depth = t * (directions[inner] @ cam.cam_to_world()[:3, 2])
    assert np.abs(passes.depth[v[inner], u[inner]] - plane_depth).max() < 5e-4


def test_semantic_mask_maps_instances_to_categories(engine):
    from simulator.dataset.layout import semantic_mask

    scene = Scene(camera())
    scene.add(Entity(meshes.box(), "box", position=[-1, 0, 0]))
    scene.add(Entity(meshes.sphere(), "ball", position=[1, 0, 0]))
    scene.add(Entity(meshes.sphere(), None, position=[0, 0, 1]))  # a distractor
    frame = label(engine, scene, ["box", "ball"])
    semantic = semantic_mask(frame)
    instance = frame.passes.instance
    assert set(np.unique(semantic)) == {0, 1, 2}
    assert np.array_equal(semantic == 1, instance == 1)
    assert np.array_equal(semantic == 2, instance == 2)
    assert not semantic[instance == 3].any()


def test_triangle_mesh_keys_identify_geometry():
    a = TriangleMesh(np.eye(3), np.eye(3), [[0, 1, 2]])
    b = TriangleMesh(np.eye(3), np.eye(3), [[0, 1, 2]])
    c = TriangleMesh(np.eye(3) * 2, np.eye(3), [[0, 1, 2]])
    assert a.key == b.key != c.key


def test_a_generated_mesh_can_carry_its_keypoints(engine):
    box = meshes.box()
    tagged = TriangleMesh(
        box.vertices, box.normals, box.triangles, keypoints={"front": np.array([0.0, -0.5, 0.0])}
    )
    scene = Scene(camera())
    scene.add(Entity(tagged, "box"))
    schema = {"box": KeypointSchema(("front",))}
    (obj,) = label(engine, scene, ["box"], schema).objects
    assert obj.keypoints[0].visibility == 2
