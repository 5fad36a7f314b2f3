"""Image-based light precomputed in numpy (simulator/engine/ibl.py), against integrals written
here over dense grids of directions: SH9 irradiance, GGX-prefiltered levels, the split-sum
BRDF table; and their caches."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.engine import ibl
from simulator.scene.environment import Environment


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Each test its own cache folder and an empty memory."""
    monkeypatch.setenv("SIM_CACHE_DIR", str(tmp_path))
    ibl._memory.clear()
    ibl._brdf_lut.cache_clear()
    yield tmp_path / "ibl"
    ibl._memory.clear()
    ibl._brdf_lut.cache_clear()


def grid(height: int) -> tuple[np.ndarray, np.ndarray]:
    """Directions (height, 2 height, 3) through equirectangular pixel centres, written here in
    the module's convention (Blender's: centre column +X, top row the zenith), and each
    pixel's solid angle (height, 1)."""
    theta = np.pi / 2 - np.pi * (np.arange(height) + 0.5) / height  # elevation
    phi = np.pi - 2 * np.pi * (np.arange(2 * height) + 0.5) / (2 * height)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    d = np.stack([np.cos(t) * np.cos(p), np.cos(t) * np.sin(p), np.sin(t)], axis=-1)
    top = np.pi / 2 - np.pi * np.arange(height) / height
    area = (np.sin(top) - np.sin(top - np.pi / height)) * (np.pi / height)
    return d, area[:, None]


def env_from(function, height: int) -> Environment:
    d, _ = grid(height)
    return Environment(np.asarray(function(d), np.float32))


def brute_irradiance(env: Environment, normals: np.ndarray, height: int = 96) -> np.ndarray:
    """E(n) = sum L(l) max(0, n.l) dOmega over a grid, L looked up with rotation and
    intensity (Environment.radiance)."""
    d, area = grid(height)
    radiance = env.radiance(d).reshape(-1, 3)
    weights = (
        np.maximum(normals @ d.reshape(-1, 3).T, 0) * np.broadcast_to(area, d.shape[:2]).ravel()
    )
    return weights @ radiance


def random_normals(count: int, seed: int = 0) -> np.ndarray:
    n = np.random.default_rng(seed).normal(size=(count, 3))
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def turn(d: np.ndarray, degrees: float) -> np.ndarray:
    a = np.radians(degrees)
    rotation = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
    return d @ rotation.T


# --- SH9 irradiance ---------------------------------------------------------------------------


def test_a_uniform_environment_gives_pi_times_its_radiance_everywhere():
    radiance = np.array([2.0, 1.0, 0.5])
    env = Environment(np.broadcast_to(radiance, (32, 64, 3)))
    e = ibl.eval_sh(ibl.irradiance_sh(env), random_normals(200))
    np.testing.assert_allclose(e, np.broadcast_to(np.pi * radiance, e.shape), rtol=1e-3)


def test_a_smooth_environment_matches_the_brute_force_irradiance():
    # 1 - 0.3 x is band 0 and 1, exact in SH9; max(0, z) has bands above 2, but the clamped
    # cosine keeps only ~1% of them (A3 = 0, A4 = pi / 24): SH9 is exact to about 1%
    env = env_from(lambda d: (1 + np.maximum(0, d[..., 2:]) - 0.3 * d[..., :1]) * [1, 0.5, 2], 64)
    normals = random_normals(100, seed=1)
    expected = brute_irradiance(env, normals)
    np.testing.assert_allclose(ibl.eval_sh(ibl.irradiance_sh(env), normals), expected, rtol=0.01)


def test_a_small_bright_patch_lights_the_side_that_faces_it():
    # a patch is far from band-limited: SH9 gets its irradiance to ~10% of the peak (the
    # clamped cosine's own SH9 error), enough to light the right side at the right strength
    axis = np.array([0.6, -0.3, 0.74]) / np.linalg.norm([0.6, -0.3, 0.74])
    env = env_from(lambda d: 0.01 + 200.0 * (d @ axis > 0.985)[..., None] * [1, 1, 1], 128)
    normals = random_normals(300, seed=2)
    expected = brute_irradiance(env, normals, height=128)
    got = ibl.eval_sh(ibl.irradiance_sh(env), normals)
    assert np.abs(got - expected).max() < 0.1 * expected.max()
    facing = ibl.eval_sh(ibl.irradiance_sh(env), axis)
    np.testing.assert_allclose(facing, brute_irradiance(env, axis[None])[0], rtol=0.1)


