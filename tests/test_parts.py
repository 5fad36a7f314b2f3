"""Part labels: a mesh's named groups are its parts; each labeled object's record carries the
mask and tight box of every visible part, exact against ray casting."""

import json
import types

import numpy as np
from pycocotools import mask as mask_utils
from small_frames import HEIGHT, WIDTH, camera

from simulator import Entity, FrameContext, Spawner, hookimpl, meshes
from simulator.labels.derive import derive
from simulator.labels.parts import part_names
from simulator.labels.rle import instance_boxes
from simulator.run.runner import RunOptions, run
from simulator.scene.materials import Material, MeshGroup
from simulator.scene.meshes import TriangleMesh
from simulator.scene.scene import Scene
from simulator.scene.textures import TextureImage
from simulator.testing import world_from

PLAIN = Material()


def panel(names=("left", "middle", "right"), materials=(None, PLAIN, None)) -> TriangleMesh:
    """A 2 x 1.5 panel facing -Y in three vertical strips (x = -1..-0.3..0.4..1), one group
    each."""
    xs, z = [-1.0, -0.3, 0.4, 1.0], 0.75
    vertices, triangles = [], []
    for i in range(3):
        a, b = xs[i], xs[i + 1]
        base = len(vertices)
        vertices += [[a, 0, -z], [b, 0, -z], [b, 0, z], [a, 0, z]]
        triangles += [[base, base + 1, base + 2], [base, base + 2, base + 3]]
    vertices = np.array(vertices)
    groups = tuple(
        MeshGroup(n, 2 * i, 2, m) for i, (n, m) in enumerate(zip(names, materials, strict=True))
    )
    uvs = (vertices[:, [0, 2]] + [1, z]) / [2, 2 * z]
    return TriangleMesh(vertices, np.tile([0, -1.0, 0], (12, 1)), triangles, uvs, groups=groups)


def strip_of_pixel() -> np.ndarray:
    """Which strip (0, 1, 2; -1: none) each pixel centre's ray hits, cast here."""
    cam = camera()
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    rays = np.linalg.inv(cam.K) @ np.stack([cols.ravel(), rows.ravel(), np.ones(cols.size)])
    pose = cam.cam_to_world()
    world = pose[:3, :3] @ rays
    hit = pose[:3, 3, None] + (-pose[1, 3] / world[1]) * world
    x, z = hit[0], hit[2]
    strip = np.digitize(x, [-1.0, -0.3, 0.4, 1.0]) - 1
    strip[(strip > 2) | (np.abs(z) > 0.75)] = -1
    return strip.reshape(HEIGHT, WIDTH)


def decode(rle) -> np.ndarray:
    return mask_utils.decode({**rle, "counts": rle["counts"].encode()}).astype(bool)


def label(engine, scene, labels=("masks", "parts")):
    return derive(0, 0, scene, engine.render(scene), ["panel", "ball"], labels, engine)


def test_part_masks_are_the_parts_seen_disjoint_and_make_up_the_object(small):
    scene = Scene(camera())
    obj = scene.add(Entity(panel(), "panel"))
    frame = label(small, scene)
    record = frame.objects[0]
    strips = strip_of_pixel()
    assert list(record.parts) == ["left", "middle", "right"]
    union = np.zeros((HEIGHT, WIDTH), bool)
    for i, (name, part) in enumerate(record.parts.items()):
        mask = decode(part["segmentation"])
        assert np.array_equal(mask, strips == i), name  # exactly the strip's pixel centres
        assert part["area"] == mask.sum()
        assert part["bbox"] == instance_boxes(mask.astype(np.uint32))[1][0]
        assert not (union & mask).any()  # disjoint
        union |= mask
    assert np.array_equal(union, decode(record.rle))  # all parts: the whole object
    assert obj.instance_id == record.instance_id


def test_occluded_and_unnamed_groups_leave_parts_inside_the_object(small):
    scene = Scene(camera())
    scene.add(Entity(panel(("left", "", "left")), "panel"))
    ball = scene.add(Entity(meshes.sphere(), "ball", position=[0.7, -1.0, 0.0], scale=[0.5] * 3))
    frame = label(small, scene)
    record = next(o for o in frame.objects if o.instance_id == 1)
    assert list(record.parts) == ["left"]  # both outer strips are one part; no unnamed part
    left = decode(record.parts["left"]["segmentation"])
    whole = decode(record.rle)
    strips = strip_of_pixel()
    ball_pixels = frame.passes.instance == ball.instance_id
    assert np.array_equal(left, np.isin(strips, [0, 2]) & ~ball_pixels)
    assert not (left & ~whole).any() and (whole & ~left).any()
    assert next(o for o in frame.objects if o.instance_id == 2).parts is None  # no groups


def test_cut_out_pixels_belong_to_no_part(small):
    image = np.full((4, 4, 4), 255, np.uint8)
    image[:, 2:, 3] = 0  # the right half of the texture is cut
    cut = Material(base_color_texture=TextureImage(image), alpha_mode="MASK")
    scene = Scene(camera())
    scene.add(Entity(panel(materials=(cut, cut, cut)), "panel"))
    record = label(small, scene).objects[0]
    union = np.zeros((HEIGHT, WIDTH), bool)
    for part in record.parts.values():
        union |= decode(part["segmentation"])
    assert np.array_equal(union, decode(record.rle))
    assert "right" not in record.parts and "left" in record.parts


def test_parts_are_off_unless_asked_and_cost_no_pass(small):
    class NoParts:
        def arrays(self, mesh):
            return small.arrays(mesh)

        def render_parts(self):
            raise AssertionError("the parts pass ran")

    scene = Scene(camera())
    scene.add(Entity(panel(), "panel"))
    scene.add(Entity(meshes.sphere(), "ball", position=[0.7, -1.0, 0.0], scale=[0.5] * 3))
    frame = derive(0, 0, scene, small.render(scene), ["panel", "ball"], ["masks"], NoParts())
    assert all(o.parts is None for o in frame.objects)
    plain = Scene(camera())
    plain.add(Entity(meshes.sphere(), "ball"))
    derive(0, 0, plain, small.render(plain), ["ball"], ["masks", "parts"], NoParts())
    assert part_names(meshes.sphere()) == ()


class Panels(Spawner):
    name = "panels"

    def spawn(self, ctx: FrameContext) -> Entity:
        return Entity(panel(), "panels", hpr=[ctx.rng.uniform(-30, 30), 0, 0])


def test_records_carry_parts_when_asked(tmp_path):
    plugin = types.ModuleType("panels")
    plugin.sim_register_spawners = hookimpl(lambda register: register(Panels))
    world = world_from(
        {
            "world": {"frames": 2},
            "camera": {"resolution": [WIDTH, HEIGHT], "position": [0, -3, 0], "target": [0, 0, 0]},
            "spawners": [{"type": "panels"}],
            "output": {"writers": ["native"], "labels": ["masks", "parts"]},
        }
    )
    root = run(world, RunOptions(tmp_path / "out", plugins=[plugin])).root
    for line in (root / "frames.jsonl").read_text().splitlines():
        (obj,) = json.loads(line)["objects"]
        masks = [decode(p["segmentation"]) for p in obj["parts"].values()]
        assert sum(m.sum() for m in masks) == obj["area"] == decode(obj["segmentation"]).sum()
        assert np.array_equal(np.logical_or.reduce(masks), decode(obj["segmentation"]))
