"""A sharded index's shards as Ray actors (`Engine.open(..., ray=ADDRESS)`, `braid serve --ray`).

One actor per shard holds that shard open (braid.engine.shard_searcher). Ray restarts an actor whose
process dies, and the restarted actor opens its shard again (with the arguments it was made with:
the same generation and statistics); a call that was running is retried on
it (`max_task_retries`), so a query during the gap waits and then succeeds. A shard that does not
answer within `timeout` seconds, or cannot be restarted, fails the query with a ShardError naming
it: a query never silently returns a partial result.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from braid.engine.shard_answers import partial_answers
from braid.engine.shard_group import ShardError, ShardPlan, left_out
from braid.engine.shard_searcher import ShardSearcher
from braid.indexing.ray_cluster import RayConnection, ray_module

# How often Ray may restart one shard's actor (-1: without limit) and retry a call on it.
RESTARTS = -1
RETRIES = 3
# Seconds a call waits for a shard (a restarted shard reopens its files and models first).
TIMEOUT = 120.0
# Calls one shard actor runs at once: a fused search asks each retriever of a shard in parallel.
CONCURRENCY = 4


class RayShards:
    def __init__(
        self,
        root: Path,
        folders: list[Path],
        retrievers: Sequence[str],
        options: Mapping[str, Mapping[str, Any]] | None,
        plan: ShardPlan,
        address: str,
        timeout: float = TIMEOUT,
    ) -> None:
        self.folders = folders
        self.timeout = timeout
        self._connection = RayConnection(address)
        ray = ray_module()
        # No CPU reserved: a shard actor idles between queries, and a cluster smaller than its
        # shard count must still hold them all; SPREAD places them on as many nodes as it can.
        actor = ray.remote(num_cpus=0, max_restarts=RESTARTS, max_task_retries=RETRIES, max_concurrency=CONCURRENCY)(ShardSearcher)
        options = {name: dict(values) for name, values in (options or {}).items()}
        # In the object store, held here for as long as the shards live: a restarted actor is made
        # again from these arguments (Ray cannot restart it once they go out of scope).
        self._statistics = ray.put(dict(plan.statistics))
        self.actors = [
            actor.options(scheduling_strategy="SPREAD").remote(str(root), number, list(retrievers), options, self._statistics, plan.generations[number])
            for number in range(len(folders))
        ]
        try:
            self.pids: list[int] = self.call("pid", [() for _ in folders])
        except BaseException:
            self.close()
            raise

    def call(self, method: str, arguments: Sequence[tuple[Any, ...] | None]) -> list[Any]:
        ray = ray_module()
        from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError

        pending = [None if given is None else getattr(actor, method).remote(*given) for actor, given in zip(self.actors, arguments)]
        answers = partial_answers()
        wait = answers.wait if answers is not None else self.timeout
        deadline = time.monotonic() + wait
        results: list[Any] = []
        for number, reference in enumerate(pending):
            if reference is None:
                results.append(None)
                continue
            where = f"shard {number} ({self.folders[number]})"
            try:
                results.append(ray.get(reference, timeout=max(0.0, deadline - time.monotonic())))
                continue
            except GetTimeoutError:
                failure = ShardError(f"{where} did not answer within {wait:g} s")
            except RayActorError as error:
                failure = ShardError(f"{where} is down and was not restarted: {_first_line(error)}")
            except RayTaskError as error:
                failure = ShardError(f"{where}: {_first_line(error.cause if error.cause else error)}")
            left_out(answers, number, failure)
            results.append(None)
        return results

    def describe(self) -> dict[str, Any]:
        return {"where": "ray", "shards": len(self.folders)}

    def close(self) -> None:
        ray = ray_module()
        if ray.is_initialized():
            for actor in getattr(self, "actors", []):
                ray.kill(actor, no_restart=True)
        self.actors = []
        self._connection.close()


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[-1] if text else type(error).__name__
