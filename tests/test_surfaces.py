"""Textures on objects and images behind the scene: they change the RGB, never a label."""

import io
import json

import numpy as np
import pytest
from datasets import dataset_files
from PIL import Image

from simulator.run.runner import RunOptions, run
from simulator.world.load import parse_world

WORLD = """
[world]
seed = 5
frames = 2
[camera]
resolution = [96, 72]
position = [0, -4, 0]
target = [0, 0, 0]
[[spawners]]
type = "primitive"
shape = "sphere"
size = 1.2
color = [1, 1, 1]
[output]
image_format = "png"
"""


def render(tmp_path, name: str, extra: str = "") -> dict[str, bytes]:
    world = parse_world(WORLD + extra, tmp_path / f"{name}.toml")
    return dataset_files(run(world, RunOptions(tmp_path / name)).root)


def rgb(files, frame=0) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(files[f"images/{frame:06d}.png"])), np.int16)


def instance(files, frame=0) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(files[f"instances/{frame:06d}.png"])))


def same_labels(a, b) -> None:
    for name in a:
        if name.startswith(("instances/", "semantic/", "depth/", "annotations/")):
            assert a[name] == b[name], name
    objects = [
        [r["objects"] for r in map(json.loads, f["frames.jsonl"].splitlines())] for f in (a, b)
    ]
    assert objects[0] == objects[1]


def interior(mask: np.ndarray) -> np.ndarray:
    """Where `mask` holds at a pixel and at its 8 neighbours."""
    padded = np.pad(mask, 1, constant_values=True)
    height, width = mask.shape
    shifted = [padded[r : r + height, c : c + width] for r in range(3) for c in range(3)]
    return np.logical_and.reduce(shifted)


def test_a_background_photo_fills_the_frame_the_right_way_up(tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    image = np.zeros((72, 96, 3), np.uint8)
    image[:36] = (220, 40, 40)  # top half red
    image[36:] = (40, 40, 220)  # bottom half blue
    Image.fromarray(image).save(photos / "halves.png")
    plain = render(tmp_path, "plain")
    backed = render(
        tmp_path, "backed", '[[randomizers]]\ntype = "background_image"\nfolder = "photos"\n'
    )
    same_labels(plain, backed)
    picture, ids = rgb(backed), instance(backed)
    # Pixels a pixel away from any edge between object and background (anti-aliasing mixes
    # the colours of both on an edge).
    background, inside = interior(ids == 0), interior(ids != 0)
    assert (picture[:30][background[:30]] == (220, 40, 40)).all()
    assert (picture[42:][background[42:]] == (40, 40, 220)).all()
    # The object is drawn over the photo exactly as over a plain background.
    assert np.array_equal(picture[inside], rgb(plain)[inside])
    record = json.loads(backed["frames.jsonl"].splitlines()[0])
    assert record["scene"]["background_image"].endswith("halves.png[0,0,96,72]")


def test_a_procedural_background_varies_and_labels_do_not(tmp_path):
    plain = render(tmp_path, "plain")
    textured = render(
        tmp_path,
        "textured",
        '[[randomizers]]\ntype = "background_texture"\n'
        'pattern = "checker"\ncolor_a = [0, 0, 0]\ncolor_b = [1, 1, 1]\n',
    )
    same_labels(plain, textured)
    background = rgb(textured)[instance(textured) == 0]
    assert {0, 255} <= set(np.unique(background))


def test_a_texture_patterns_the_object(tmp_path):
    plain = render(tmp_path, "plain")
    checkered = render(
        tmp_path,
        "checkered",
        '[[randomizers]]\ntype = "texture"\n'
        'pattern = "checker"\ncolor_a = [0, 0, 0]\ncolor_b = [1, 1, 1]\nfrequency = 8\n',
    )
    same_labels(plain, checkered)
    sphere = instance(plain) == 1

    def dark_share(files) -> float:  # the checker's black squares: dark pixels (a black
        # dielectric still reflects 4 % of the light, so not quite 0)
        return float((rgb(files)[sphere].max(axis=1) < 60).mean())

    assert dark_share(plain) < 0.02 and dark_share(checkered) > 0.25
    record = json.loads(checkered["frames.jsonl"].splitlines()[0])
    assert record["scene"]["entities"][0]["texture"] == "checker"


def test_a_missing_photo_folder_is_a_clear_error(tmp_path):
    from simulator.capture.pipeline import Pipeline, host_for
    from simulator.errors import WorldError

    world = parse_world(
        WORLD + '[[randomizers]]\ntype = "background_image"\nfolder = "nowhere"\n',
        tmp_path / "w.toml",
    )
    with pytest.raises(
        WorldError, match=r"randomizers\[0\]\.folder: image folder not found: .*nowhere"
    ):
        Pipeline(world, host_for(world))


@pytest.mark.parametrize(("near", "far"), [(2.0, 100.0), (0.05, 0.8)])
def test_a_background_photo_shows_whatever_the_clip_planes(tmp_path, near, far):
    """The photo's card lies between the near and far planes (both beyond, then both short
    of, 1 m), so neither clips it away: the photo fills every background pixel."""
    photos = tmp_path / "photos"
    photos.mkdir()
    image = np.zeros((72, 96, 3), np.uint8)
    image[:, :48] = (30, 200, 60)  # left half green
    image[:, 48:] = (200, 60, 200)  # right half magenta
    Image.fromarray(image).save(photos / "halves.png")
    planes = f"target = [0, 0, 0]\nnear = {near}\nfar = {far}"
    text = WORLD.replace("target = [0, 0, 0]", planes)
    text += '[[randomizers]]\ntype = "background_image"\nfolder = "photos"\n'
    files = dataset_files(
        run(parse_world(text, tmp_path / "w.toml"), RunOptions(tmp_path / "out")).root
    )
    picture, background = rgb(files), interior(instance(files) == 0)
    assert (instance(files) != 0).any() == (far > 4)  # the sphere, 4 m away, when in range
    assert (picture[:, :47][background[:, :47]] == (30, 200, 60)).all()
    assert (picture[:, 49:][background[:, 49:]] == (200, 60, 200)).all()


def test_the_sky_behind_the_scene_shows_whatever_the_clip_planes(tmp_path):
    """The environment's card likewise: with the near plane 2 m out, the sky seen around the
    sphere is the one seen with the default planes (only the clip planes differ)."""
    sky = '[[randomizers]]\ntype = "sky"\nshadows = false\n'
    near = WORLD.replace("target = [0, 0, 0]", "target = [0, 0, 0]\nnear = 2.0")
    frames = [
        dataset_files(
            run(parse_world(text + sky, tmp_path / f"{k}.toml"), RunOptions(tmp_path / f"{k}")).root
        )
        for k, text in enumerate((WORLD, near))
    ]
    ids = instance(frames[0])
    assert np.array_equal(ids, instance(frames[1]))
    background = interior(ids == 0)
    assert background.mean() > 0.5
    default, far_near = rgb(frames[0])[background], rgb(frames[1])[background]
    assert np.abs(default - far_near).max() <= 1
    assert np.ptp(default.sum(axis=1)) > 0  # a sky's gradient, not one clear colour
