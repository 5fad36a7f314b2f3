"""Pass encodings: what is in the files is what the passes held."""

import io

import numpy as np
from PIL import Image

from simulator.dataset import encode


def test_depth_png_is_millimetres_with_zero_background_and_saturation():
    depth = np.array([[0.0, 1.2344, 1.2346], [65.535, 70.0, 0.0004]], np.float32)
    mm = encode.depth_millimetres(depth)
    assert mm.tolist() == [[0, 1234, 1235], [65535, 65535, 0]]
    decoded = np.asarray(Image.open(io.BytesIO(encode.png16_bytes(mm))))
    assert decoded.dtype == np.uint16 and np.array_equal(decoded, mm)


def test_npy_round_trips_float32():
    values = np.random.default_rng(0).random((4, 5, 3)).astype(np.float32)
    assert np.array_equal(np.load(io.BytesIO(encode.npy_bytes(values))), values)


def test_normals_png_encodes_half_offset_and_keeps_background_black():
    normal = np.zeros((1, 3, 3), np.float32)
    normal[0, 0] = [0, 0, -1]
    normal[0, 1] = [1, 0, 0]
    rgb = np.asarray(Image.open(io.BytesIO(encode.normals_png_bytes(normal))))
    assert rgb[0].tolist() == [[128, 128, 0], [255, 128, 128], [0, 0, 0]]


def test_instance_ids_beyond_255_survive_the_png():
    ids = np.arange(0, 70000, 7, dtype=np.uint32)[:10000].reshape(100, 100) % 65536
    decoded = np.asarray(Image.open(io.BytesIO(encode.png16_bytes(ids))))
    assert np.array_equal(decoded, ids)
