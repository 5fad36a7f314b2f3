"""Image-based light precomputed from an `Environment`, in numpy (no Panda3D): what the shader
needs to light a glTF metallic-roughness surface by the whole environment.

- Diffuse: the irradiance E(n) as 9 real spherical-harmonic coefficients (Ramamoorthi &
  Hanrahan 2001, "An Efficient Representation for Irradiance Environment Maps"): project the
  radiance, L_lm = sum L(w) Y_lm(w) dOmega, and convolve with the clamped cosine, E_lm = A_l
  L_lm (A0 = pi, A1 = 2 pi / 3, A2 = pi / 4). `eval_sh(coeffs, n)` is then E(n), and a
  Lambertian albedo a reflects radiance a E(n) / pi.
- Specular: Karis 2013, "Real Shading in Unreal Engine 4", split sum. Its first factor is
  the radiance prefiltered by the GGX lobe with n = v = r, one equirectangular level per
  roughness: sum L(l) D(h) (n.l) dOmega / sum D(h) (n.l) dOmega (importance sampling with
  pdf D(h) / 4 gives the same weights). Its second factor is `brdf_lut`: the directional
  albedo of the GGX BRDF as scale and bias on F0.

Both are computed in the environment's own, unturned axes and at intensity 1, once per image
(`Environment.key`): the renderer turns its lookup direction by -rotation about +Z (as
`Environment.radiance` does) and multiplies by intensity, so neither costs a recomputation.
SH coefficient order: Y00; Y1-1 (y), Y10 (z), Y11 (x); Y2-2 (xy), Y2-1 (yz), Y20
(3z^2 - 1), Y21 (xz), Y22 (x^2 - y^2).

A mix of environments (`Environment.mix`, sum w_i L_i) is not prefiltered: every step above
is linear in the radiance (area resampling, the GGX-weighted mean, whose weights depend on
directions only, and the SH projection), so the mix's light is the same weighted sum of its
parts' light, level by level and coefficient by coefficient: the prefiltering of the mix's
image, up to float rounding, for the cost of a few array sums (`mixed`).

Results are cached in memory and on disk (`$SIM_CACHE_DIR`, else `~/.cache/sim`, folder
`ibl/`, held under `$SIM_CACHE_LIMIT` by simulator.dataset.cache), npz files keyed by the
image, the parameters and `VERSION`; an unreadable cache file is recomputed and rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import io
import time
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from simulator.dataset import cache
from simulator.scene.environment import Environment, pixel_directions, solid_angles
from simulator.scene.hdr import resample

VERSION = "ibl-2"  # part of every cache key: bump when what is computed changes
SH_HEIGHT = 128  # SH9 is band-limited: a 128-row source projects as well as the full map
_ROWS = 8  # output rows per chunk of the prefilter (bounds its memory)
_PIXELS_PER_ALPHA = 2.0  # prefilter sources resolve the GGX lobe: pixels under alpha / 2
_CLAMPED_COSINE = np.array([np.pi] + [2 * np.pi / 3] * 3 + [np.pi / 4] * 5)


@dataclass(frozen=True)
class Prefiltered:
    """The light of one environment image: specular level i, (size >> i, 2 (size >> i), 3)
    float32, is prefiltered for roughness i / (levels - 1); irradiance is SH9 (9, 3).
    `seconds` is what getting it cost this call, `cached` whether it was read back."""

    key: str
    specular: tuple[np.ndarray, ...]
    irradiance: np.ndarray
    seconds: float = 0.0
    cached: bool = False

    @property
    def roughness(self) -> tuple[float, ...]:
        levels = len(self.specular)
        return tuple(i / (levels - 1) for i in range(levels))


KIND = "ibl"  # the disk cache's folder
# The last MEMORY_KEPT used, least recently used first: 0.5 MB each at the engine's size, and
# enough for the grid skies a run of the sky randomizer blends (4 a frame, a few dozen a run).
MEMORY_KEPT = 64
_memory: dict[str, Prefiltered] = {}


def cache_dir() -> Path:
    """Where prefiltered light and the BRDF table are kept across runs (dataset.cache)."""
    return cache.folder(KIND)


def sh_basis(directions: np.ndarray) -> np.ndarray:
    """The 9 real SH basis functions (..., 9) at unit `directions` (..., 3)."""
    d = np.asarray(directions, float)
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    return np.stack(
        [
            np.full_like(x, 0.282095),
            0.488603 * y, 0.488603 * z, 0.488603 * x,
            1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3 * z * z - 1),
            1.092548 * x * z, 0.546274 * (x * x - y * y),
        ],
        axis=-1,
    )  # fmt: skip


def eval_sh(coeffs: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Sum of `coeffs` (9, 3) times the basis at `normals` (..., 3): (..., 3)."""
    return sh_basis(normals) @ np.asarray(coeffs, float)


