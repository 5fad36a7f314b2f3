"""HDR environment maps read from files (simulator/scene/hdr.py): Radiance .hdr and OpenEXR
.exr written here with their own libraries (OpenCV, OpenEXR) and read back; every bad file is
one WorldError naming it; Poly Haven folders listed; area resampling keeps the light."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import OpenEXR
import pytest

from simulator.errors import WorldError
from simulator.scene.hdr import environment_files, read_environment, resample


def write_hdr(path: Path, rgb: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), np.ascontiguousarray(rgb[:, :, ::-1], np.float32))
    return path


def write_exr(path: Path, channels: dict[str, np.ndarray]) -> Path:
    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    OpenEXR.File(header, channels).write(str(path))
    return path


def red(height: int = 4) -> np.ndarray:
    image = np.zeros((height, 2 * height, 3), np.float32)
    image[..., 0] = 4.0
    return image


def band_weights(height: int) -> np.ndarray:
    """Solid angle of each row of an equirectangular image, from the row edges' elevations."""
    top = np.pi / 2 - np.pi * np.arange(height) / height
    return (np.sin(top) - np.sin(top - np.pi / height)) * (np.pi / height)


def mean_radiance(image: np.ndarray) -> np.ndarray:
    weights = band_weights(image.shape[0])[:, None, None]
    return (image * weights).sum(axis=(0, 1)) / (weights.sum() * image.shape[1])


def test_radiance_hdr_reads_back_equal_in_rgb_order(tmp_path):
    # k / 64 with k < 256 is exact in RGBE (8-bit mantissas, one shared exponent)
    rng = np.random.default_rng(3)
    image = (rng.integers(0, 256, (8, 16, 3)) / 64).astype(np.float32)
    env = read_environment(write_hdr(tmp_path / "map.hdr", image))
    np.testing.assert_array_equal(env.image, image)
    pure = read_environment(write_hdr(tmp_path / "red.hdr", red()))
    assert np.all(pure.image[..., 0] == 4.0) and not pure.image[..., 1:].any()
    assert pure.source == str((tmp_path / "red.hdr").resolve())


def test_openexr_reads_back_equal_float_half_and_rgba(tmp_path):
    rng = np.random.default_rng(4)
    image = (rng.random((8, 16, 3)) * 50).astype(np.float32)
    env = read_environment(write_exr(tmp_path / "float.exr", {"RGB": image}))
    np.testing.assert_array_equal(env.image, image)
    half = {c: image[..., i].astype(np.float16) for i, c in enumerate("RGB")}
    env = read_environment(write_exr(tmp_path / "half.exr", half))
    np.testing.assert_array_equal(env.image, image.astype(np.float16).astype(np.float32))
    rgba = np.concatenate([red(), np.full((4, 8, 1), 0.5, np.float32)], axis=-1)
    env = read_environment(write_exr(tmp_path / "rgba.exr", {"RGBA": rgba}))
    assert np.all(env.image[..., 0] == 4.0) and not env.image[..., 1:].any()


def test_a_read_is_kept_per_file_content_and_keyed_by_its_pixels(tmp_path):
    first = write_exr(tmp_path / "a.exr", {"RGB": red()})
    assert read_environment(first) is read_environment(first)
    assert not read_environment(first).image.flags.writeable  # shared: nobody paints on it
    same = read_environment(write_exr(tmp_path / "b.exr", {"RGB": red()}))
    assert same.key == read_environment(first).key  # content, not path
    write_exr(first, {"RGB": red() * 2})
    os.utime(first, ns=(10**18, 10**18))  # a new modification time: read again
    assert read_environment(first).image.max() == 8.0
    assert read_environment(first).key != same.key


def test_downsampling_keeps_the_mean_radiance_and_two_to_one(tmp_path):
    rng = np.random.default_rng(5)
    image = (rng.random((64, 128, 3)) ** 4 * 100).astype(np.float32)
    path = write_exr(tmp_path / "big.exr", {"RGB": image})
    for height in (32, 16, 24, 7):
        env = read_environment(path, height=height)
        assert env.image.shape == (height, 2 * height, 3)
        np.testing.assert_allclose(mean_radiance(env.image), mean_radiance(image), rtol=1e-5)
    # one exact 2x step: a pixel is its 2x2 block, rows weighted by their solid angle
    w = band_weights(64)[:2, None]
    block = (image[:2, :2] * w[:, :, None]).sum(axis=(0, 1)) / (2 * w.sum())
    np.testing.assert_allclose(read_environment(path, 32).image[0, 0], block, rtol=1e-5)
    assert read_environment(path, height=500).image.shape == (64, 128, 3)  # never enlarged


