"""The one interface every retriever answers: a batch of query texts in, ranked (doc id, score) lists out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

# One query's results: (doc id, score), best first.
Ranking = list[tuple[str, float]]


@runtime_checkable
class Retriever(Protocol):
    name: str

    def search(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        """Return, for each query in order, at most `depth` hits, best first."""
        ...

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """This retriever's own score for given documents of each query (fusion's `exact` policy)."""
        ...

    def close(self) -> None: ...