def test_rotation_turns_the_lookup_and_intensity_multiplies():
    """Documented: coefficients are in the unturned image's axes; the renderer looks up
    turn(n, -rotation) and multiplies by intensity."""
    env = env_from(lambda d: 1 + np.maximum(0, d[..., :1]) * [3, 1, 0] + 0.5 * d[..., 1:2] ** 2, 64)
    turned = env.turned(40.0, intensity=2.5)
    coeffs = ibl.irradiance_sh(turned)
    np.testing.assert_array_equal(coeffs, ibl.irradiance_sh(env))
    normals = random_normals(100, seed=3)
    got = turned.intensity * ibl.eval_sh(coeffs, turn(normals, -40.0))
    np.testing.assert_allclose(got, brute_irradiance(turned, normals), rtol=0.02)
    unturned = ibl.eval_sh(coeffs, normals)
    assert np.abs(got - 2.5 * unturned).max() > 0.1  # the turn matters for this environment


# --- the prefiltered specular levels -----------------------------------------------------------


def spot(height: int, axis=(0.3, 0.5, 0.81), width: float = 0.995) -> Environment:
    axis = np.asarray(axis) / np.linalg.norm(axis)
    return env_from(lambda d: 0.1 + 50.0 * (d @ axis > width)[..., None] * [1, 0.5, 0.25], height)


def total(image: np.ndarray) -> np.ndarray:
    """Radiance integrated over the sphere."""
    _, area = grid(image.shape[0])
    return (image * area[:, :, None]).sum(axis=(0, 1))


