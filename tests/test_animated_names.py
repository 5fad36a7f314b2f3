"""Names, switches and counts animated over a clip (keyframes, curve "step"; counts rounded):
each frame's record and pixels are those of a world holding the key's value alone, keys
drawn from a choice once per clip, labels unchanged, and what cannot be animated refused
with its TOML path and the fix."""

import itertools
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from datasets import dataset_files

from simulator.capture.pipeline import Pipeline, host_for
from simulator.errors import WorldError
from simulator.run.runner import RunOptions, run
from simulator.world.animation import Clock, running
from simulator.world.distributions import parse_count, parse_flag, parse_option
from simulator.world.load import load_world

WORLD = """
[world]
name = "keyed"
seed = 5
frames = {frames}
[camera]
resolution = [80, 60]
position = [0, -4, 2.5]
target = [0, 0, 0.3]
[clip]
frames = 4
fps = 4
[[spawners]]
type = "primitive"
shape = "box"
count = 2
size = 0.8
position = {{ uniform = [[-1, -0.5, 0.4], [1, 0.5, 0.4]] }}
[[spawners]]
type = "primitive"
name = "floor"
shape = "plane"
distractor = true
size = 20
{randomizers}
[output]
labels = ["boxes", "instance"]
writers = ["native"]
image_format = "png"
"""

MATERIAL = """
[[randomizers]]
type = "surface_material"
targets = ["box"]
variants = 2
size = 32
material = {material}
"""


def _world(tmp_path: Path, randomizers: str, frames: int = 8, name: str = "world") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(WORLD.format(frames=frames, randomizers=randomizers))
    return path


def _run(tmp_path: Path, randomizers: str, name: str, total: int = 8, **options) -> Path:
    """A run of the world of `total` frames; `options` are RunOptions' (start, frames...)."""
    world = load_world(_world(tmp_path, randomizers, total, name))
    return run(world, RunOptions(tmp_path / name, **options)).root


def _records(root: Path) -> list[dict]:
    return [json.loads(line) for line in (root / "frames.jsonl").read_text().splitlines()]


def _materials(record: dict) -> list[str | None]:
    return [e.get("material", {}).get("name") for e in record["scene"]["entities"][:2]]


def _at(value, fraction: float):
    with running(Clock(0, 0, fraction, {})):
        return value.sample(np.random.default_rng(0))


# ------------------------------------------------------------------------------ the curves


def test_names_and_switches_step_from_key_to_key():
    shape = parse_option({"keyframes": [[0, "box"], [0.5, "sphere"]]}, ["box", "sphere"])
    assert [_at(shape, f) for f in (0.0, 0.49, 0.5, 1.0)] == ["box", "box", "sphere", "sphere"]
    on = parse_flag({"keyframes": [[0.25, False], [0.75, True]], "curve": "step"})
    assert [_at(on, f) for f in (0.0, 0.5, 0.75, 1.0)] == [False, False, True, True]


def test_counts_are_rounded_to_the_nearest_whole_number_halves_up():
    count = parse_count({"keyframes": [[0, 0], [1, 3]]})  # linear: 0, 0.75, 1.5, 2.25, 3
    values = [_at(count, k / 4) for k in range(5)]
    assert values == [0, 1, 2, 2, 3] and all(type(v) is int for v in values)
    smooth = parse_count({"keyframes": [[0, 2], [1, 6]], "curve": "smooth"})
    assert _at(smooth, 0.25) == 3  # 2 + 4 * smoothstep(1/4) = 2.625
    assert _at(parse_count({"keyframes": [[0, 1], [1, 4]], "curve": "step"}), 0.99) == 1


# ------------------------------------------------------------------------------ in a run