def irradiance_sh(env: Environment) -> np.ndarray:
    """The SH9 coefficients (9, 3) of the irradiance E(n) of `env`'s image (unturned,
    intensity 1): eval_sh(coeffs, n) = integral of L(l) max(0, n.l) dOmega."""
    image = env.image if env.image.shape[0] <= SH_HEIGHT else resample(env.image, SH_HEIGHT)
    h = image.shape[0]
    weights = sh_basis(pixel_directions(h)) * solid_angles(h)[:, :, None]  # (h, 2h, 9)
    radiance_sh = np.einsum("hwk,hwc->kc", weights, image.astype(float))
    return radiance_sh * _CLAMPED_COSINE[:, None]


def prefilter(env: Environment, levels: int = 6, size: int = 128) -> Prefiltered:
    """The split sum's prefiltered radiance of `env` as `levels` equirectangular levels, the
    first `size` rows high, and its SH9 irradiance: from memory, disk, or computed."""
    if levels < 2 or size >> (levels - 1) < 1:
        raise ValueError(f"prefilter needs levels >= 2 and size >= 2**(levels-1): {levels}, {size}")
    if env.parts:
        return mixed(env, levels, size)
    start = time.perf_counter()
    key = f"{env.key}|ggx:{levels}x{size}|{VERSION}"
    if key in _memory:
        _memory[key] = _memory.pop(key)  # the most recently used, last
        return replace(_memory[key], seconds=time.perf_counter() - start, cached=True)
    name = hashlib.blake2b(key.encode(), digest_size=16).hexdigest() + ".npz"
    found = _read(cache_dir() / name, levels, size)
    if found is None:
        base = env.image if len(env.image) <= 4 * size else resample(env.image, 4 * size)
        specular = tuple(_level(base, size >> i, i / (levels - 1), size) for i in range(levels))
        irradiance = irradiance_sh(env)
        buffer = io.BytesIO()
        # arr_0, then arr_1... the levels; and what they cost, for `prefiltered_since`
        np.savez(buffer, irradiance, *specular, seconds=time.perf_counter() - start)
        cache.store(KIND, name, buffer.getvalue())
    else:
        specular, irradiance = found
        cache.used(cache_dir() / name)
    for array in (*specular, irradiance):
        array.flags.writeable = False  # shared by every frame that uses this environment
    done = Prefiltered(key, specular, irradiance, time.perf_counter() - start, found is not None)
    while len(_memory) >= MEMORY_KEPT:
        _memory.pop(next(iter(_memory)))
    _memory[key] = done
    return done


def mixed(env: Environment, levels: int = 6, size: int = 128) -> Prefiltered:
    """A mix's light: its parts' light (each from memory, disk or computed) summed with the
    mix's weights, in its parts' order. Kept neither in memory nor on disk: a sky animated
    over a clip is a new mix every frame, and would push out the parts it is made of."""
    start = time.perf_counter()
    done = [(prefilter(part, levels, size), weight) for part, weight in env.parts]
    specular = tuple(
        _weighted([(light.specular[i], weight) for light, weight in done]).astype(np.float32)
        for i in range(levels)
    )
    irradiance = _weighted([(light.irradiance, weight) for light, weight in done])
    for array in (*specular, irradiance):
        array.flags.writeable = False
    cached = all(light.cached for light, _ in done)
    key = f"{env.key}|ggx:{levels}x{size}|{VERSION}"
    return Prefiltered(key, specular, irradiance, time.perf_counter() - start, cached)


