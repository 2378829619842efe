"""The one interface every retriever answers: a batch of query texts in, ranked (doc id, score) lists out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from braid.fusion.errors import BraidError
from braid.fusion.types import Ranking
from braid.indexing.manifest import RetrieverEntry


@runtime_checkable
class Retriever(Protocol):
    name: str

    def search(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[Ranking]:
        """Return, for each query in order, at most `depth` hits, best first. `allowed` (a filter)
        holds one bool per live document in the index's order; only those may be returned, and at
        least min(depth, allowed.sum()) of them when the retriever scores that many."""
        ...

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """This retriever's own score for given documents of each query (fusion's `exact` policy)."""
        ...

    def forget_queries(self) -> None:
        """Drop cached query encodings, so the next search encodes from scratch (cold timings)."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class Part:
    """One segment as a retriever sees it: its sub-folder there, how many documents the segment
    was written with, and which of them are live (None: all)."""

    folder: Path
    docs: int
    live: np.ndarray | None = None

    @property
    def live_docs(self) -> int:
        return self.docs if self.live is None else int(np.count_nonzero(self.live))


@dataclass(frozen=True)
class OpenRequest:
    """What opening one retriever of an index gets: its sub-folder in the first segment, its manifest
    entry, the live doc ids (loaded on first use; segment by segment, each in its own order), the
    search-time overrides given for its kind, and every segment's part (several, or deletions, once
    the index has been written to)."""

    folder: Path
    entry: RetrieverEntry
    doc_ids: Callable[[], Sequence[str]]
    options: Mapping[str, Any] = field(default_factory=dict)
    parts: tuple[Part, ...] = ()


def as_built(parts: Sequence[Part]) -> bool:
    """One segment with nothing deleted (or no parts given): a retriever reads its folder as built."""
    return len(parts) <= 1 and all(part.live is None for part in parts)


def compacted_only(parts: Sequence[Part], what: str) -> None:
    """Refuse a search path that reads one segment as built (e.g. Lucene's own index)."""
    if not as_built(parts):
        deleted = sum(part.docs - part.live_docs for part in parts)
        raise BraidError(
            f"{what} reads a compacted index only; this one has {len(parts)} segment(s) and {deleted} deleted document(s): "
            "run `braid compact INDEX` first, or use the matrix backend"
        )


def filter_refused(kind: str) -> str:
    """Why a Lucene backend gives no filtered search (braid's filters run on its own matrices)."""
    return f"the {kind} lucene backend cannot filter; search with the matrix backend (the default) to filter"
