"""Rendering shards on a Ray cluster (`sim run --backend ray --address HOST:PORT`).

Ray is an optional extra (`pip install "sim[ray]"`), imported only here. Every node needs sim
and the world's plugins installed, and must see the output directory at the same path (a
shared filesystem, or one machine). Each actor holds one Renderer (its own GL context) and
renders whole shards, so resume and the byte-identical merge work exactly as in local runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from simulator.capture.frame import Renderer
from simulator.errors import OutputError
from simulator.run.shards import Job, Shard, write_shard
from simulator.world.load import WorldState, restore_world, world_state
from simulator.world.schema import World


class ShardRenderer:
    """A Ray actor (one CPU): renders shards with a Renderer built once."""

    def __init__(
        self, state: WorldState, plugins_dirs: list[Path], trace: bool | None, job: Job
    ) -> None:

        self.renderer = Renderer(restore_world(state), plugins_dirs, trace)
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


def render_on_ray(
    world: World,
    plugins_dirs: Iterable[Path],
    trace: bool | None,
    job: Job,
    pending: list[Shard],
    address: str,
    on_frame: Callable[[int], None],
    on_shard: Callable[[Shard], None],
) -> dict[str, list[int]]:
    """Render `pending` shards on the cluster; returns {node address: shard indices}."""
    ray = connect(address)
    from ray.util import ActorPool

    state = world_state(world)
    slots = max(1, min(int(ray.cluster_resources().get("CPU", 1)), len(pending)))
    actor = ray.remote(num_cpus=1)(ShardRenderer)
    actors = [actor.remote(state, list(plugins_dirs), trace, job) for _ in range(slots)]
    by_index = {shard.index: shard for shard in pending}
    nodes: dict[str, list[int]] = {}
    try:
        pool = ActorPool(actors)
        for index, node in pool.map_unordered(lambda a, s: a.render.remote(s), pending):
            nodes.setdefault(node, []).append(index)
            for frame in by_index[index].frames:
                on_frame(frame)
            on_shard(by_index[index])
    except ray.exceptions.RayTaskError as error:
        raise error.as_instanceof_cause() from None  # the plugin's own error, as in local runs
    finally:
        for a in actors:
            ray.kill(a)
    return {node: sorted(indices) for node, indices in sorted(nodes.items())}
