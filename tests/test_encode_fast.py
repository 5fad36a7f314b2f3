"""The hand-written PNG encoder: valid files that decode to exactly what went in, byte for byte
deterministic, and the rounding helpers identical to their plain numpy definitions."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from simulator.dataset import encode

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def parse_png(data: bytes) -> tuple[dict, np.ndarray]:
    """A second, pure-Python/numpy PNG decoder (non-interlaced, 8-bit RGB or 16-bit gray):
    checks the signature, chunk order and every CRC, and undoes all five filter types."""
    assert data[:8] == SIGNATURE
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        position += 12 + length
    assert position == len(data)
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and chunks[-1][1] == b""
    assert set(kinds[1:-1]) == {b"IDAT"}
    width, height, depth, color_type, compression, filtering, interlace = struct.unpack(
        ">IIBBBBB", chunks[0][1]
    )
    header = {"width": width, "height": height, "bit_depth": depth, "color_type": color_type}
    assert (compression, filtering, interlace) == (0, 0, 0)
    channels = {0: 1, 2: 3}[color_type]
    bpp = channels * depth // 8
    stride = width * bpp
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    assert len(raw) == height * (1 + stride)
    lines = np.frombuffer(raw, np.uint8).reshape(height, 1 + stride)
    out = np.zeros((height, stride), np.uint8)
    previous = np.zeros(stride, np.uint8)
    for y in range(height):
        kind, line = int(lines[y, 0]), lines[y, 1:]
        if kind == 0:
            row = line.copy()
        elif kind == 1:
            row = np.cumsum(line.reshape(-1, bpp), axis=0, dtype=np.uint8).ravel()
        elif kind == 2:
            row = line + previous
        elif kind in (3, 4):
            row = np.zeros(stride, np.uint8)
            for x in range(stride):
                a = int(row[x - bpp]) if x >= bpp else 0
                b = int(previous[x])
                c = int(previous[x - bpp]) if x >= bpp else 0
                if kind == 3:
                    predictor = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
                row[x] = (int(line[x]) + predictor) % 256
        else:
            raise AssertionError(f"filter type {kind}")
        out[y] = previous = row
    if depth == 16:
        return header, out.view(">u2").reshape(height, width).astype(np.uint16)
    return header, out.reshape(height, width, channels)


def pillow(data: bytes) -> np.ndarray:
    return encode.read_png16(io.BytesIO(data))


def random_uint16(rng, shape) -> np.ndarray:
    values = rng.integers(0, 65536, size=shape, dtype=np.uint16)
    values.flat[0] = 0
    values.flat[-1] = 65535
    return values


def realistic_depth(height=480, width=640, seed=0) -> np.ndarray:
    """A floor plane from 4 m (bottom row) to 12 m (top), ten nearer blobs, no floor in the top
    20 % of rows (background 0)."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(12.0, 4.0, height, dtype=np.float32)[:, None]
    depth = np.broadcast_to(rows, (height, width)).astype(np.float32)
    y, x = np.mgrid[0:height, 0:width]
    for _ in range(10):
        cy, cx, r = rng.uniform(0.3 * height, height), rng.uniform(0, width), rng.uniform(10, 60)
        blob = (y - cy) ** 2 + (x - cx) ** 2 < r * r
        depth[blob] = rng.uniform(2.0, 4.0) + 0.001 * (x[blob] - cx)
    depth[: height // 5] = 0.0
    return depth


def realistic_instance(height=480, width=640, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    ids = np.zeros((height, width), np.uint32)
    y, x = np.mgrid[0:height, 0:width]
    for i in range(1, 11):
        cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(10, 60)
        ids[(y - cy) ** 2 + (x - cx) ** 2 < r * r] = i
    return ids


SHAPES = [(1, 1), (7, 5), (5, 7), (1, 9), (9, 1), (2, 2), (31, 17)]


@pytest.mark.parametrize("shape", SHAPES)
def test_random_uint16_round_trips_through_both_decoders(shape):
    values = random_uint16(np.random.default_rng(sum(shape)), shape)
    data = encode.png16_bytes(values)
    header, decoded = parse_png(data)
    assert header == {"width": shape[1], "height": shape[0], "bit_depth": 16, "color_type": 0}
    assert decoded.dtype == np.uint16 and np.array_equal(decoded, values)
    from_pillow = pillow(data)
    assert from_pillow.dtype == np.uint16 and np.array_equal(from_pillow, values)
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (shape[1], shape[0])
        assert np.array_equal(np.asarray(image), values)  # what the tests and tools read


@pytest.mark.parametrize(
    "values",
    [
        np.zeros((5, 7), np.uint16),
        np.full((3, 4), 65535, np.uint32),
        np.array([[0, 65535], [65535, 0]], np.int64),
        np.array([[0, 255, 256], [511, 65280, 65535]], np.uint32),  # byte borrows in the filter
        np.arange(256 * 3, dtype=np.uint16).reshape(3, 256) * 85,
    ],
)
def test_edge_values_round_trip(values):
    data = encode.png16_bytes(values)
    assert np.array_equal(parse_png(data)[1], values)
    assert np.array_equal(pillow(data), values)


def test_realistic_labels_round_trip(tmp_path):
    instance = realistic_instance()
    millimetres = encode.depth_millimetres(realistic_depth())
    for values in (instance, millimetres):
        data = encode.png16_bytes(values)
        assert np.array_equal(parse_png(data)[1], values)
        path = tmp_path / "label.png"
        path.write_bytes(data)
        assert np.array_equal(encode.read_png16(path), values)


def test_strided_and_fortran_inputs_encode_their_values():
    values = random_uint16(np.random.default_rng(3), (20, 30)).astype(np.uint32)
    for view in (values[::2, ::3], values[:, ::-1], np.asfortranarray(values), values.T):
        assert np.array_equal(pillow(encode.png16_bytes(view)), view)


def test_encoding_is_deterministic_and_independent_of_dtype_and_layout():
    values = random_uint16(np.random.default_rng(4), (48, 64))
    first = encode.png16_bytes(values)
    assert encode.png16_bytes(values) == first
    assert encode.png16_bytes(values.copy()) == first
    assert encode.png16_bytes(values.astype(np.uint32)) == first
    assert encode.png16_bytes(values.astype(np.int64)) == first
    assert encode.png16_bytes(np.asfortranarray(values)) == first
    assert encode.png16_bytes(values.astype(">u2")) == first
    instance = realistic_instance()
    assert encode.png16_bytes(instance) == encode.png16_bytes(instance.copy())


def test_encoding_does_not_modify_its_input():
    values = random_uint16(np.random.default_rng(5), (6, 8))
    kept = values.copy()
    encode.png16_bytes(values)
    assert np.array_equal(values, kept)


@pytest.mark.parametrize(
    "values",
    [
        np.array([[65536]], np.uint32),
        np.array([[0, 1], [2, 70000]], np.int64),
        np.full((4, 4), 2**32 - 1, np.uint32),
    ],
)
def test_values_beyond_16_bits_are_refused(values):
    with pytest.raises(ValueError, match="do not fit a 16-bit PNG"):
        encode.png16_bytes(values)


@pytest.mark.parametrize("shape", [(0, 5), (5, 0), (0, 0)])
def test_empty_images_are_refused(shape):
    with pytest.raises(ValueError, match="empty"):
        encode.png16_bytes(np.zeros(shape, np.uint16))


def reference_millimetres(depth):
    """The definition: metres * 1000 in the input's precision, rounded half to even, clipped."""
    return np.clip(np.rint(depth * 1000.0), 0, 65535).astype(np.uint16)


def test_depth_millimetres_matches_the_reference_on_random_depths():
    rng = np.random.default_rng(6)
    depth = np.concatenate(
        [
            rng.uniform(0, 70, 20000),
            rng.uniform(0, 0.01, 2000),
            rng.uniform(65.5, 65.6, 2000),
            [0.0, 65.535, 65.5345, 65.5355, 65.536, 70.0, 1e6, 1e30, np.inf, 0.0004, 0.0005],
        ]
    )
    for dtype in (np.float32, np.float64):
        values = depth.astype(dtype).reshape(1, -1)
        kept = values.copy()
        result = encode.depth_millimetres(values)
        assert result.dtype == np.uint16 and result.shape == values.shape
        assert np.array_equal(result, reference_millimetres(values))
        assert np.array_equal(values, kept)  # the input is not scaled in place


def test_depth_millimetres_rounds_exact_halves_to_even():
    for dtype in (np.float32, np.float64):
        halves = np.arange(0, 65536, dtype=np.float64) + 0.5
        depth = (halves / 1000.0).astype(dtype)
        exact = depth * dtype(1000.0) == halves  # those whose product is exactly k + 0.5
        assert exact.sum() > 10000
        depth = depth[exact]
        expected = reference_millimetres(depth)
        assert np.array_equal(encode.depth_millimetres(depth), expected)
        below = halves[exact] < 65535
        assert np.all(expected[below] % 2 == 0)  # half to even, never half up
        assert np.all(expected[~below] == 65535)
    assert encode.depth_millimetres(np.array([0.0005, 0.0015, 0.0025], np.float64)).tolist() == [
        0,
        2,
        2,
    ]


def test_depth_millimetres_saturates_and_keeps_background():
    depth = np.array([[0.0, 65.535, 65.5355, 80.0, np.inf, -0.0, -1.0]], np.float32)
    assert encode.depth_millimetres(depth).tolist() == [[0, 65535, 65535, 65535, 65535, 0, 0]]


def reference_normals(normal):
    background = ~normal.any(axis=2)
    rgb = np.clip(np.rint((normal + 1.0) * 127.5), 0, 255).astype(np.uint8)
    rgb[background] = 0
    return rgb


def test_normals_png_matches_the_reference_and_round_trips():
    rng = np.random.default_rng(7)
    normal = rng.normal(size=(37, 53, 3)).astype(np.float32)
    normal /= np.linalg.norm(normal, axis=2, keepdims=True)
    normal[rng.random((37, 53)) < 0.3] = 0.0
    normal[0, 0] = [-0.0, 0.0, -0.0]  # negative zeros are background, as with any()
    normal[0, 1] = [0.0, 0.0, 1e-45]  # a denormal is not
    normal[0, 2] = [1.5, -1.5, 0.0]  # out of range: clipped
    normal[0, 3] = [-1.0, -1.0, -1.0]  # all components map to 0 but it is not background
    normal[0, 4] = [0.003921568, -0.003921568, 0.0]  # (n + 1) * 127.5 near x.5
    expected = reference_normals(normal)
    assert expected[0, 0].tolist() == [0, 0, 0] and expected[0, 1].tolist() == [128, 128, 128]
    data = encode.normals_png_bytes(normal)
    header, decoded = parse_png(data)
    assert header == {"width": 53, "height": 37, "bit_depth": 8, "color_type": 2}
    assert np.array_equal(decoded, expected)
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGB" and np.array_equal(np.asarray(image), expected)
    assert encode.normals_png_bytes(normal.copy()) == data


@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 5, 3), (48, 64, 3)])
def test_color_png_round_trips(shape):
    color = np.random.default_rng(8).integers(0, 256, size=shape, dtype=np.uint8)
    color.flat[0], color.flat[-1] = 0, 255
    data = encode.color_bytes(color, "png")
    assert np.array_equal(parse_png(data)[1], color)
    with Image.open(io.BytesIO(data)) as image:
        assert image.mode == "RGB" and np.array_equal(np.asarray(image), color)
    assert encode.color_bytes(color.copy(), "png") == data
    for view in (color[::-1], color[:, ::2], np.asfortranarray(color)):
        assert np.array_equal(parse_png(encode.color_bytes(view, "png"))[1], view)


def test_color_jpeg_is_still_a_jpeg():
    color = np.random.default_rng(9).integers(0, 256, size=(16, 24, 3), dtype=np.uint8)
    data = encode.color_bytes(color, "jpg", 90)
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG" and image.size == (24, 16)


def test_decoder_undoes_every_filter_type():
    """The test decoder itself: a PNG that Pillow writes with adaptive filters decodes to the
    same values, so the checks above do not merely mirror the encoder."""
    rng = np.random.default_rng(10)
    color = rng.integers(0, 256, size=(24, 20, 3), dtype=np.uint8)
    color[8:16] = np.cumsum(color[8:16], axis=1, dtype=np.uint8)  # smooth rows pick other filters
    buffer = io.BytesIO()
    Image.fromarray(color).save(buffer, "PNG", compress_level=9)
    raw = zlib.decompress(parse_png_idat(buffer.getvalue()))
    assert len({raw[y * (1 + 60)] for y in range(24)}) > 1  # several filter types in play
    assert np.array_equal(parse_png(buffer.getvalue())[1], color)


def parse_png_idat(data: bytes) -> bytes:
    position, idat = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        if data[position + 4 : position + 8] == b"IDAT":
            idat.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return b"".join(idat)