def test_resampling_up_replicates_and_keeps_the_light():
    image = np.arange(2 * 4 * 3, dtype=np.float32).reshape(2, 4, 3)
    up = resample(image, 4)
    assert up.shape == (4, 8, 3)
    np.testing.assert_allclose(mean_radiance(up), mean_radiance(image), rtol=1e-6)
    np.testing.assert_allclose(up[0, :2], image[0, :1].repeat(2, axis=0), rtol=1e-6)


def expect_error(path: Path | str, *words: str, **options) -> str:
    with pytest.raises(WorldError) as caught:
        read_environment(path, **options)
    message = str(caught.value)
    assert str(Path(path).resolve()) in message, message
    for word in words:
        assert word in message, message
    return message


def test_bad_files_are_one_clear_error_naming_the_file(tmp_path):
    (tmp_path / "junk.hdr").write_bytes(b"not a picture at all" * 20)
    expect_error(tmp_path / "junk.hdr", "cannot read this Radiance .hdr file", "corrupt")
    (tmp_path / "junk.exr").write_bytes(b"\x76\x2f\x31\x01" + b"\x00" * 64)  # EXR magic, no header
    expect_error(tmp_path / "junk.exr", "cannot read this OpenEXR file", "corrupt")
    whole = write_hdr(tmp_path / "whole.hdr", np.random.default_rng(6).random((32, 64, 3)))
    (tmp_path / "cut.hdr").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    expect_error(tmp_path / "cut.hdr", "truncated")
    full = write_exr(
        tmp_path / "full.exr", {"RGB": np.random.default_rng(7).random((32, 64, 3), np.float32)}
    )
    (tmp_path / "cut.exr").write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    expect_error(tmp_path / "cut.exr", "truncated")


def test_maps_that_are_not_radiance_are_refused(tmp_path):
    square = write_exr(tmp_path / "square.exr", {"RGB": np.ones((8, 8, 3), np.float32)})
    expect_error(square, "8x8 pixels", "twice as wide as high", "2:1")
    negative = red()
    negative[1, 2, 1] = -0.25
    expect_error(write_exr(tmp_path / "neg.exr", {"RGB": negative}), "negative", "-0.25")
    nan = red()
    nan[0, 0, 2], nan[3, 7, 0] = np.nan, np.inf
    expect_error(write_exr(tmp_path / "nan.exr", {"RGB": nan}), "2 NaN or infinite values")
    grey = write_exr(tmp_path / "grey.exr", {"Y": np.ones((4, 8), np.float32)})
    expect_error(grey, "no R, G and B channels", "it has: Y")
    cv2.imwrite(str(tmp_path / "photo.png"), np.zeros((4, 8, 3), np.uint8))
    (tmp_path / "photo.hdr").write_bytes((tmp_path / "photo.png").read_bytes())
    expect_error(tmp_path / "photo.hdr", "uint8", "not Radiance RGB radiance")


def test_wrong_extension_missing_file_and_bad_height(tmp_path):
    expect_error(tmp_path / "sky.png", "unknown environment map extension '.png'", ".hdr", ".exr")
    expect_error(tmp_path / "gone.hdr", "environment map not found")
    path = write_exr(tmp_path / "ok.exr", {"RGB": red()})
    expect_error(path, "height 0 is not a positive whole number", height=0)


def test_poly_haven_folders_keep_one_file_per_map(tmp_path):
    names = [
        "attic_1k.hdr", "attic_2k.hdr", "attic_4k.exr",  # several sizes: the 1k
        "barn/barn_2k.hdr", "barn/barn_4k.hdr",  # one folder per map, as downloaded
        "cave_4k.exr", "cave_8k.exr",
        "dune.hdr",  # no size tag
        "eave_2k.exr", "eave_2k.hdr",  # one size, both formats: the .hdr
        "fog_0k.exr", "fog_16k.exr",  # a "0k" tag is below 1k: the 16k
        "notes.txt", ".hidden_2k.hdr", "deep/er/lake_2k.hdr",  # skipped
    ]  # fmt: skip
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert environment_files(tmp_path) == [
        tmp_path / "attic_1k.hdr",
        tmp_path / "barn" / "barn_2k.hdr",
        tmp_path / "cave_4k.exr",
        tmp_path / "dune.hdr",
        tmp_path / "eave_2k.hdr",
        tmp_path / "fog_16k.exr",
    ]


def test_a_folder_without_maps_is_one_error(tmp_path):
    (tmp_path / "readme.txt").write_text("maps go here")
    with pytest.raises(
        WorldError, match=r"no environment maps in this folder \(put equirectangular"
    ):
        environment_files(tmp_path)
    with pytest.raises(WorldError, match="environment folder not found"):
        environment_files(tmp_path / "missing")
