"""The small frame the material and part tests draw: 64 x 48, a camera on -Y at 3 m looking
at the origin (the `small` engine fixture in conftest.py renders it)."""

from simulator.scene.scene import CameraState

WIDTH, HEIGHT = 64, 48


def camera() -> CameraState:
    return CameraState(WIDTH, HEIGHT, fov=60, position=[0, -3, 0], target=[0, 0, 0])