def _weighted(terms: list[tuple[np.ndarray, float]]) -> np.ndarray:
    """sum w a over (a, w), in float64, in the order given."""
    total = np.zeros(terms[0][0].shape)
    for array, weight in terms:
        total += array.astype(np.float64) * weight
    return total


def prefiltered_since(moment: float) -> tuple[int, float]:
    """How many environments were prefiltered into the disk cache since `moment` (a
    time.time()), by any process, and the seconds that took: what a run reports."""
    count, seconds = 0, 0.0
    for path in cache_dir().glob("*.npz") if cache_dir().is_dir() else ():
        try:
            if path.stat().st_mtime < moment:
                continue
            with path.open("rb") as file, np.load(file) as data:
                seconds += float(data["seconds"]) if "seconds" in data else 0.0
            count += 1
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            continue
    return count, seconds


def _read(path: Path, levels: int, size: int) -> tuple[tuple[np.ndarray, ...], np.ndarray] | None:
    """A cache file's levels and irradiance, or None when missing or unreadable."""
    try:
        with path.open("rb") as file, np.load(file) as data:  # our handle: closed on junk too
            specular = tuple(np.asarray(data[f"arr_{i + 1}"], np.float32) for i in range(levels))
            irradiance = np.asarray(data["arr_0"], float)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    shapes = [s.shape for s in specular] + [irradiance.shape]
    wanted = [(size >> i, 2 * (size >> i), 3) for i in range(levels)] + [(9, 3)]
    if shapes != wanted or not all(np.all(np.isfinite(a)) for a in (*specular, irradiance)):
        return None
    return specular, irradiance


