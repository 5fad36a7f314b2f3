"""Order-independent random streams: frame i of a world depends only on (seed, i).

Every plugin entry draws from its own generator derived from (world seed, frame index,
entry name), so adding, removing or reordering one randomizer never changes another's draws,
and any frame can be rebuilt alone, in any process.
"""

from __future__ import annotations

import hashlib

import numpy as np


def _name_key(name: str) -> list[int]:
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return [int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4)]


def stream(seed: int, frame: int, name: str) -> np.random.Generator:
    """The generator of entry `name` (e.g. "randomizer:pose") in frame `frame` of world `seed`."""
    if seed < 0 or frame < 0:
        raise ValueError("seed and frame index must be >= 0")
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, frame, *_name_key(name)]))
    )
