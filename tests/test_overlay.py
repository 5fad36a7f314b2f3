"""Label overlays: drawn where the labels are."""

import numpy as np
from PIL import Image
from typer.testing import CliRunner

from simulator.cli import app
from simulator.report.overlay import BOX_EDGES, draw, instance_color


def test_boxes_masks_and_keypoints_are_drawn_where_the_labels_say():
    rgb = np.zeros((60, 80, 3), np.uint8)
    instance = np.zeros((60, 80), np.uint32)
    instance[20:30, 10:30] = 4
    obj = {
        "instance_id": 4,
        "category": "part",
        "bbox": [10, 20, 20, 10],
        "keypoints": [
            {"name": "tip", "x": 50.5, "y": 40.5, "v": 2},
            {"name": "tail", "x": 70.5, "y": 40.5, "v": 0},
        ],
    }
    image = np.asarray(draw(rgb, [obj], instance))
    color = np.array(instance_color(4))
    assert (image[20, 15] == color).all() and (image[29, 15] == color).all()  # box edges
    assert (image[25, 10] == color).all() and (image[25, 29] == color).all()
    inside = image[24, 20].astype(int)
    assert np.allclose(inside, 0.4 * color, atol=1)  # mask tinted at 40 %
    assert (image[40, 50] == color).all()  # visible keypoint: a filled dot
    assert not image[40, 70].any()  # v = 0: not drawn
    assert not image[5, 75].any()  # nothing elsewhere


def test_box_edges_join_corners_that_differ_in_one_axis():
    assert len(BOX_EDGES) == 12
    assert all(bin(a ^ b).count("1") == 1 for a, b in BOX_EDGES)


def test_sim_overlay_writes_a_png_for_a_frame(write_world, tmp_path):
    runner = CliRunner()
    out = tmp_path / "out"
    assert runner.invoke(app, ["run", str(write_world()), "--out", str(out), "-q"]).exit_code == 0
    result = runner.invoke(app, ["overlay", str(out), "--frame", "2"])
    assert result.exit_code == 0, result.output
    with Image.open(out / "overlays" / "000002.png") as image:
        assert image.size == (160, 120)
    missing = runner.invoke(app, ["overlay", str(out), "--frame", "99"])
    assert missing.exit_code == 2 and "frame 99 is not in" in missing.output
