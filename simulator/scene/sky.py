"""The procedural daylight sky and its sun, renderer-free: Preetham, Shirley & Smits 1999, "A
Practical Analytic Model for Daylight" (SIGGRAPH '99), as an `Environment` that needs no
download.

Sky: the Perez distribution L(theta, gamma) / L(0, theta_s) for luminance Y and chromaticities
x, y, with the paper's turbidity-linear coefficients (its appendix A.2), scaled by the zenith
values Y_z (kcd/m^2) and x_z, y_z of the same appendix; then xyY -> XYZ -> linear Rec. 709 RGB
(D65), so each pixel's luminance (0.2126 R + 0.7152 G + 0.0722 B) is Preetham's Y in kcd/m^2.
The few chromaticities the fit puts outside the Rec. 709 gamut (a low sun in a hazy sky) are
clipped to 0 per channel. Below the horizon lies a Lambertian ground lit by the sky and the sun,
so the environment is complete. The sun's disc is left out of the image: it is `sun_light`'s
directional light (a renderer casts its shadows), and a disc in the image would count it twice.

Sun: the extraterrestrial solar spectral radiance of the paper's appendix, attenuated along the
relative optical mass (Kasten) by Rayleigh scattering and aerosols (Angstrom's law, alpha 1.3,
beta from turbidity), sampled every 10 nm from 380 to 750 nm and integrated against the CIE 1931
colour matching functions (Wyman, Sloan & Shirley's 2013 multi-lobe fit, so no table ships).
Simplification: ozone, water vapour and the mixed gases are left out; in the visible they take a
few per cent (ozone's Chappuis band, around 600 nm), while Rayleigh and aerosols redden the sun.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.scene.environment import Environment, pixel_directions

# The published tables, laid out as printed:
# fmt: off
# Perez coefficients A..E as (turbidity, 1) rows, for Y, x, y (Preetham et al. 1999, A.2).
PEREZ = np.array(
    [
        [[0.1787, -1.4630], [-0.3554, 0.4275], [-0.0227, 5.3251], [0.1206, -2.5771],
         [-0.0670, 0.3703]],
        [[-0.0193, -0.2592], [-0.0665, 0.0008], [-0.0004, 0.2125], [-0.0641, -0.8989],
         [-0.0033, 0.0452]],
        [[-0.0167, -0.2608], [-0.0950, 0.0092], [-0.0079, 0.2102], [-0.0441, -1.6537],
         [-0.0109, 0.0529]],
    ]
)
# Zenith chromaticity: [T^2, T, 1] @ M @ [theta_s^3, theta_s^2, theta_s, 1] (A.2).
ZENITH_X = np.array(
    [[0.00166, -0.00375, 0.00209, 0.0], [-0.02903, 0.06377, -0.03202, 0.00394],
     [0.11693, -0.21196, 0.06052, 0.25886]]
)
ZENITH_Y = np.array(
    [[0.00275, -0.00610, 0.00317, 0.0], [-0.04214, 0.08970, -0.04153, 0.00516],
     [0.15346, -0.26756, 0.06670, 0.26688]]
)
# CIE XYZ -> linear sRGB (Rec. 709 primaries, D65 white; IEC 61966-2-1).
XYZ_TO_RGB = np.array(
    [[3.2404542, -1.5371385, -0.4985314], [-0.9692660, 1.8760108, 0.0415560],
     [0.0556434, -0.2040259, 1.0572252]]
)
# Extraterrestrial solar spectral radiance, W m^-2 nm^-1 sr^-1, 380..750 nm every 10 nm
# (the paper's appendix table, as Mitsuba's sunmodel.h and Brian Smits' RiSunConstants.C ship it).
SOLAR_RADIANCE = np.array(
    [16559.0, 16233.7, 21127.5, 25888.2, 25829.1, 24232.3, 26760.5, 29658.3, 30545.4, 30057.5,
     30663.7, 28830.4, 28712.1, 27825.0, 27100.6, 27233.6, 26361.3, 25503.8, 25060.2, 25311.6,
     25355.9, 25134.2, 24631.5, 24173.2, 23685.3, 23212.1, 22827.7, 22339.8, 21970.2, 21526.7,
     21097.9, 20728.3, 20240.4, 19870.8, 19427.2, 19072.4, 18628.9, 18259.2]
)
# fmt: on
WAVELENGTHS = np.arange(380.0, 751.0, 10.0)  # nm
SUN_SOLID_ANGLE = 6.80e-5  # sr: the disc's mean angular radius, 0.2667 degrees
LUMINOUS_EFFICACY = 683.0  # lm/W at 555 nm
RGB_LUMINANCE = np.array([0.2126, 0.7152, 0.0722])  # Y of linear Rec. 709 RGB


@dataclass(frozen=True, eq=False)
class SunLight:
    """The sun as a directional light: `direction` (3,) the unit vector its light travels
    along (from the sun to the ground, +Z up); `irradiance` (3,) linear RGB on a surface
    facing the sun, in kcd/m^2 x sr (klx), so a white Lambertian facing it has radiance
    irradiance / pi in the sky's units."""

    direction: np.ndarray
    irradiance: np.ndarray