def test_levels_have_their_sizes_and_roughness():
    done = ibl.prefilter(spot(32), levels=6, size=64)
    assert [s.shape for s in done.specular] == [(64 >> i, 2 * (64 >> i), 3) for i in range(6)]
    assert all(s.dtype == np.float32 and not s.flags.writeable for s in done.specular)
    assert done.roughness == (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    assert done.irradiance.shape == (9, 3)
    np.testing.assert_array_equal(done.irradiance, ibl.irradiance_sh(spot(32)))
    with pytest.raises(ValueError, match="levels >= 2"):
        ibl.prefilter(spot(32), levels=1)
    with pytest.raises(ValueError, match=r"size >= 2\*\*\(levels-1\)"):
        ibl.prefilter(spot(32), levels=6, size=16)


def test_a_uniform_environment_stays_uniform_at_every_level():
    env = Environment(np.broadcast_to(np.float32([3.0, 2.0, 0.25]), (32, 64, 3)))
    for level in ibl.prefilter(env, levels=5, size=32).specular:
        np.testing.assert_allclose(level, np.broadcast_to([3.0, 2.0, 0.25], level.shape), rtol=1e-5)


def test_level_zero_is_the_environment_resampled():
    env = spot(64)
    np.testing.assert_array_equal(ibl.prefilter(env, levels=4, size=64).specular[0], env.image)
    # at half the size: each pixel the solid-angle weighted mean of its 2x2 block
    _, area = grid(64)
    weighted = env.image * area[:, :, None]
    blocks = weighted.reshape(32, 2, 64, 2, 3).sum(axis=(1, 3)) / (
        area.reshape(32, 2).sum(axis=1)[:, None, None] * 2
    )
    np.testing.assert_allclose(ibl.prefilter(env, levels=4, size=32).specular[0], blocks, rtol=1e-5)


def test_every_level_keeps_the_light_the_filter_is_normalised():
    env = spot(64)
    for level in ibl.prefilter(env).specular:  # the defaults: 6 levels, 128 rows
        np.testing.assert_allclose(total(level), total(env.image), rtol=0.01)


def brute_ggx(env: Environment, height: int, roughness: float) -> np.ndarray:
    """Every output pixel against every source pixel, written plainly: h = normalise(n + l),
    D_GGX(n.h) with alpha = roughness^2, weight D (n.l) dOmega."""
    source, area = grid(env.image.shape[0])
    light = source.reshape(-1, 3)
    d_omega = np.broadcast_to(area, source.shape[:2]).ravel()
    radiance = env.image.reshape(-1, 3).astype(float)
    a2 = roughness**4
    out = []
    for n in np.array_split(grid(height)[0].reshape(-1, 3), 16):
        h = n[:, None, :] + light[None, :, :]
        h /= np.linalg.norm(h, axis=-1, keepdims=True)
        n_dot_h = np.einsum("nc,nlc->nl", n, h)
        w = a2 / (np.pi * (n_dot_h**2 * (a2 - 1) + 1) ** 2) * np.maximum(n @ light.T, 0) * d_omega
        out.append((w @ radiance) / w.sum(axis=1, keepdims=True))
    return np.concatenate(out).reshape(height, 2 * height, 3)


def test_levels_match_a_brute_force_ggx_integral():
    # a 64-row map and size 64: each level filters the map at its own resolution
    env = spot(64, width=0.98)
    done = ibl.prefilter(env, levels=4, size=64)
    for i in (1, 2, 3):
        level = done.specular[i]
        expected = brute_ggx(env, level.shape[0], i / 3)
        np.testing.assert_allclose(level, expected, atol=1e-4 * expected.max())


def test_a_bright_spot_spreads_wider_and_dimmer_with_roughness():
    axis = np.array([0.3, 0.5, 0.81]) / np.linalg.norm([0.3, 0.5, 0.81])
    done = ibl.prefilter(spot(64), levels=6, size=64)
    spreads, peaks = [], []
    for level in done.specular[1:]:
        d, area = grid(level.shape[0])
        excess = (level[..., 0] - 0.1) * area  # the spot's light, above the background
        angle = np.arccos(np.clip(d @ axis, -1, 1))
        spreads.append(float((excess * angle**2).sum() / excess.sum()))
        peaks.append(float(level[..., 0].max()))
    assert spreads == sorted(spreads) and spreads[0] < 0.5 * spreads[-1]
    assert peaks == sorted(peaks, reverse=True)


# --- mixes of environments ---------------------------------------------------------------------


def two_skies(height: int) -> tuple[Environment, Environment]:
    """A low sun in clear air and a high one in haze: light from very different places."""
    from simulator.scene.sky import sky_environment

    low = sky_environment(8.0, 0.0, 2.0, height=height)
    return low, sky_environment(70.0, 0.0, 8.0, height=height)


def blended(parts: list[tuple[Environment, float]]) -> Environment:
    """The mix's image written here: the weighted sum of the parts' pixels."""
    return Environment(sum(w * e.image.astype(float) for e, w in parts))


def pixel_irradiance(env: Environment, normals: np.ndarray) -> np.ndarray:
    """E(n) = sum over the image's own pixels of L max(0, n.l) dOmega."""
    d, area = grid(env.image.shape[0])
    cosines = np.maximum(normals @ d.reshape(-1, 3).T, 0)
    return (cosines * np.broadcast_to(area, d.shape[:2]).ravel()) @ env.image.reshape(-1, 3)


def test_a_mixs_irradiance_is_that_of_its_blended_image():
    low, high = two_skies(32)
    mix = Environment.mix([(low, 0.3), (high, 0.7)])
    normals = random_normals(200, seed=4)
    expected = pixel_irradiance(blended([(low, 0.3), (high, 0.7)]), normals)
    got = ibl.eval_sh(ibl.prefilter(mix, levels=4, size=32).irradiance, normals)
    assert np.abs(got - expected).max() < 0.02 * expected.max()  # SH9's own error, ~1% here
    swapped = pixel_irradiance(blended([(low, 0.7), (high, 0.3)]), normals)
    assert np.abs(swapped - expected).max() > 0.3 * expected.max()  # the weights matter


def test_a_mixs_levels_are_the_brute_force_ggx_integral_of_its_blended_image():
    low, high = two_skies(64)
    parts = [(low, 0.6), (high, 0.25)]  # weights need not sum to 1
    done = ibl.prefilter(Environment.mix(parts), levels=4, size=64)
    image = blended(parts)
    np.testing.assert_allclose(done.specular[0], image.image, rtol=1e-6)
    for i in (1, 2, 3):
        expected = brute_ggx(image, done.specular[i].shape[0], i / 3)
        np.testing.assert_allclose(done.specular[i], expected, atol=1e-4 * expected.max())


def test_a_mixs_light_is_the_prefiltering_of_its_image_without_prefiltering_it(cache):
    """Linear: the blend of the parts' cached light is the light of the blended image, to
    float rounding; only the parts are prefiltered and kept, never the mix."""
    low, high = two_skies(32)
    mix = Environment.mix([(low, 0.45), (high, 0.55)])
    done = ibl.prefilter(mix, levels=4, size=32)
    assert not done.cached and len(list(cache.glob("*.npz"))) == 2  # the parts
    assert ibl.prefilter(Environment.mix([(low, 0.5), (high, 0.5)]), levels=4, size=32).cached
    assert len(list(cache.glob("*.npz"))) == 2 and len(ibl._memory) == 2
    direct = ibl.prefilter(blended([(low, 0.45), (high, 0.55)]), levels=4, size=32)
    for a, b in zip(done.specular, direct.specular, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * b.max())
    np.testing.assert_allclose(done.irradiance, direct.irradiance, rtol=1e-5, atol=1e-6)


def test_the_engine_meters_a_turned_mix_by_its_blended_image():
    from simulator.engine.environment import EnvironmentMaps
    from simulator.scene.sky import horizontal_illuminance

    low, high = two_skies(32)
    mix = Environment.mix([(low, 0.2), (high, 0.8)]).turned(75.0, intensity=3.0)
    up = EnvironmentMaps().irradiance_up(mix)
    up_facing = np.array([[0.0, 0.0, 1.0]])
    expected = 3.0 * pixel_irradiance(blended([(low, 0.2), (high, 0.8)]), up_facing)[0]
    np.testing.assert_allclose(up, expected / np.pi, rtol=0.01)
    # the sky's scale meters the same image (its quadrature: exact per row band, not per pixel)
    np.testing.assert_allclose(horizontal_illuminance(mix), expected, rtol=2e-3)


# --- caching ----------------------------------------------------------------------------------


def test_prefiltered_light_is_kept_in_memory_and_on_disk(cache):
    env = spot(32)
    first = ibl.prefilter(env, levels=4, size=32)
    assert not first.cached and first.seconds > 0
    again = ibl.prefilter(env.turned(90.0, intensity=3.0), levels=4, size=32)  # same image
    assert again.cached and again.specular[2] is first.specular[2]
    assert len(list(cache.glob("*.npz"))) == 1
    ibl._memory.clear()  # a new process
    read = ibl.prefilter(env, levels=4, size=32)
    assert read.cached and read.key == first.key
    for a, b in zip(read.specular, first.specular, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(read.irradiance, first.irradiance)
    assert not ibl.prefilter(env, levels=5, size=32).cached  # other parameters, other light


def test_a_corrupt_cache_file_is_recomputed_and_rewritten(cache):
    env = spot(32)
    first = ibl.prefilter(env, levels=4, size=32)
    [file] = cache.glob("*.npz")
    for junk in (b"not an npz", file.read_bytes()[:200]):
        file.write_bytes(junk)
        ibl._memory.clear()
        again = ibl.prefilter(env, levels=4, size=32)
        assert not again.cached
        np.testing.assert_array_equal(again.specular[1], first.specular[1])
    ibl._memory.clear()
    assert ibl.prefilter(env, levels=4, size=32).cached  # rewritten whole
    assert [p.name for p in cache.iterdir()] == [file.name]  # no temporary left


# --- the BRDF table ---------------------------------------------------------------------------


def brute_brdf(n_dot_v: float, roughness: float) -> tuple[float, float]:
    """(scale, bias): integral of D V F (n.l) dOmega_l over a regular grid of the hemisphere,
    F = F0 (1 - Fc) + Fc with Fc = (1 - v.h)^5, V height-correlated Smith."""
    a2 = roughness**4
    rows, columns = 600, 1200
    theta = (np.arange(rows) + 0.5) * (np.pi / 2) / rows
    phi = (np.arange(columns) + 0.5) * 2 * np.pi / columns
    t, p = np.meshgrid(theta, phi, indexing="ij")
    light = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], axis=-1)
    d_omega = np.sin(t) * (np.pi / 2 / rows) * (2 * np.pi / columns)
    v = np.array([np.sqrt(1 - n_dot_v**2), 0.0, n_dot_v])
    h = (light + v) / np.linalg.norm(light + v, axis=-1, keepdims=True)
    n_dot_l, n_dot_h, v_dot_h = light[..., 2], h[..., 2], h @ v
    d = a2 / (np.pi * (n_dot_h**2 * (a2 - 1) + 1) ** 2)
    vis = 0.5 / (
        n_dot_l * np.sqrt(n_dot_v**2 * (1 - a2) + a2)
        + n_dot_v * np.sqrt(n_dot_l**2 * (1 - a2) + a2)
    )
    fc = (1 - v_dot_h) ** 5
    f = d * vis * n_dot_l * d_omega
    return float(((1 - fc) * f).sum()), float((fc * f).sum())


