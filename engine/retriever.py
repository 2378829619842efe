"""The one interface every retriever answers: a batch of query texts in, ranked (doc id, score) lists out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeGuard, runtime_checkable

import numpy as np

from braid.fusion.errors import BraidError
from braid.fusion.types import OrdinalRanking, Ranking
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


@runtime_checkable
class OrdinalRetriever(Retriever, Protocol):
    """A retriever that also answers by document ordinal (the position of a doc id in the index's
    live ids, the order OpenRequest.doc_ids lists them): fused search then handles no doc id until it
    returns hits. The built-in kinds do; a kind that does not is fused through its ids."""

    def search_ordinals(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        """`search`, with each hit as its ordinal: (ordinals, scores) arrays per query, the same
        hits and scores in the same order."""
        ...

    def score_ordinals(self, queries: Sequence[str], ordinals: Sequence[np.ndarray]) -> list[np.ndarray]:
        """`score` of the documents at `ordinals` (float64, in their order), computed in bulk."""
        ...


# Scores of given documents for each query of a search, by ordinal: wanted[i] for query i.
Scorer = Callable[[Sequence[np.ndarray]], list[np.ndarray]]


@runtime_checkable
class KeepsScores(OrdinalRetriever, Protocol):
    """A retriever whose search computes what exact scores need anyway (the sparse kinds: every
    matched document's sum), and keeps it for the fused search's next step."""

    def search_scored(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> tuple[list[OrdinalRanking], Scorer]:
        """`search_ordinals`, and a Scorer for the same queries giving what `score_ordinals` would."""
        ...


@runtime_checkable
class Shardable(OrdinalRetriever, Protocol):
    """A retriever whose lists over parts of a corpus merge into its list over the whole (a sharded
    index: braid.engine.sharded). Merging compares the scores ranking compared; a list's reported
    scores may depend on its neighbours (Anserini nudges ties apart), so they are made after."""

    def search_ranked(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        """`search_ordinals` with the scores each list is ranked by (score descending, then doc id)."""
        ...

    def report(self, ranked: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """The scores `search_ordinals` reports for ranked lists, concatenated (`starts` flags each list's first)."""
        ...


# Whether a class answers a runtime protocol, by (class, protocol): Python's isinstance walks every
# member of the protocol each time (a fused query made five such checks: 0.2 ms of its ~2.2).
_ANSWERS: dict[tuple[type, type], bool] = {}


def _answers(retriever: object, protocol: type) -> bool:
    key = (type(retriever), protocol)
    found = _ANSWERS.get(key)
    if found is None:
        found = _ANSWERS[key] = isinstance(retriever, protocol)
    return found


def answers_ordinals(retriever: object) -> TypeGuard[OrdinalRetriever]:
    """isinstance(retriever, OrdinalRetriever), decided once per class."""
    return _answers(retriever, OrdinalRetriever)


def keeps_scores(retriever: object) -> TypeGuard[KeepsScores]:
    """isinstance(retriever, KeepsScores), decided once per class."""
    return _answers(retriever, KeepsScores)


class EncodesAhead(Protocol):
    """A retriever whose query encodings can be made before its search, which then uses them
    (kept in its query cache): a sharded search ships them to shards, one query's fused search
    encodes beside the other retrievers or before every search (executions "encode-ahead", "encode-first")."""

    def query_rows(self, queries: Sequence[str]) -> list[Any]:
        """Each query's encoding, as the query cache keeps it (made now unless kept already)."""
        ...

    def remember_queries(self, queries: Sequence[str], rows: Sequence[Any]) -> None:
        """Keep `query_rows` made elsewhere, so searching these queries encodes nothing here."""
        ...


def unreported(ranked: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Ranked scores as they are: the `report` of a retriever whose lists report what they rank by."""
    return ranked


def retriever_settings(retriever: object) -> dict[str, Any]:
    """The parameters a retriever runs with (its config, backend, exactness): what reproduces a
    reported score, and what a stored per-host choice depends on."""
    config = getattr(retriever, "config", None)
    settings = config.to_dict() if config is not None else {}
    for option in ("backend", "exact", "query_encoder"):
        if hasattr(retriever, option):
            settings[option] = getattr(retriever, option)
    return settings


def as_ordinals(rankings: Sequence[Ranking], position: Mapping[str, int]) -> list[OrdinalRanking]:
    """(doc id, score) lists as (ordinals, scores) arrays; `position` maps a doc id to its ordinal."""
    return [
        (
            np.fromiter((position[doc] for doc, _ in ranking), dtype=np.int64, count=len(ranking)),
            np.fromiter((score for _, score in ranking), dtype=np.float64, count=len(ranking)),
        )
        for ranking in rankings
    ]


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