def sky_environment(
    elevation: float,
    azimuth: float,
    turbidity: float = 3.0,
    height: int = 128,
    ground_albedo: float = 0.3,
) -> Environment:
    """The Preetham sky for a sun at `elevation` and `azimuth` (degrees; azimuth
    counter-clockwise from +X about +Z), in kcd/m^2 as linear RGB, over a ground of
    `ground_albedo`. Deterministic: its key names every parameter, so caches key on it."""
    _check(elevation, turbidity)
    if not np.isfinite(azimuth):
        raise ValueError(f"sun azimuth must be a finite number of degrees, got {azimuth}")
    if isinstance(height, bool) or not isinstance(height, int) or height < 2:
        raise ValueError(f"sky height must be an integer of at least 2 rows, got {height!r}")
    if not 0.0 <= ground_albedo <= 1.0:
        raise ValueError(f"ground_albedo must be in [0, 1] (a reflectance), got {ground_albedo}")
    image = np.zeros((height, 2 * height, 3))
    sky_rows = int(np.ceil(height / 2))  # rows whose centre is at or above the horizon
    directions = pixel_directions(height)[:sky_rows]
    image[:sky_rows] = xyY_to_rgb(sky_xyY(directions, elevation, azimuth, turbidity))
    sun = sun_light(elevation, azimuth, turbidity)
    irradiance = horizontal_illuminance(Environment(image.astype(np.float32)), sun)
    image[sky_rows:] = ground_albedo * irradiance / np.pi
    name = (
        f"sky:preetham:el={elevation:g}:az={azimuth:g}:T={turbidity:g}:h={height}"
        f":g={ground_albedo:g}"
    )
    return Environment(image.astype(np.float32), key=name, source=name)


def sky_xyY(
    directions: np.ndarray, elevation: float, azimuth: float, turbidity: float
) -> np.ndarray:
    """Preetham's (Y [kcd/m^2], x, y) (..., 3) seen along upper-hemisphere `directions`."""
    _check(elevation, turbidity)
    d = np.asarray(directions, float)
    theta_s = np.radians(90.0 - elevation)
    cos_gamma = np.clip(d @ _towards(elevation, azimuth), -1.0, 1.0)[..., None]
    cos_theta = np.maximum(d[..., 2], 1e-6)[..., None]  # the horizon is Perez's limit there
    a, b, c, dd, e = (PEREZ @ np.array([turbidity, 1.0])).T  # each (3,): for Y, x, y
    gradation = 1 + a * np.exp(b / cos_theta)
    indicatrix = 1 + c * np.exp(dd * np.arccos(cos_gamma)) + e * cos_gamma**2
    at_zenith = (1 + a * np.exp(b)) * (1 + c * np.exp(dd * theta_s) + e * np.cos(theta_s) ** 2)
    return np.asarray(zenith_xyY(elevation, turbidity)) * gradation * indicatrix / at_zenith


def zenith_xyY(elevation: float, turbidity: float) -> tuple[float, float, float]:
    """The sky's zenith luminance Y_z (kcd/m^2) and chromaticity x_z, y_z (appendix A.2)."""
    _check(elevation, turbidity)
    theta_s = np.radians(90.0 - elevation)
    chi = (4.0 / 9.0 - turbidity / 120.0) * (np.pi - 2.0 * theta_s)
    luminance = (4.0453 * turbidity - 4.9710) * np.tan(chi) - 0.2155 * turbidity + 2.4192
    t = np.array([turbidity**2, turbidity, 1.0])
    s = np.array([theta_s**3, theta_s**2, theta_s, 1.0])
    return float(luminance), float(t @ ZENITH_X @ s), float(t @ ZENITH_Y @ s)


