"""COCO keypoints: the category's names and skeleton, per-annotation (x, y, v) triples."""

import json
import textwrap

import numpy as np
from pycocotools.coco import COCO

from simulator.run.runner import RunOptions, run
from simulator.world.load import load_world

PLUGIN = """
import numpy as np
from simulator import Entity, FrameContext, KeypointSchema, Spawner, hookimpl, meshes


class Marked(Spawner):
    name = "marked"

    def keypoints(self):
        return {"marked": KeypointSchema(("top", "front", "side"), (("top", "front"), ("front", "side")))}

    def spawn(self, ctx: FrameContext) -> Entity:
        points = {"top": np.array([0.0, 0.0, 0.5]), "front": np.array([0.0, -0.5, 0.0]),
                  "side": np.array([0.5, 0.0, 0.0])}
        return Entity(meshes.box(), keypoints=points, scale=[0.8] * 3,
                      position=[ctx.rng.uniform(-1, 1), 0, 0])


@hookimpl
def sim_register_spawners(register):
    register(Marked)
"""


def test_coco_keypoints_match_the_native_record(tmp_path):
    (tmp_path / "marked.py").write_text(PLUGIN)
    world = tmp_path / "world.toml"
    world.write_text(
        textwrap.dedent("""
        [world]
        frames = 3
        [camera]
        resolution = [120, 90]
        position = [2, -5, 3]
        target = [0, 0, 0]
        [[spawners]]
        type = "marked"
        count = 2
        [plugins]
        paths = ["marked.py"]
    """)
    )
    root = run(load_world(world), RunOptions(tmp_path / "out")).root
    coco = COCO(str(root / "annotations/instances.json"))
    (category,) = coco.loadCats(coco.getCatIds())
    assert category["keypoints"] == ["top", "front", "side"]
    assert category["skeleton"] == [[1, 2], [2, 3]]
    records = [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]
    native = [o for r in records for o in r["objects"]]
    annotations = coco.loadAnns(coco.getAnnIds())
    assert len(annotations) == len(native) > 0
    for ann, obj in zip(annotations, native, strict=True):
        triples = np.array(ann["keypoints"]).reshape(-1, 3)
        expected = [[k["x"], k["y"], k["v"]] for k in obj["keypoints"]]
        assert np.allclose(triples, expected, atol=0.01)
        assert ann["num_keypoints"] == sum(k["v"] > 0 for k in obj["keypoints"])
    visible = [k["v"] for o in native for k in o["keypoints"]]
    assert 2 in visible and 1 in visible, "top and front face the camera; some points are hidden"
