"""The shards of an open sharded index, called together: in this process (LocalShards) or as Ray
actors (braid.engine.ray_shards.RayShards). Both answer `call` with every shard's result, in
shard order, or raise ShardError naming the shard that failed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from braid.engine.shard_answers import ShardAnswers, partial_answers
from braid.engine.shard_searcher import ShardSearcher
from braid.fusion.errors import BraidError
from braid.indexing.term_statistics import TermStatistics


@dataclass(frozen=True)
class ShardPlan:
    """What every shard opens with: the generation the coordinator read, and the corpus-wide statistics of those generations."""

    generations: tuple[int, ...]
    statistics: Mapping[str, TermStatistics]


class ShardError(BraidError):
    """A shard did not answer (its process died and could not be restarted in time, or it failed)."""


def left_out(answers: ShardAnswers | None, number: int, failure: ShardError) -> None:
    """A shard that failed fails the search, unless it accepts partial results: then it is recorded there."""
    if answers is None:
        raise failure
    answers.failed(number, str(failure))


class ShardGroup(Protocol):
    folders: list[Path]

    def call(self, method: str, arguments: Sequence[tuple[Any, ...] | None]) -> list[Any]:
        """`method(*arguments[i])` on shard i, for every shard at once; results in shard order
        (None for a shard whose arguments are None: it is not asked). A shard that fails raises
        ShardError, or, in a search accepting partial results, gives None and is recorded there."""
        ...

    def describe(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class LocalShards:
    """Every shard in this process: the sharded layout without a cluster (tests, one machine)."""

    def __init__(self, root: Path, folders: list[Path], retrievers: Sequence[str], options: Mapping[str, Mapping[str, Any]] | None, plan: ShardPlan) -> None:
        self.folders = folders
        self._searchers: list[ShardSearcher] = []
        try:
            for number in range(len(folders)):
                self._searchers.append(ShardSearcher(str(root), number, retrievers, options, plan.statistics, plan.generations[number]))
        except BaseException:
            self.close()
            raise
        self._pool = ThreadPoolExecutor(max_workers=len(folders), thread_name_prefix="braid-shard")

    def call(self, method: str, arguments: Sequence[tuple[Any, ...] | None]) -> list[Any]:
        futures = [None if given is None else self._pool.submit(getattr(searcher, method), *given) for searcher, given in zip(self._searchers, arguments)]
        answers = partial_answers()
        results = []
        for number, future in enumerate(futures):
            try:
                results.append(None if future is None else future.result())
                continue
            except BraidError as error:
                failure = ShardError(f"shard {number} ({self.folders[number]}): {error}")
            left_out(answers, number, failure)
            results.append(None)
        return results

    def describe(self) -> dict[str, Any]:
        return {"where": "local", "shards": len(self.folders)}

    def close(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.shutdown(wait=True)
        for searcher in self._searchers:
            searcher.close()
        self._searchers = []
