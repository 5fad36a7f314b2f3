"""The Ray backend: shards rendered on a Ray cluster (`sim run --backend ray --address HOST:PORT`).

Ray is an optional extra (`pip install "sim[ray]"`), imported only here. Every node needs sim
and the world's plugins installed, and must see the output directory at the same path (a
shared filesystem, or one machine). Each actor holds one Renderer (its own GL context) and
renders whole shards, so resume and the byte-identical merge work exactly as in local runs.
"""

from __future__ import annotations

import logging
from typing import Any

from simulator.errors import OutputError
from simulator.run.backend import Backend, RendererSpec, Work
from simulator.run.shards import Job, Shard, write_shard


class ShardRenderer:
    """A Ray actor (one CPU): renders shards with a Renderer built once."""

    def __init__(self, spec: RendererSpec, job: Job) -> None:
        self.renderer = spec.build()
        self.job = job

    def render(self, shard: Shard) -> tuple[int, str]:
        import ray

        write_shard(self.renderer, self.job, shard)
        return shard.index, ray.util.get_node_ip_address()


def connect(address: str) -> Any:
    try:
        import ray
    except ImportError:
        raise OutputError(
            '--backend ray needs Ray, an optional extra: pip install "sim[ray]"'
        ) from None
    try:
        ray.init(
            address=address,
            logging_level=logging.ERROR,
            log_to_driver=False,
            ignore_reinit_error=True,
        )
    except Exception as error:  # ConnectionError and Ray's own errors
        raise OutputError(f"could not connect to the Ray cluster at {address!r}: {error}") from None
    return ray


class Ray(Backend):
    """One actor per cluster CPU (at most one per shard), each rendering whole shards.

    This process's renderer only checks the first frame, without its hooks: they run on the
    node that renders it. `workers` is only what the progress bar counts."""

    renders_here = False

    def __init__(self, spec: RendererSpec, address: str, workers: int = 1) -> None:
        super().__init__(workers)
        self.spec, self.address = spec, address

    def render(self, work: Work) -> dict[str, Any]:
        """Returns {"nodes": {node address: shard indices}}."""
        ray = connect(self.address)
        from ray.util import ActorPool

        pending = work.pending
        slots = max(1, min(int(ray.cluster_resources().get("CPU", 1)), len(pending)))
        actor = ray.remote(num_cpus=1)(ShardRenderer)
        actors = [actor.remote(self.spec, work.job) for _ in range(slots)]
        by_index = {shard.index: shard for shard in pending}
        nodes: dict[str, list[int]] = {}
        try:
            pool = ActorPool(actors)
            for index, node in pool.map_unordered(lambda a, s: a.render.remote(s), pending):
                nodes.setdefault(node, []).append(index)
                for frame in by_index[index].frames:
                    work.on_frame(frame)
                work.on_shard(by_index[index])
        except ray.exceptions.RayTaskError as error:
            raise error.as_instanceof_cause() from None  # the plugin's own error, as in local runs
        finally:
            for a in actors:
                ray.kill(a)
        return {"nodes": {node: sorted(indices) for node, indices in sorted(nodes.items())}}
