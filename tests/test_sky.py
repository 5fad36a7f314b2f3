"""The procedural sky (Preetham, Shirley & Smits 1999) and studio environments, checked against
values worked out here, independently of simulator.scene.sky and simulator.scene.studio.

No evaluated table of the model was found published (the paper prints its formulas and a
figure), so the zenith values below are the paper's formulas as printed (appendix A.2)
evaluated by hand, and the Perez distribution is reference code written here, in scalar math,
with the coefficient table typed from the paper.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.scene.environment import Environment
from simulator.scene.sky import horizontal_illuminance, sky_environment, sun_light, zenith_xyY
from simulator.scene.studio import (
    SoftBox,
    draw_soft_boxes,
    studio_environment,
    studio_from_boxes,
    studio_with_key_light,
)

# Preetham et al. 1999, appendix A.2: Y_z = (4.0453 T - 4.9710) tan(chi) - 0.2155 T + 2.4192,
# chi = (4/9 - T/120)(pi - 2 theta_s), in kcd/m^2; x_z, y_z = [T^2 T 1] M [theta_s^3 .. 1]^T
# with the paper's two 3x4 matrices (transcribed identically in eiszapfen2000/tgda,
# Trunk/Matlab/preethamSky.m). Evaluated by hand (math module, 10 digits), keyed (T, elevation).
ZENITH = {
    (2.0, 60.0): (5.8867432493, 0.2514214624, 0.2559238382),
    (6.0, 20.0): (6.5796915289, 0.2714474912, 0.2898131402),
}
# The published tables, laid out as printed:
# fmt: off
# Perez coefficients A..E = a T + b for Y, x, y (Preetham et al. 1999, appendix A.2).
PEREZ_TABLE = {
    "Y": [(0.1787, -1.4630), (-0.3554, 0.4275), (-0.0227, 5.3251), (0.1206, -2.5771), (-0.0670, 0.3703)],
    "x": [(-0.0193, -0.2592), (-0.0665, 0.0008), (-0.0004, 0.2125), (-0.0641, -0.8989), (-0.0033, 0.0452)],
    "y": [(-0.0167, -0.2608), (-0.0950, 0.0092), (-0.0079, 0.2102), (-0.0441, -1.6537), (-0.0109, 0.0529)],
}
# Linear sRGB (Rec. 709, D65) -> CIE XYZ, IEC 61966-2-1.
RGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
# fmt: on


def perez_ratio(
    channel: str, turbidity: float, theta: float, gamma: float, theta_s: float
) -> float:
    a, b, c, d, e = (p * turbidity + q for p, q in PEREZ_TABLE[channel])

    def f(th: float, ga: float) -> float:
        return (1 + a * math.exp(b / math.cos(th))) * (
            1 + c * math.exp(d * ga) + e * math.cos(ga) ** 2
        )

    return f(theta, gamma) / f(0.0, theta_s)


def pixel_direction(row: int, col: int, height: int) -> tuple[float, float, float]:
    """Environment's convention, written out: phi = 2 pi (0.5 - u), elevation = pi (0.5 - v)."""
    u, v = (col + 0.5) / (2 * height), (row + 0.5) / height
    phi, el = 2 * math.pi * (0.5 - u), math.pi * (0.5 - v)
    return (math.cos(el) * math.cos(phi), math.cos(el) * math.sin(phi), math.sin(el))


def to_xyY(rgb: np.ndarray) -> tuple[float, float, float]:
    x, y, z = RGB_TO_XYZ @ np.asarray(rgb, float)
    return y, x / (x + y + z), y / (x + y + z)


def luminance(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb, float) @ RGB_TO_XYZ[1]


@pytest.mark.parametrize(("turbidity", "elevation"), list(ZENITH))
def test_zenith_luminance_and_chromaticity_are_the_papers(turbidity, elevation):
    assert zenith_xyY(elevation, turbidity) == pytest.approx(ZENITH[turbidity, elevation], rel=1e-9)


