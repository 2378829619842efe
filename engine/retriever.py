"""The one interface every retriever answers: a batch of query texts in, ranked (doc id, score) lists out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from braid.fusion.types import Ranking
from braid.indexing.manifest import RetrieverEntry


@runtime_checkable
class Retriever(Protocol):
    name: str

    def search(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        """Return, for each query in order, at most `depth` hits, best first."""
        ...

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """This retriever's own score for given documents of each query (fusion's `exact` policy)."""
        ...

    def forget_queries(self) -> None:
        """Drop cached query encodings, so the next search encodes from scratch (cold timings)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class OpenRequest:
    """What opening one retriever of an index gets: its sub-folder, its manifest entry, the doc ids
    in docstore order (loaded on first use), and the search-time overrides given for its kind."""

    folder: Path
    entry: RetrieverEntry
    doc_ids: Callable[[], Sequence[str]]
    options: Mapping[str, Any] = field(default_factory=dict)
