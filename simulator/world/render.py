"""The world's `[render]` section: how frames are drawn (the look), not what is in them.

A preset names a look; each of its settings can be given on its own and then wins:

- "realistic" (the default): FXAA anti-aliasing, the ACES filmic tone curve and automatic
  exposure (incident-light metering).
- "fast": sim's old look, for raw speed: no anti-aliasing, radiance clipped at 1 with a 2.2
  gamma, no metering.

Ambient occlusion where objects meet is off in both: on the CPU renderer it costs about 7 ms
a frame per object at 640x480 (docs/lighting.md), so a world turns it on where contact
matters more than speed.

Both shade with the same physically based materials and lights (docs/lighting.md); labels
are the same under every setting.

`renderer` chooses who makes the RGB: sim's Panda3D rasterizer (the default), or Blender's
Cycles path tracer (the optional extra `sim[cycles]`; docs/rendering.md), with `samples`,
`denoise` and `device`. Cycles renders the same scene through the same film (exposure,
metering, white balance, tone curve); the labels still come from sim's exact passes, byte
for byte the same under either renderer.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

Preset = Literal["realistic", "fast"]
Tone = Literal["clamp", "linear", "aces"]
RendererName = Literal["panda3d", "cycles"]
Device = Literal["auto", "cpu", "gpu"]
RENDERERS: tuple[str, ...] = get_args(RendererName)

PRESETS: dict[str, dict[str, object]] = {
    "realistic": {
        "antialias": "fxaa",
        "tone": "aces",
        "metering": True,
        "ambient_occlusion": False,
    },
    "fast": {"antialias": 0, "tone": "clamp", "metering": False, "ambient_occlusion": False},
}


class RenderSection(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    preset: Preset = Field(
        "realistic", description="The look: realistic, or fast (sim's old look)."
    )
    antialias: Literal[0, 2, 4, 8, "fxaa"] | None = Field(
        None,
        description="Anti-aliasing of the RGB image: 2, 4 or 8 samples per pixel "
        '(multisampling), "fxaa" (a pass after the frame that smooths its edges: about a '
        "third of 4x multisampling's cost on the CPU renderer, docs/lighting.md compares "
        "them), or 0 (off). Labels stay exact at pixel centres either way. Default: the "
        "preset's.",
    )
    tone: Tone | None = Field(
        None,
        description="Tone curve: aces (filmic), linear (clip, sRGB curve) or clamp (clip, 2.2 "
        "gamma). Default: the preset's.",
    )
    metering: bool | None = Field(
        None,
        description="Automatic exposure by incident-light metering. Default: the preset's.",
    )
    ambient_occlusion: bool | None = Field(
        None,
        description="Objects darken the light from every direction where they meet other "
        "surfaces (an ellipsoid per object; Cycles traces it). About 7 ms a frame per object "
        "on the CPU renderer. Default: off in both presets.",
    )
    exposure: float = Field(
        0.0, ge=-20, le=20, description="Exposure compensation in stops (+1 doubles the light)."
    )
    renderer: RendererName = Field(
        "panda3d",
        description="Who renders the RGB: panda3d (sim's rasterizer) or cycles (Blender's path "
        'tracer: pip install "sim[cycles]"). Labels are the same either way.',
    )
    samples: int = Field(
        64, ge=1, le=65536, description="Cycles: paths per pixel (more: less noise, slower)."
    )
    denoise: bool = Field(
        False, description="Cycles: OpenImageDenoise on the RGB (ships with Blender)."
    )
    device: Device = Field(
        "auto",
        description="Cycles: auto (a GPU through OptiX or CUDA when Blender finds one, else "
        "the CPU), cpu, or gpu (falls back to the CPU, saying so, when there is none).",
    )

    def setting(self, name: str) -> object:
        """A setting as given, else the preset's."""
        value = getattr(self, name)
        return PRESETS[self.preset][name] if value is None else value