@pytest.mark.parametrize(
    ("turbidity", "elevation", "azimuth"), [(2.0, 60.0, 0.0), (6.0, 20.0, 135.0)]
)
def test_sky_pixels_follow_the_perez_distribution(turbidity, elevation, azimuth):
    h = 32
    env = sky_environment(elevation, azimuth, turbidity, height=h)
    theta_s = math.radians(90 - elevation)
    sun = (
        math.sin(theta_s) * math.cos(math.radians(azimuth)),
        math.sin(theta_s) * math.sin(math.radians(azimuth)),
        math.cos(theta_s),
    )
    y_z, x_z, yy_z = ZENITH[turbidity, elevation]
    for row, col in [(0, 0), (3, 10), (7, 40), (11, 20), (15, 63), (15, 5)]:
        d = pixel_direction(row, col, h)
        theta = math.acos(d[2])
        gamma = math.acos(max(-1.0, min(1.0, sum(p * q for p, q in zip(d, sun, strict=True)))))
        expected = (
            y_z * perez_ratio("Y", turbidity, theta, gamma, theta_s),
            x_z * perez_ratio("x", turbidity, theta, gamma, theta_s),
            yy_z * perez_ratio("y", turbidity, theta, gamma, theta_s),
        )
        assert to_xyY(env.image[row, col]) == pytest.approx(expected, rel=2e-5), (row, col)


