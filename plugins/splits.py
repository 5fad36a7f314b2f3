"""The seeded train/val split the yolo, voc, kitti and bop writers share.

Frame i goes to val when a number drawn from its own random stream (the world seed, i and
`writer:<name>:split`) is below the fraction: it depends only on (seed, frame), never on
which frames a run renders or in which shard, so `--workers`, `--resume` and `--start`
sub-runs agree with the full run.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from simulator import Params
from simulator.seeding import stream

Split = Literal["train", "val"]
SPLITS: tuple[Split, Split] = ("train", "val")


class SplitParams(Params):
    """Parameters of writers with a train/val split."""

    val_fraction: float = Field(
        0.2, ge=0.0, le=1.0, description="Share of frames in the val split (seeded per frame)."
    )


def is_val(seed: int, frame: int, val_fraction: float, writer: str) -> bool:
    return bool(stream(seed, frame, f"writer:{writer}:split").random() < val_fraction)


def split_of(seed: int, frame: int, val_fraction: float, writer: str) -> Split:
    return "val" if is_val(seed, frame, val_fraction, writer) else "train"
