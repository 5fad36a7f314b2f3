"""Writer "native": one self-describing JSON record per frame, in frames.jsonl."""

from __future__ import annotations

import json

from simulator import DatasetInfo, FrameLabels, Params, Writer, hookimpl


class NativeWriter(Writer[Params]):
    """Every label of a frame, its camera and the sampled scene, one JSON line per frame."""

    name = "native"
    one_per_dataset = True  # frames.jsonl

    def __init__(self, params: Params, dataset: DatasetInfo) -> None:
        super().__init__(params, dataset)
        part = dataset.part or dataset.root
        part.mkdir(parents=True, exist_ok=True)
        # The default merge joins the shards' parts into frames.jsonl, in frame order.
        self._file = (part / "frames.jsonl").open("w", encoding="utf-8")

    def write(self, frame: FrameLabels) -> None:
        self._file.write(json.dumps(frame.record(), separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._file.close()

    def abort(self) -> None:
        self._file.close()


@hookimpl
def sim_register_writers(register):
    register(NativeWriter)