def test_the_sky_is_brightest_around_the_sun_and_darker_opposite_it():
    h = 64
    env = sky_environment(35.0, 60.0, 3.0, height=h)
    sky = luminance(env.image[: h // 2])
    row, col = np.unravel_index(np.argmax(sky), sky.shape)
    d = np.array(pixel_direction(int(row), int(col), h))
    towards_sun = np.array(
        [
            math.cos(math.radians(35)) * math.cos(math.radians(60)),
            math.cos(math.radians(35)) * math.sin(math.radians(60)),
            math.sin(math.radians(35)),
        ]
    )
    assert math.degrees(math.acos(d @ towards_sun)) < 6.0  # within about two pixels
    near, far = env.radiance(np.array([[0.5, 0.866, 0.02], [-0.5, -0.866, 0.02]]))  # az 60 and 240
    assert luminance(far) < 0.5 * luminance(near)


def test_a_hazier_sky_has_a_whiter_zenith():
    def saturation(turbidity):
        rgb = sky_environment(45.0, 0.0, turbidity, height=16).image[0].mean(axis=0)
        return (rgb.max() - rgb.min()) / rgb.max()

    assert saturation(2.0) > saturation(5.0) > saturation(9.0)
    assert (
        sky_environment(45.0, 0.0, 2.0, height=16).image[0, 0, 2]
        > sky_environment(45.0, 0.0, 2.0, height=16).image[0, 0, 0]
    )  # blue


def test_an_overhead_sun_gives_a_sky_symmetric_in_azimuth():
    image = sky_environment(90.0, 17.0, 4.0, height=32).image
    np.testing.assert_allclose(image, np.broadcast_to(image[:, :1], image.shape), rtol=2e-5)


def test_the_sky_turns_with_the_suns_azimuth():
    h = 32
    east = sky_environment(25.0, 0.0, 3.0, height=h)
    north = sky_environment(25.0, 90.0, 3.0, height=h)
    # 90 degrees is a quarter of the 2h columns; azimuth grows to the left (lower columns)
    np.testing.assert_allclose(north.image, np.roll(east.image, -h // 2, axis=1), rtol=1e-5)
    directions = np.stack([[pixel_direction(r, c, h) for c in range(2 * h)] for r in range(h)])
    np.testing.assert_allclose(
        north.image, east.turned(90.0).radiance(directions), rtol=1e-4, atol=1e-6
    )


def test_the_sun_reddens_and_dims_towards_the_horizon():
    low, high = sun_light(5.0, 0.0, 3.0).irradiance, sun_light(60.0, 0.0, 3.0).irradiance
    assert low[0] / low[2] > 2 * (high[0] / high[2])
    assert low[1] / low[2] > high[1] / high[2]
    assert luminance(low) < 0.2 * luminance(high)
    # direct normal illuminance of a clear high sun: ~100 klx at sea level, below the
    # extraterrestrial ~128 klx (e.g. Darula, Kittler & Gueymard 2005, Solar Energy 79)
    assert 70.0 < luminance(sun_light(90.0, 0.0, 2.0).irradiance) < 128.0
    assert luminance(sun_light(60.0, 0.0, 8.0).irradiance) < luminance(high)


# Extraterrestrial solar spectral radiance, W m^-2 nm^-1 sr^-1, 380..750 nm by 10 nm: the table
# of Preetham et al.'s appendix as mitsuba-renderer/mitsuba src/emitters/sunsky/sunmodel.h
# ships it (solAmplitudes).
SOLAR = [
    16559.0,
    16233.7,
    21127.5,
    25888.2,
    25829.1,
    24232.3,
    26760.5,
    29658.3,
    30545.4,
    30057.5,
    30663.7,
    28830.4,
    28712.1,
    27825.0,
    27100.6,
    27233.6,
    26361.3,
    25503.8,
    25060.2,
    25311.6,
    25355.9,
    25134.2,
    24631.5,
    24173.2,
    23685.3,
    23212.1,
    22827.7,
    22339.8,
    21970.2,
    21526.7,
    21097.9,
    20728.3,
    20240.4,
    19870.8,
    19427.2,
    19072.4,
    18628.9,
    18259.2,
]
# CIE 1924 photopic luminous efficiency V(lambda), 380..750 nm by 10 nm (CIE 018:2019 table).
PHOTOPIC = [
    0.00004,
    0.00012,
    0.0004,
    0.0012,
    0.004,
    0.0116,
    0.023,
    0.038,
    0.06,
    0.09098,
    0.13902,
    0.20802,
    0.323,
    0.503,
    0.71,
    0.862,
    0.954,
    0.99495,
    0.995,
    0.952,
    0.87,
    0.757,
    0.631,
    0.503,
    0.381,
    0.265,
    0.175,
    0.107,
    0.061,
    0.032,
    0.017,
    0.00821,
    0.004102,
    0.002091,
    0.001047,
    0.00052,
    0.000249,
    0.00012,
]


@pytest.mark.parametrize(
    ("elevation", "turbidity"), [(60.0, 2.0), (10.0, 4.0), (3.0, 8.0), (90.0, 10.0)]
)
def test_the_suns_illuminance_is_the_papers_attenuated_spectrum(elevation, turbidity):
    """Preetham et al. appendix A.1 (as in Mitsuba's computeSunRadiance): relative optical mass
    m = 1 / (cos theta_s + 0.15 (93.885 - theta_s[deg])^-1.253), Rayleigh
    exp(-0.008735 lambda^-4.08 m), aerosols exp(-beta lambda^-1.3 m) with
    beta = 0.04608365822050 T - 0.04586025928522 (lambda in micrometres); ozone, water vapour
    and mixed gases left out as the module documents. Luminance through V(lambda), 683 lm/W,
    over the sun's disc of angular radius 0.2667 degrees."""
    theta_deg = 90.0 - elevation
    m = 1 / (math.cos(math.radians(theta_deg)) + 0.15 * (93.885 - theta_deg) ** -1.253)
    beta = 0.04608365822050 * turbidity - 0.04586025928522
    total = 0.0
    for i, (radiance, v) in enumerate(zip(SOLAR, PHOTOPIC, strict=True)):
        um = (380 + 10 * i) / 1000
        total += radiance * math.exp(-m * (0.008735 * um**-4.08 + beta * um**-1.3)) * v * 10
    disc = math.pi * math.radians(0.2667) ** 2
    expected = 683 * total / 1000 * disc  # klx
    assert luminance(sun_light(elevation, 0.0, turbidity).irradiance) == pytest.approx(
        expected, rel=0.01 if elevation > 5 else 0.02
    )


def test_the_sun_light_travels_from_the_sun_down():
    sun = sun_light(30.0, 90.0, 3.0)
    np.testing.assert_allclose(sun.direction, [0.0, -math.cos(math.radians(30)), -0.5], atol=1e-12)


def test_the_ground_is_lambertian_lit_by_sky_and_sun():
    h, elevation = 32, 40.0
    env = sky_environment(elevation, 10.0, 3.0, height=h, ground_albedo=0.25)
    rows = np.arange(h // 2)
    el_top, el_bottom = np.pi / 2 - rows * np.pi / h, np.pi / 2 - (rows + 1) * np.pi / h
    # exact cosine-weighted band integral per row: int sin(e) cos(e) de * (2 pi / 2h) per pixel
    weight = (np.sin(el_top) ** 2 - np.sin(el_bottom) ** 2) / 2 * (np.pi / h)
    sky_irradiance = (env.image[: h // 2].astype(float) * weight[:, None, None]).sum(axis=(0, 1))
    sun_irradiance = sun_light(elevation, 10.0, 3.0).irradiance * math.sin(math.radians(elevation))
    expected = 0.25 * (sky_irradiance + sun_irradiance) / math.pi
    ground = env.image[h // 2 :].reshape(-1, 3)
    np.testing.assert_allclose(ground, np.broadcast_to(expected, ground.shape), rtol=1e-5)
    black = sky_environment(elevation, 10.0, 3.0, height=h, ground_albedo=0.0)
    assert not black.image[h // 2 :].any()


@pytest.mark.parametrize("height", [8, 9])
def test_horizontal_illuminance_of_a_uniform_environment_is_pi_times_its_radiance(height):
    env = Environment(np.full((height, 2 * height, 3), [0.5, 1.0, 2.0], np.float32))
    np.testing.assert_allclose(
        horizontal_illuminance(env), [0.5 * math.pi, math.pi, 2 * math.pi], rtol=1e-6
    )
    np.testing.assert_allclose(
        horizontal_illuminance(env.turned(33.0, intensity=2.0)),
        [math.pi, 2 * math.pi, 4 * math.pi],
        rtol=1e-6,
    )
    sun = sun_light(30.0, 0.0, 3.0)
    np.testing.assert_allclose(
        horizontal_illuminance(env, sun) - horizontal_illuminance(env),
        sun.irradiance * 0.5,
        rtol=1e-6,
    )


def test_the_sky_names_its_parameters_and_is_deterministic():
    a, b = sky_environment(30.0, 45.0, 2.5, height=16), sky_environment(30.0, 45.0, 2.5, height=16)
    assert a.key == a.source == "sky:preetham:el=30:az=45:T=2.5:h=16:g=0.3"
    np.testing.assert_array_equal(a.image, b.image)
    assert sky_environment(30.0, 45.0, 2.6, height=16).key != a.key
    assert a.image.shape == (16, 32, 3) and np.isfinite(a.image).all() and a.image.min() >= 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: sky_environment(-1.0, 0.0),
            r"sun elevation must be in \[0, 90\] degrees .* got -1.0",
        ),
        (
            lambda: sky_environment(90.5, 0.0),
            r"sun elevation must be in \[0, 90\] degrees .* got 90.5",
        ),
        (lambda: sky_environment(float("nan"), 0.0), r"sun elevation must be in \[0, 90\]"),
        (lambda: sky_environment(30.0, 0.0, 1.5), r"turbidity must be in \[1.7, 10\] .* got 1.5"),
        (lambda: sky_environment(30.0, 0.0, 12.0), r"turbidity must be in \[1.7, 10\] .* got 12.0"),
        (
            lambda: sky_environment(30.0, float("inf")),
            r"sun azimuth must be a finite number of degrees, got inf",
        ),
        (
            lambda: sky_environment(30.0, 0.0, height=1),
            r"sky height must be an integer of at least 2 rows, got 1",
        ),
        (
            lambda: sky_environment(30.0, 0.0, ground_albedo=1.5),
            r"ground_albedo must be in \[0, 1\] \(a reflectance\), got 1.5",
        ),
        (lambda: sun_light(95.0, 0.0, 3.0), r"sun elevation must be in \[0, 90\]"),
        (lambda: sun_light(30.0, 0.0, 0.5), r"turbidity must be in \[1.7, 10\]"),
        (
            lambda: studio_environment(np.random.default_rng(0), boxes=-1),
            r"boxes must be a whole number of soft boxes \(0 or more\), got -1",
        ),
        (
            lambda: studio_environment(np.random.default_rng(0), height=0),
            r"studio height must be an integer of at least 2 rows, got 0",
        ),
        (
            lambda: studio_environment(7),
            r"studio_environment needs a numpy Generator \(np.random.default_rng\), got int",
        ),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_studio_is_deterministic_for_its_generator():
    a = studio_environment(np.random.default_rng(5), height=32)
    b = studio_environment(np.random.default_rng(5), height=32)
    c = studio_environment(np.random.default_rng(6), height=32)
    np.testing.assert_array_equal(a.image, b.image)
    assert a.key == b.key == a.source and a.key.startswith("studio:")
    assert c.key != a.key and not np.array_equal(a.image, c.image)
    assert a.image.shape == (32, 64, 3) and np.isfinite(a.image).all() and a.image.min() >= 0


def test_soft_boxes_are_the_brightest_light_exactly_where_they_were_placed():
    h = 64
    boxes = (
        SoftBox(azimuth=30.0, elevation=40.0, width=20.0, height=16.0, radiance=(20.0, 20.0, 20.0)),
        SoftBox(azimuth=200.0, elevation=20.0, width=24.0, height=12.0, radiance=(8.0, 8.0, 8.0)),
    )
    image = luminance(studio_from_boxes(boxes, height=h).image)
    rows, cols = np.mgrid[0:h, 0 : 2 * h]
    el = 90.0 - (rows + 0.5) * 180.0 / h
    az = (180.0 - (cols + 0.5) * 180.0 / h) % 360.0  # phi = 360 (0.5 - u) degrees

    def inside(box, margin):
        across = (az - box.azimuth + 180.0) % 360.0 - 180.0
        return (np.abs(across) <= box.width / 2 * margin) & (
            np.abs(el - box.elevation) <= box.height / 2 * margin
        )

    core = [inside(b, 0.75) for b in boxes]  # fully lit, inside the soft edge
    lit = inside(boxes[0], 1.25) | inside(boxes[1], 1.25)
    room = image[~lit]
    assert image[core[0]].min() > 50 * room.max()
    assert image[core[1]].min() > 20 * room.max()
    assert image[core[0]].mean() / image[core[1]].mean() == pytest.approx(20 / 8, rel=0.02)
    # a white up-facing Lambertian floor sees E = pi, so comes out at 1 (pixel-centre quadrature)
    solid = (np.sin(np.radians(el + 90 / h)) - np.sin(np.radians(el - 90 / h))) * np.pi / h
    upper = el > 0
    floor_white = (image * np.sin(np.radians(el)) * solid)[upper].sum() / math.pi
    assert floor_white == pytest.approx(1.0, rel=0.01)
    # the floor is darker than the walls
    assert room[el[~lit] < -10].max() < room[(el[~lit] > 5)].min()


def test_a_drawn_studios_boxes_are_where_it_says_and_brightest():
    rng_seed = 11
    boxes = draw_soft_boxes(np.random.default_rng(rng_seed), 4)
    env = studio_environment(np.random.default_rng(rng_seed), height=64, boxes=4)
    assert len(boxes) == 4 and all(10.0 <= b.elevation <= 70.0 for b in boxes)
    for box in boxes:
        a, e = math.radians(box.azimuth), math.radians(box.elevation)
        centre = env.radiance(
            np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])
        )
        assert luminance(centre) > 30 * luminance(env.image[-1, 0])  # far brighter than the floor
        rgb = np.asarray(box.radiance)
        assert 1.0 <= rgb.max() / rgb.min() < 1.12  # slightly warm or cool white
    key, fill = boxes[0], boxes[1]
    assert luminance(np.asarray(key.radiance)) > luminance(np.asarray(fill.radiance))


def test_a_studios_key_box_becomes_a_shadow_casting_light_and_the_floor_stays_white():
    from simulator.scene.environment import pixel_directions, solid_angles

    environment, key = studio_with_key_light(np.random.default_rng(9))
    height = environment.image.shape[0]
    up = np.clip(pixel_directions(height)[..., 2], 0.0, None) * solid_angles(height)
    # irradiance on an up-facing floor: the image's upper half, plus the key light
    floor = (environment.image * up[..., None]).sum(axis=(0, 1)) - key.irradiance * key.direction[2]
    luminance = np.array([0.2126, 0.7152, 0.0722])
    assert abs(float(floor @ luminance) / np.pi - 1.0) < 1e-3
    # the key box is gone from the image: where the full studio is brightest, towards the
    # light, the keyed image is no brighter than its room
    full = studio_environment(np.random.default_rng(9))
    towards = -key.direction
    assert float(full.radiance(towards) @ luminance) > 5.0
    assert float(environment.radiance(towards) @ luminance) < 0.5
    assert 10.0 < key.size < 30.0