def test_a_keyed_material_is_the_first_name_then_the_second(tmp_path):
    keyed = _run(tmp_path, MATERIAL.format(material=KEYED), "keyed")
    plain = {
        name: _run(tmp_path, MATERIAL.format(material=f'"{name}"'), name)
        for name in ("marble", "fabric")
    }
    records = {name: _records(root) for name, root in plain.items()}
    for index, record in enumerate(_records(keyed)):
        # Frame k of 4 is at k / 3 of the clip: frames 0 and 1 before the key at 0.5.
        name = "marble" if record["clip"]["frame"] < 2 else "fabric"
        assert _materials(record) == [name, name]
        alone = records[name][index]
        assert record["scene"]["entities"] == alone["scene"]["entities"]
        assert record["objects"] == alone["objects"], "the labels do not depend on materials"
        for folder in ("images", "instances"):  # the same pixels as the name held all clip
            file = f"{folder}/{index:06d}.png"
            assert (keyed / file).read_bytes() == (plain[name] / file).read_bytes(), file
    image = cv2.imread(str(keyed / "images" / "000001.png"))
    after = cv2.imread(str(keyed / "images" / "000002.png"))
    boxes = cv2.imread(str(keyed / "instances" / "000001.png"), cv2.IMREAD_UNCHANGED) > 0
    assert boxes.any() and np.abs(image.astype(int) - after)[boxes].mean() > 5


KEYED = '{ keyframes = [[0, "marble"], [0.5, "fabric"]], curve = "step" }'
CHOICE = (
    '{ keyframes = [[0, { choice = ["metal_brushed", "plastic_glossy", "wood_oak", "marble"] }],'
    ' [0.5, "fabric"]], curve = "step" }'
)


def test_a_keyed_choice_is_drawn_once_per_clip_and_again_by_seed(tmp_path):
    root = _run(tmp_path, MATERIAL.format(material=CHOICE), "choice", total=16)
    records = _records(root)
    drawn = []
    for clip in range(4):
        frames = records[clip * 4 : clip * 4 + 4]
        first = {name for r in frames[:2] for name in _materials(r)}
        assert len(first) == 1, "one draw per clip, every object and frame before the key"
        assert {name for r in frames[2:] for name in _materials(r)} == {"fabric"}
        drawn.append(first.pop())
    assert len(set(drawn)) > 1, drawn  # each clip draws its own
    alone = _run(tmp_path, MATERIAL.format(material=CHOICE), "alone", 16, start=8, frames=4)
    assert _records(alone) == records[8:12], "clip 2 alone draws the same keys"
    again = _run(tmp_path, MATERIAL.format(material=CHOICE), "again", total=16)
    assert dataset_files(again) == dataset_files(root)


def test_tone_curve_light_switch_and_light_count_over_a_clip(tmp_path):
    film = """
[[randomizers]]
type = "film"
tone = { keyframes = [[0, "clamp"], [0.5, "aces"]] }
"""
    light = '[[randomizers]]\ntype = "light"\non = { keyframes = [[0, true], [0.6, false]] }\n'
    lights = """
[[randomizers]]
type = "lights"
count = { keyframes = [[0, 1], [1, 3]] }
"""
    records = _records(_run(tmp_path, film + light, "switch", total=4))
    assert [r["scene"]["film"]["tone"] for r in records] == ["clamp", "clamp", "aces", "aces"]
    kinds = [[x["kind"] for x in r["scene"]["lights"]] for r in records]
    assert kinds == [["ambient", "directional"]] * 2 + [["ambient"]] * 2  # off from 2/3 on
    assert len({json.dumps(r["scene"]["lights"][0]) for r in records}) == 1  # the fill holds
    counted = _records(_run(tmp_path, lights, "counted", total=4))
    drawn = [r["scene"]["lights"][1:] for r in counted]
    assert [len(d) for d in drawn] == [1, 2, 2, 3]  # 1 + 2k/3 rounded: 1, 1.67, 2.33, 3
    for before, after in itertools.pairwise(drawn):
        assert after[: len(before)] == before, "the clip's lights hold; more join them"


