"""The run-based label helpers against plain per-id references on many random images."""

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from simulator.labels.derive import _unoccluded, runs_alone
from simulator.labels.records import ObjectLabel
from simulator.labels.rle import (
    encode_rle,
    encode_rles,
    instance_boxes,
    runs_by_id,
    window,
    window_runs,
)

SPARSE_IDS = [1, 2, 3, 7, 255, 256, 1000, 4097, 65534, 65535]


def reference_boxes(instance: np.ndarray) -> dict[int, tuple[list[int], int]]:
    """Per id: np.nonzero of its mask (ascending ids, background 0 left out)."""
    out = {}
    for i in np.unique(instance):
        if i == 0:
            continue
        rows, cols = np.nonzero(instance == i)
        x, y = int(cols.min()), int(rows.min())
        box = [x, y, int(cols.max()) - x + 1, int(rows.max()) - y + 1]
        out[int(i)] = (box, int(rows.size))
    return out


def reference_rle(mask: np.ndarray) -> dict:
    """pycocotools' own encoder on the mask, straight."""
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def random_image(rng: np.random.Generator) -> np.ndarray:
    """Rectangles, discs and scattered pixels of random (often sparse, large) ids, at a random
    size; sometimes with a background id other than 0, sometimes pure noise."""
    h, w = int(rng.integers(1, 60)), int(rng.integers(1, 60))
    kind = rng.integers(0, 6)
    if kind == 0:  # noise: runs of length one everywhere
        return rng.choice(np.array([0, *SPARSE_IDS], np.uint32), size=(h, w))
    background = 0 if kind < 4 else int(rng.choice(SPARSE_IDS))
    image = np.full((h, w), background, np.uint32)
    v, u = np.mgrid[0:h, 0:w]
    for _ in range(int(rng.integers(0, 12))):
        i = int(rng.choice(SPARSE_IDS))
        y0, x0 = int(rng.integers(-5, h)), int(rng.integers(-5, w))
        y1, x1 = y0 + int(rng.integers(1, h + 5)), x0 + int(rng.integers(1, w + 5))
        shape = rng.integers(0, 3)
        if shape == 0:
            image[max(y0, 0) : max(y1, 0), max(x0, 0) : max(x1, 0)] = i
        elif shape == 1:
            r = rng.uniform(0.5, max(h, w) / 2)
            image[(v - y0) ** 2 + (u - x0) ** 2 <= r * r] = i
        else:
            n = int(rng.integers(1, 20))
            image[rng.integers(0, h, n), rng.integers(0, w, n)] = i
    return image


def special_images() -> list[np.ndarray]:
    images = [
        np.zeros((7, 5), np.uint32),  # empty
        np.full((7, 5), 65535, np.uint32),  # one id everywhere
        np.zeros((1, 1), np.uint32),
        np.full((1, 1), 3, np.uint32),
        np.full((1, 9), 2, np.uint32),
        np.full((9, 1), 2, np.uint32),
    ]
    first = np.zeros((7, 5), np.uint32)
    first[0, 0] = 4  # touches the first pixel
    last = np.zeros((7, 5), np.uint32)
    last[-1, -1] = 4  # touches the last pixel
    split = np.zeros((7, 5), np.uint32)
    split[1:3, 0:2] = 9
    split[5:, 3:] = 9  # one id, two separate regions
    wrap = np.zeros((7, 5), np.uint32)
    wrap[5:, 1] = 6
    wrap[:2, 2] = 6  # a run that goes on from the bottom of one column to the top of the next
    stripes = np.tile(np.array([0, 1, 65535], np.uint32), (4, 3))  # 4x9 vertical stripes
    images += [first, last, split, wrap, stripes, stripes.T.copy()]
    return images


def all_images() -> list[np.ndarray]:
    rng = np.random.default_rng(1234)
    return special_images() + [random_image(rng) for _ in range(300)]


def test_instance_boxes_match_the_reference():
    for image in all_images():
        got = instance_boxes(image)
        want = reference_boxes(image)
        assert got == want, image
        assert list(got) == sorted(got)  # ascending ids
        for box, count in got.values():
            assert all(type(v) is int for v in [*box, count])


def test_instance_boxes_of_a_realistic_frame():
    rng = np.random.default_rng(7)
    image = np.zeros((480, 640), np.uint32)
    v, u = np.mgrid[0:480, 0:640]
    for i in [5, 9, 12, 300, 65535, 17, 40, 41, 2]:
        cy, cx, r = rng.integers(0, 480), rng.integers(0, 640), rng.integers(10, 90)
        image[(v - cy) ** 2 + (u - cx) ** 2 <= r * r] = i
    assert instance_boxes(image) == reference_boxes(image)
    ids = [*np.unique(image).tolist(), 8, 70000]
    assert encode_rles(image, ids) == {i: reference_rle(image == i) for i in ids}


def test_encode_rles_match_pycocotools_byte_for_byte():
    for image in all_images():
        present = [int(i) for i in np.unique(image)]
        ids = [*present, 11, 65533]  # absent ids too: an empty mask each
        got = encode_rles(image, ids)
        assert list(got) == ids
        for i in ids:
            want = reference_rle(image == i)
            assert got[i] == want, (i, image)
            assert got[i] == encode_rle(image == i)
            assert type(got[i]["counts"]) is str and type(got[i]["size"][0]) is int


