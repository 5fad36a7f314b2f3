"""Between sim's conventions (numpy column-vector matrices, OpenCV camera axes) and
Panda3D's (row-vector matrices, cameras looking along +Y with +Z up)."""

from __future__ import annotations

import numpy as np
from panda3d.core import LMatrix4f

# Panda3D camera axes (x right, y forward, z up) -> OpenCV camera axes (x right, y down,
# z forward): a Panda3D camera's matrix is the OpenCV cam_to_world times this.
PANDA_TO_OPENCV = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], float)


def to_panda(matrix: np.ndarray) -> LMatrix4f:
    """Panda3D uses row vectors: its matrix is the transpose of ours."""
    return LMatrix4f(*np.asarray(matrix, float).T.reshape(-1).tolist())


def from_panda(matrix: LMatrix4f) -> np.ndarray:
    """A Panda3D (row-vector) matrix as a numpy column-vector matrix."""
    return np.array([[matrix.get_cell(r, c) for c in range(4)] for r in range(4)]).T
