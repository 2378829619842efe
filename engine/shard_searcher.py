"""One shard of a sharded index, searched as part of the whole (in this process or as a Ray actor).

It opens its shard like any index, gives its BM25 retrievers the corpus-wide statistics the
coordinator hands it, and answers by its own document ordinals with the scores lists are ranked by:
the coordinator (braid.engine.sharded) merges the shards' lists and reports scores once. It must
open the generation the coordinator read (a restarted actor may find a newer one: it then refuses,
and the coordinator's next refresh opens the new generations everywhere).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from braid.engine.engine import Engine
from braid.engine.retriever import OrdinalRanking, Shardable
from braid.fusion.errors import BraidError
from braid.indexing.shards import ShardLayout
from braid.indexing.term_statistics import TermStatistics


class ShardSearcher:
    def __init__(
        self,
        root: str,
        number: int,
        retrievers: Sequence[str],
        options: Mapping[str, Mapping[str, Any]] | None,
        statistics: Mapping[str, TermStatistics],
        generation: int,
    ) -> None:
        self.number = number
        self.folder = ShardLayout.read(root).folders(root)[number]
        self.engine = Engine.open(self.folder, retrievers, options=options, execution="serial")
        try:
            if self.engine.manifest.generation != generation:
                raise BraidError(f"{self.folder} is at generation {self.engine.manifest.generation}, the search at {generation}: refresh the engine")
            for name, retriever in self.engine.retrievers.items():
                if not isinstance(retriever, Shardable):
                    raise BraidError(f"retriever {name!r} of {self.folder} cannot be searched in shards (it gives no ranked scores to merge)")
                if name in statistics:
                    retriever.use_corpus_statistics(statistics[name])  # type: ignore[attr-defined]
        except BaseException:
            self.engine.close()
            raise

    def ids(self) -> list[str]:
        """The shard's live doc ids by ordinal."""
        return list(self.engine.docstore.ids())

    def search(self, name: str, queries: Sequence[str], depth: int, allowed: np.ndarray | None, encoded: Sequence[Any] | None) -> list[OrdinalRanking]:
        """`name`'s ranked lists over this shard; `encoded`: the queries' encodings, made once by the coordinator."""
        retriever = self._retriever(name, encoded, queries)
        return retriever.search_ranked(queries, depth, allowed)

    def score(self, name: str, queries: Sequence[str], ordinals: Sequence[np.ndarray], encoded: Sequence[Any] | None) -> list[np.ndarray]:
        return self._retriever(name, encoded, queries).score_ordinals(queries, ordinals)

    def _retriever(self, name: str, encoded: Sequence[Any] | None, queries: Sequence[str]) -> Any:
        retriever: Any = self.engine.retrievers[name]
        if encoded is not None:
            retriever.remember_queries(queries, encoded)
        return retriever

    def pid(self) -> int:
        return os.getpid()

    def close(self) -> None:
        self.engine.close()