def _level(image: np.ndarray, height: int, roughness: float, size: int) -> np.ndarray:
    """One prefiltered level: for every output direction r (pixel centre), the mean of the
    source's radiance L(l) weighted by D_GGX(n.h) max(0, n.l) dOmega_l with n = v = r.

    Every output pixel is brute force over every source pixel, made cheap by symmetry: the
    weights depend only on r.l, so along an output row they are the row's first pixel's
    weights turned in azimuth, and the sum over source columns is a circular
    cross-correlation (FFT). The source is the map area-resampled to a multiple of `height`
    rows, fine enough for the lobe (pixels under alpha / 2), at least `size`."""
    if roughness == 0:
        return resample(image, height)
    alpha2 = roughness**4  # alpha = roughness^2 (glTF, Karis)
    wanted = min(max(size, int(np.ceil(_PIXELS_PER_ALPHA * np.pi / roughness**2))), 4 * size)
    source = resample(image, height * -(-wanted // height))
    hs, ws = source.shape[:2]
    columns = pixel_directions(hs).reshape(-1, 3).T.astype(np.float32)
    spectrum = np.fft.rfft(source, axis=1).transpose(1, 0, 2)  # (ws // 2 + 1, hs, 3)
    first = pixel_directions(height)[:, 0].astype(np.float32)  # each row's first pixel
    d_omega = solid_angles(hs).astype(np.float32)[None]
    out = np.empty((height, 2 * height, 3), np.float32)
    for top in range(0, height, _ROWS):
        cos = (first[top : top + _ROWS] @ columns).reshape(-1, hs, ws)
        # D_GGX(n.h) with (n.h)^2 = (1 + n.l) / 2, h halfway between n = r and l
        weights = cos * np.float32((alpha2 - 1) / 2) + np.float32((alpha2 + 1) / 2)
        np.square(weights, out=weights)
        np.divide(np.float32(alpha2 / np.pi), weights, out=weights)
        weights *= np.maximum(cos, 0, out=cos)
        weights *= d_omega
        turned = np.conj(np.fft.rfft(weights, axis=2)).transpose(2, 0, 1) @ spectrum
        sums = np.fft.irfft(turned.transpose(1, 0, 2), n=ws, axis=1)[:, :: hs // height]
        out[top : top + _ROWS] = sums / weights.sum(axis=(1, 2), dtype=float)[:, None, None]
    return out


def brdf_lut(size: int = 32, samples: int = 512) -> np.ndarray:
    """The split sum's second factor (size, size, 2) float32: (scale, bias) with
    integral f_spec (n.l) dOmega_l = F0 scale + bias for the GGX BRDF with Schlick's Fresnel
    and the height-correlated Smith visibility (the shader's):
    V = 0.5 / (n.l sqrt(n.v^2 (1 - a2) + a2) + n.v sqrt(n.l^2 (1 - a2) + a2)), a = roughness^2.
    Texel centres (`lut_axes`): column j is n.v = j / (size - 1) (at least half a step), row i is
    roughness i / (size - 1): the table's edges are roughness 0 and 1 and n.v 1 exactly (a
    shader maps x to (0.5 + x (size - 1)) / size), so a fully rough surface, glTF's default,
    reads its own row rather than one half a texel short of it. Importance-sampled with `samples`
    Hammersley points of the GGX normal distribution; computed once, cached in memory and on
    disk beside the prefiltered maps."""
    return _brdf_lut(int(size), int(samples))


@functools.lru_cache(maxsize=4)
def _brdf_lut(size: int, samples: int) -> np.ndarray:
    name = f"brdf-lut-{VERSION}-{size}x{samples}.npy"
    try:
        with (cache_dir() / name).open("rb") as file:
            table = np.load(file)
        if table.shape != (size, size, 2) or not np.all(np.isfinite(table)):
            raise ValueError("stale")
        cache.used(cache_dir() / name)
    except (OSError, ValueError, EOFError):
        table = _integrate_brdf(size, samples)
        buffer = io.BytesIO()
        np.save(buffer, table)
        cache.store(KIND, name, buffer.getvalue())
    table = np.asarray(table, np.float32)
    table.flags.writeable = False
    return table


def lut_axes(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The n.v of the table's columns and the roughness of its rows."""
    steps = np.arange(size) / (size - 1)
    return np.maximum(steps, 0.5 / (size - 1)), steps  # n.v = 0 exactly: no light reflects


def _integrate_brdf(size: int, samples: int) -> np.ndarray:
    """Karis's IntegrateBRDF on the whole table at once: h drawn with pdf D(h) (n.h), so
    the estimator of integral D V F (n.l) dOmega_l is V F 4 (n.l)(v.h) / (n.h)."""
    k = np.arange(samples)
    bits = k.astype(np.uint32)
    radical = np.zeros(samples)
    for b in range(32):  # van der Corput: k's bits mirrored about the binary point
        radical += ((bits >> b) & 1) * 2.0 ** (-b - 1)
    phi = 2 * np.pi * k / samples
    cosines, roughness = lut_axes(size)
    n_dot_v = cosines[None, :, None]
    alpha2 = (roughness**4)[:, None, None]
    cos_h = np.sqrt((1 - radical) / (1 + (alpha2 - 1) * radical))  # (size, 1, samples)
    sin_h = np.sqrt(1 - cos_h**2)
    v = (np.sqrt(1 - n_dot_v**2), 0.0, n_dot_v)
    h = (sin_h * np.cos(phi), sin_h * np.sin(phi), cos_h)
    v_dot_h = v[0] * h[0] + v[2] * h[2]
    n_dot_l = 2 * v_dot_h * h[2] - v[2]  # l = 2 (v.h) h - v
    lit = n_dot_l > 0
    nl = np.where(lit, n_dot_l, 1.0)
    vis = 0.5 / (
        nl * np.sqrt(n_dot_v**2 * (1 - alpha2) + alpha2)
        + n_dot_v * np.sqrt(nl**2 * (1 - alpha2) + alpha2)
    )
    g = np.where(lit, vis * 4 * nl * v_dot_h / h[2], 0.0)
    fresnel = (1 - v_dot_h) ** 5
    table = np.stack([(g * (1 - fresnel)).mean(-1), (g * fresnel).mean(-1)], axis=-1)
    return table.astype(np.float32)