def test_an_environment_map_named_per_frame(tmp_path):
    maps = tmp_path / "maps"
    maps.mkdir()
    for name, level in (("dawn_2k", 0.2), ("noon", 2.0)):
        cv2.imwrite(str(maps / f"{name}.hdr"), np.full((16, 32, 3), level, np.float32))
    keyed = '[[randomizers]]\ntype = "environment"\nfolder = "maps"\nmap = {map}\n'
    records = _records(
        _run(tmp_path, keyed.format(map='{ keyframes = [[0, "noon"], [0.5, "Dawn"]] }'), "env")
    )
    sources = [Path(r["scene"]["environment"]["source"]).name for r in records]
    assert (
        sources == ["noon.hdr"] * 2 + ["dawn_2k.hdr"] * 2 + ["noon.hdr"] * 2 + ["dawn_2k.hdr"] * 2
    )
    rotations = [r["scene"]["environment"]["rotation"] for r in records]
    assert len(set(rotations[:4])) == 1, "the map's turn is the clip's draw on every frame"
    world = load_world(_world(tmp_path, keyed.format(map='"dusk"')))
    with pytest.raises(WorldError, match=r"randomizers\[0\]\.map: .*no map 'dusk'.*dawn, noon"):
        Pipeline(world, host_for(world))


# ------------------------------------------------------------------------------ bad input


def _refused(tmp_path: Path, randomizers: str, pattern: str) -> str:
    path = _world(tmp_path, randomizers)
    with pytest.raises(WorldError, match=pattern) as caught:
        world = load_world(path)
        Pipeline(world, host_for(world))
    return str(caught.value)


@pytest.mark.parametrize("curve", ["linear", "smooth"])
def test_a_name_joined_by_a_curve_is_refused_with_the_fix(tmp_path, curve):
    material = KEYED.replace('"step"', f'"{curve}"')
    message = _refused(tmp_path, MATERIAL.format(material=material), r"randomizers\[0\]\.material")
    assert f"curve '{curve}' cannot join names" in message and 'use curve = "step"' in message
    path = _world(tmp_path, MATERIAL.format(material=material))
    line = next(n for n, t in enumerate(path.read_text().splitlines(), 1) if "keyframes" in t)
    assert f"world.toml:{line}:" in message


@pytest.mark.parametrize(
    ("text", "replace", "field"),
    [
        ('shape = "box"', 'shape = { keyframes = [[0, "box"], [0.5, "sphere"]] }', "shape"),
        ("size = 0.8", "size = { keyframes = [[0, 0.5], [1, 1.0]] }", "size"),
    ],
)
def test_a_spawners_parameters_are_drawn_once_per_clip(tmp_path, text, replace, field):
    world = _world(tmp_path, "")
    world.write_text(world.read_text().replace(text, replace, 1))
    loaded = load_world(world)
    with pytest.raises(WorldError) as caught:
        Pipeline(loaded, host_for(loaded))
    message = str(caught.value)
    assert (
        f"spawners[0].{field}: {field} is drawn once per clip, so it cannot be animated" in message
    )
    assert "spawner 'primitive' builds the clip's scene at its start" in message


@pytest.mark.parametrize(
    ("randomizer", "value"),
    [
        ("throw", "velocity = { keyframes = [[0, [0, 0, 0]], [1, [1, 0, 0]]] }"),
        ("camera_motion", 'motion = "orbit"\nrate = { keyframes = [[0, 0], [1, 30]] }'),
    ],
)
def test_a_randomizer_that_builds_the_clip_refuses_keyframes(tmp_path, randomizer, value):
    path = _world(tmp_path, f'[[randomizers]]\ntype = "{randomizer}"\n{value}\n')
    world = load_world(path)
    with pytest.raises(
        WorldError,
        match=r"randomizers\[0\]\.\w+: \w+ is drawn once per clip, "
        r"so it cannot be animated \(keyframes\): randomizer",
    ):
        Pipeline(world, host_for(world))


def test_a_material_and_materials_together_are_refused(tmp_path):
    both = MATERIAL.format(material='"marble"') + 'materials = ["wood"]\n'
    path = _world(tmp_path, both)
    with pytest.raises(WorldError, match=r"give materials .* or material .*, not both"):
        world = load_world(path)
        Pipeline(world, host_for(world))
    unknown = MATERIAL.format(material='{ keyframes = [[0, "marble"], [0.5, "marbel"]] }')
    with pytest.raises(WorldError, match="unknown material 'marbel'; did you mean 'marble'"):
        world = load_world(_world(tmp_path, unknown))
        Pipeline(world, host_for(world))
