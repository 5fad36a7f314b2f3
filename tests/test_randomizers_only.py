"""Every bundled randomizer changes what it should, and only that, under a fixed seed."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from simulator.capture.pipeline import Pipeline, host_for
from simulator.plugin.host import PluginHost
from simulator.world.load import parse_world

BASE = """
[world]
seed = 8
[[spawners]]
type = "primitive"
shape = { choice = ["box", "sphere", "cylinder"] }
count = 4
size = 0.4
position = { uniform = [[-1, -1, 0.3], [1, 1, 0.6]] }
hpr = { uniform = [[0, 0, 0], [90, 30, 30]] }
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 10
"""

# randomizer -> (targets, the scene fields it may change, extra parameters)
ONLY = {
    "position": ("box", {"entities.position"}, ""),
    "rotation": ("box", {"entities.hpr"}, ""),
    "scale": ("box", {"entities.scale"}, ""),
    "color": ("box", {"entities.color"}, ""),
    "material": ("box", {"entities.roughness", "entities.metallic"}, ""),
    "texture": ("box", {"entities.texture"}, ""),
    "surface_material": ("box", {"entities.material"}, ""),
    "scatter": ("box", {"entities.position"}, "low = [-2, -2, 0.5]\nhigh = [2, 2, 1]"),
    "grid": ("box", {"entities.position"}, ""),
    "settle": ("box", {"entities.position", "entities.hpr", "entities.attributes"}, ""),
    "background": (None, {"background"}, ""),
    "background_texture": (None, {"background_image"}, ""),
    "background_image": (None, {"background_image"}, 'folder = "photos"'),
    "light": (None, {"lights"}, ""),
    "lights": (None, {"lights"}, ""),
    "sky": (None, {"lights", "environment"}, ""),
    "studio": (None, {"lights", "environment"}, ""),
    "environment": (None, {"lights", "environment"}, 'folder = "maps"'),
    "film": (None, {"film"}, ""),
    "camera_orbit": (None, {"camera"}, ""),
    "camera_lens": (None, {"camera"}, "k1 = { uniform = [-0.1, -0.02] }"),
    "sensor_noise": (None, {"effects"}, ""),
    "blur": (None, {"effects"}, ""),
    "color_jitter": (None, {"effects"}, ""),
    "jpeg_artifacts": (None, {"effects"}, ""),
    "throw": (
        "box",
        {"entities.position", "entities.hpr", "entities.velocity", "entities.spin"},
        "velocity = [1, 0, 0.5]",
    ),
    "camera_motion": (None, {"camera"}, 'motion = "dolly"\nvelocity = [1, 0, 0]'),
}
# Randomizers of clips: compared in a world of clips (frame 3 of the first clip).
CLIPS = {"throw", "camera_motion"}
CLIP = "[clip]\nframes = 4\nfps = 12\n"


def test_the_table_covers_every_bundled_randomizer():
    assert set(ONLY) == set(PluginHost(entry_points=False).randomizers.names())


def write_hdr(path: Path) -> None:
    """A small Radiance .hdr environment: bright above, dark below."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    image = np.ones((16, 32, 3), np.float32)
    image[8:] = 0.1
    cv2.imwrite(str(path), image)


def changed(before: dict, after: dict) -> set[str]:
    """Scene fields that differ: top-level keys, and entities.<field> for entity fields."""
    fields = {
        k for k in before.keys() | after.keys() if k != "entities" and before.get(k) != after.get(k)
    }
    for a, b in zip(before["entities"], after["entities"], strict=True):
        fields |= {f"entities.{k}" for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    return fields


@pytest.mark.parametrize("name", sorted(ONLY))
def test_a_randomizer_changes_only_what_it_should(name, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.new("RGB", (64, 48), (90, 140, 200)).save(photos / "sky.png")
    write_hdr(tmp_path / "maps" / "overcast.hdr")
    targets, allowed, extra = ONLY[name]
    entry = f'[[randomizers]]\ntype = "{name}"\n' + (
        f'targets = ["{targets}"]\n' if targets else ""
    )
    scenes = []
    base = BASE + CLIP if name in CLIPS else BASE
    for text in (base, base + entry + extra + "\n"):
        world = parse_world(text, Path(tmp_path) / "world.toml")
        scenes.append(Pipeline(world, host_for(world)).build_scene(3).record())
    difference = changed(*scenes)
    assert difference, f"{name} changed nothing"
    assert difference <= allowed, f"{name} also changed {difference - allowed}"
    if targets:  # entities it does not target stay as they were
        for a, b in zip(scenes[0]["entities"], scenes[1]["entities"], strict=True):
            if a["category"] != targets:
                assert a == b, f"{name} changed an entity it does not target"