def xyY_to_rgb(xyY: np.ndarray) -> np.ndarray:
    """Linear Rec. 709 RGB (..., 3) of CIE (Y, x, y) (..., 3), out-of-gamut channels at 0."""
    luminance, x, y = np.moveaxis(np.asarray(xyY, float), -1, 0)
    xyz = np.stack([x / y * luminance, luminance, (1 - x - y) / y * luminance], axis=-1)
    return np.maximum(xyz @ XYZ_TO_RGB.T, 0.0)


def sun_light(elevation: float, azimuth: float, turbidity: float) -> SunLight:
    """The sun seen through `turbidity`'s atmosphere: its light's direction and its RGB
    irradiance (klx) on a surface facing it. Redder towards the horizon, as the light's path
    through the air lengthens."""
    _check(elevation, turbidity)
    theta_s = np.radians(90.0 - elevation)
    mass = 1.0 / (np.cos(theta_s) + 0.15 * (93.885 - (90.0 - elevation)) ** -1.253)
    microns = WAVELENGTHS / 1000.0
    beta = 0.04608365822050 * turbidity - 0.04586025928522
    rayleigh = np.exp(-mass * 0.008735 * microns**-4.08)
    aerosol = np.exp(-mass * beta * microns**-1.3)
    spectrum = SOLAR_RADIANCE * rayleigh * aerosol  # W m^-2 nm^-1 sr^-1
    xyz = (cie_1931(WAVELENGTHS) * spectrum[:, None]).sum(axis=0) * 10.0  # 10 nm steps
    luminance_xyz = xyz * LUMINOUS_EFFICACY / 1000.0  # kcd/m^2
    rgb = np.maximum(XYZ_TO_RGB @ luminance_xyz, 0.0) * SUN_SOLID_ANGLE
    return SunLight(direction=-_towards(elevation, azimuth), irradiance=rgb)


def cie_1931(wavelengths: np.ndarray) -> np.ndarray:
    """CIE 1931 2-degree colour matching functions (..., 3) at `wavelengths` (nm): Wyman,
    Sloan & Shirley 2013's multi-lobe Gaussian fit (JCGT 2(2), eq. 2-4)."""
    nm = np.asarray(wavelengths, float)

    def lobe(mu: float, below: float, above: float) -> np.ndarray:
        t = (nm - mu) / np.where(nm < mu, below, above)
        return np.exp(-0.5 * t * t)

    x = 1.056 * lobe(599.8, 37.9, 31.0) + 0.362 * lobe(442.0, 16.0, 26.7)
    x = x - 0.065 * lobe(501.1, 20.4, 26.2)
    y = 0.821 * lobe(568.8, 46.9, 40.5) + 0.286 * lobe(530.9, 16.3, 31.1)
    z = 1.217 * lobe(437.0, 11.8, 36.0) + 0.681 * lobe(459.0, 26.0, 13.8)
    return np.stack([x, y, z], axis=-1)


def horizontal_illuminance(env: Environment, sun: SunLight | None = None) -> np.ndarray:
    """Irradiance (3,) on an up-facing surface from `env`'s upper hemisphere (and `sun`): the
    cosine-weighted integral over each row's band, exact for radiance constant along a row, so
    a uniform environment of radiance L gives pi L. For exposure: divide by pi for the
    radiance of a white floor."""
    h, w = env.image.shape[:2]
    edges = np.pi * (0.5 - np.arange(h + 1) / h)  # elevation of the row edges, top first
    top, bottom = np.sin(edges[:-1]), np.sin(np.maximum(edges[1:], 0.0))
    cosine_weight = np.where(edges[:-1] > 0, (top**2 - bottom**2) / 2, 0.0) * (2 * np.pi / w)
    irradiance = np.einsum("r,rc...->...", cosine_weight, env.image.astype(float))
    irradiance = irradiance * env.intensity
    if sun is not None:
        irradiance = irradiance + sun.irradiance * max(0.0, -float(sun.direction[2]))
    return np.asarray(irradiance)


def _towards(elevation: float, azimuth: float) -> np.ndarray:
    e, a = np.radians(elevation), np.radians(azimuth)
    return np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])


def _check(elevation: float, turbidity: float) -> None:
    if not 0.0 <= elevation <= 90.0:
        raise ValueError(
            f"sun elevation must be in [0, 90] degrees (0 at the horizon, 90 overhead), "
            f"got {elevation}; the Preetham sky has no night"
        )
    if not 1.7 <= turbidity <= 10.0:
        raise ValueError(
            f"turbidity must be in [1.7, 10] (2 a clear sky, 6 a hazy one: the range "
            f"Preetham's fit holds over), got {turbidity}"
        )
