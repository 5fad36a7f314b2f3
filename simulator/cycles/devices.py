"""Where Cycles renders: a GPU (OptiX, else CUDA) when Blender finds one and the world
allows it, the CPU otherwise, saying so when a GPU was asked for or could have been used."""

from __future__ import annotations

import bpy

from simulator.cycles.notices import note

GPU_BACKENDS = ("OPTIX", "CUDA")


def choose_device(asked: str) -> str:
    """ "CPU" or "GPU" for `scene.cycles.device`; `asked` is [render] device: auto, cpu, gpu.
    A GPU found is enabled in Cycles' preferences (for this process)."""
    if asked == "cpu":
        return "CPU"
    preferences = bpy.context.preferences.addons["cycles"].preferences
    for backend in GPU_BACKENDS:
        try:
            preferences.compute_device_type = backend
        except TypeError:  # this Blender build lacks the backend
            continue
        preferences.refresh_devices()
        gpus = [d for d in preferences.get_devices_for_type(backend) if d.type != "CPU"]
        if gpus:
            for device in preferences.devices:
                device.use = device in gpus
            return "GPU"
    preferences.compute_device_type = "NONE"
    if asked == "gpu":
        note("Cycles found no GPU (OptiX or CUDA): rendering on the CPU instead")
    else:
        note("Cycles renders on the CPU (no OptiX or CUDA GPU found)")
    return "CPU"