@pytest.mark.parametrize("noise", [False, True])
def test_encode_rles_with_many_ids(noise):
    """Many ids at once (they are grouped by sorting rather than one comparison each), over
    images with few runs and with runs everywhere."""
    rng = np.random.default_rng(99)
    for _ in range(20):
        h, w = int(rng.integers(1, 50)), int(rng.integers(1, 50))
        palette = rng.choice(np.arange(1, 65536, dtype=np.uint32), 80, replace=False)
        if noise:
            image = rng.choice(np.concatenate(([0], palette[:60])), size=(h, w))
        else:
            image = np.zeros((h, w), np.uint32)
            for i in palette[:60]:
                y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
                image[y : y + int(rng.integers(1, 8)), x : x + int(rng.integers(1, 8))] = i
        ids = [int(i) for i in rng.permutation(palette)]  # 20 or more of them absent
        got = encode_rles(image, ids)
        assert list(got) == ids
        assert got == {i: reference_rle(image == i) for i in ids}
        assert instance_boxes(image) == reference_boxes(image)


def test_encode_rles_decode_to_the_masks():
    """Not only equal to pycocotools: the masks come back out of the RLE."""
    for image in all_images()[:80]:
        for i, rle in encode_rles(image, np.unique(image).tolist()).items():
            coco = {"size": rle["size"], "counts": rle["counts"].encode("ascii")}
            assert np.array_equal(mask_utils.decode(coco), (image == i).astype(np.uint8))


@pytest.mark.parametrize("ids", [[], [5]])
def test_encode_rles_of_nothing(ids):
    image = np.zeros((4, 6), np.uint32)
    assert encode_rles(image, ids) == {i: reference_rle(image == i) for i in ids}
    assert encode_rles(image, iter(ids)) == {i: reference_rle(image == i) for i in ids}


class AloneSource:
    """Hands back prepared images for render_alone, one per group."""

    def __init__(self, images):
        self.images = images
        self.groups = None

    def render_alone(self, groups):
        self.groups = groups
        return [self.images[tuple(g)] for g in groups]

    def solo_runs(self, groups, boxes):
        return runs_alone(groups, self.render_alone(groups))


@pytest.mark.parametrize("masks", [True, False])
def test_unoccluded_pixels_and_amodal_masks(masks):
    rng = np.random.default_rng(3)
    h, w = 23, 31
    # 1 and 2 overlap; 65535 lies apart from both: groups [1, 65535] and [2].
    amodal = {1: [0.0, 0.0, 12.0, 10.0], 2: [6.0, 4.0, 12.0, 12.0], 65535: [20.0, 14.0, 9.0, 9.0]}
    solo_a = np.zeros((h, w), np.uint32)
    solo_a[0:10, 0:12] = 1
    solo_a[14:23, 20:29] = rng.choice(np.array([0, 65535], np.uint32), size=(9, 9))
    solo_b = np.zeros((h, w), np.uint32)
    solo_b[4:16, 6:18] = 2
    solo_b[5, 7] = 0
    source = AloneSource({(1, 65535): solo_a, (2,): solo_b})
    objects = [ObjectLabel(i, "thing", 1, [0, 0, 1, 1], 5) for i in (2, 65535, 1)]
    _unoccluded(objects, amodal, source, masks, (h, w))
    assert source.groups == [[1, 65535], [2]]
    for obj in objects:
        solo = solo_b if obj.instance_id == 2 else solo_a
        mask = solo == obj.instance_id
        assert obj.unoccluded_pixels == int(mask.sum()) > 0
        assert obj.visibility == 5 / int(mask.sum())
        assert obj.amodal_rle == (reference_rle(mask) if masks else None)


def test_window_runs_are_the_whole_images_runs():
    rng = np.random.default_rng(11)
    for _ in range(300):
        image = random_image(rng)
        height, width = image.shape
        top, left = int(rng.integers(0, height)), int(rng.integers(0, width))
        if rng.random() < 0.4:  # all the rows: runs go on from a column's foot to the next top
            top, bottom = 0, height
        else:
            bottom = int(rng.integers(top + 1, height + 1))
        right = int(rng.integers(left + 1, width + 1))
        alone = np.zeros_like(image)
        alone[top:bottom, left:right] = image[top:bottom, left:right]
        i = int(rng.choice(SPARSE_IDS))
        begin, end = window_runs(
            image[top:bottom, left:right].astype(np.float32), i, top, left, height
        )
        expected = runs_by_id(alone, [i])[i]
        assert np.array_equal(begin, expected[0]) and np.array_equal(end, expected[1])


@pytest.mark.parametrize(
    ("box", "rows", "columns"),
    [
        ([10.4, 5.0, 20.2, 7.5], slice(3, 15), slice(8, 33)),
        ([-30.0, -8.0, 35.0, 400.0], slice(0, 48), slice(0, 7)),
        ([70.0, 60.0, 0.0, 0.0], slice(48, 48), slice(64, 64)),
    ],
)
def test_window_holds_the_box_and_a_margin_inside_the_image(box, rows, columns):
    assert window(box, 64, 48) == (rows, columns)


def test_round_floats_rounds_plain_floats_and_leaves_the_rest_as_they_were():
    from simulator.labels.records import round_floats

    value = {"a": [0.1234567891, [2.5e-7, None, 3, True]], "b": np.float64(1.00000051), "c": "x"}
    rounded = round_floats(value)
    assert rounded == {"a": [0.123457, [0.0, None, 3, True]], "b": 1.000001, "c": "x"}
    assert type(rounded["b"]) is np.float64 and rounded["a"][1][3] is True