def test_the_brdf_table_matches_a_grid_integral_of_the_same_brdf():
    table = ibl.brdf_lut()
    assert table.shape == (32, 32, 2) and table.dtype == np.float32
    cosines, roughnesses = ibl.lut_axes(32)
    for row, column in [
        (6, 3),
        (6, 12),
        (10, 3),
        (10, 31),
        (20, 1),
        (20, 12),
        (31, 1),
        (31, 3),
        (31, 31),
    ]:
        n_dot_v, roughness = cosines[column], roughnesses[row]  # texel centres
        np.testing.assert_allclose(table[row, column], brute_brdf(n_dot_v, roughness), atol=0.015)


def test_the_brdf_table_creates_no_energy():
    table = ibl.brdf_lut()
    rough = ibl.lut_axes(32)[1] >= 0.02
    # Hammersley's 512 samples estimate to ~1e-4; the exact albedo is at most 1
    assert (table[rough].sum(axis=-1) <= 1 + 1e-3).all()
    assert (table[-1, :8].sum(axis=-1) < 0.95).all()  # rough and grazing: energy is lost
    assert (table[-1].sum(axis=-1) < 1).all() and table[-1, -1].sum() < 0.4
    assert (table >= 0).all()


def test_the_brdf_table_is_computed_once_and_kept_on_disk(cache):
    table = ibl.brdf_lut(16, 64)
    assert ibl.brdf_lut(16, 64) is table and not table.flags.writeable
    [file] = cache.glob("brdf-lut-*.npy")
    ibl._brdf_lut.cache_clear()
    np.testing.assert_array_equal(ibl.brdf_lut(16, 64), table)
    file.write_bytes(b"junk")
    ibl._brdf_lut.cache_clear()
    np.testing.assert_array_equal(ibl.brdf_lut(16, 64), table)  # recomputed
    assert np.load(file).shape == (16, 16, 2)


def test_a_run_can_report_what_prefiltering_cost(cache):
    import time

    began = time.time() - 1.0
    assert ibl.prefiltered_since(began) == (0, 0.0)
    first = env_from(lambda d: 1 + np.maximum(0, d[..., :1]) * [2, 1, 0], 32)
    ibl.prefilter(first, levels=3, size=16)
    ibl.prefilter(first, levels=3, size=16)  # from memory: nothing new on disk
    count, seconds = ibl.prefiltered_since(began)
    assert count == 1 and seconds > 0
    ibl.prefilter(env_from(lambda d: 2 + d[..., :1] * [0, 1, 1], 32), levels=3, size=16)
    assert ibl.prefiltered_since(began)[0] == 2
    assert ibl.prefiltered_since(time.time() + 60) == (0, 0.0)
