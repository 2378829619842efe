"""Every retriever kind braid knows, in one table: its typed parameters, how its sub-index is built
and how it is opened for search. `braid index`, `Engine.open`, the CLI and the server all read it.

A new kind is one module (a config dataclass, a builder, a retriever and an `open` function) plus
one line in `BUILT_IN`; a kind from another package registers through the entry-point group
`braid.retrievers`, whose entries name a `RetrieverKind`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from braid.engine.bm25 import open_bm25
from braid.engine.dense import open_dense
from braid.engine.retriever import OpenRequest, Part, Retriever, as_built
from braid.engine.splade import open_splade
from braid.fusion.errors import BraidError
from braid.indexing.bm25 import BM25Builder
from braid.indexing.build import SubIndexBuilder
from braid.indexing.config import BM25Config, DenseConfig, RetrieverConfig, SpladeConfig
from braid.indexing.dense import DenseBuilder
from braid.indexing.manifest import RetrieverEntry
from braid.indexing.segments import Segment
from braid.indexing.splade import SpladeBuilder

ENTRY_POINT_GROUP = "braid.retrievers"


@dataclass(frozen=True)
class RetrieverKind:
    name: str
    config: type[RetrieverConfig]
    # (index staging folder, this kind's config, threads) -> a builder fed every document once
    builder: Callable[[Path, Any, int], SubIndexBuilder]
    open: Callable[[OpenRequest], Retriever]
    # search-time overrides `open` accepts (e.g. bm25 k1, an HNSW ef_search), by name
    options: tuple[str, ...] = ()
    # whether `open` searches OpenRequest.parts (several segments, deletions); a kind that does not
    # opens only an index as built, or compacted
    segmented: bool = False


BUILT_IN: dict[str, RetrieverKind] = {
    kind.name: kind
    for kind in (
        RetrieverKind("bm25", BM25Config, BM25Builder, open_bm25, ("k1", "b", "backend"), segmented=True),
        RetrieverKind("splade", SpladeConfig, SpladeBuilder, open_splade, ("backend", "query_stopwords"), segmented=True),
        RetrieverKind("dense", DenseConfig, DenseBuilder, open_dense, ("ef_search", "exact", "filter_search", "query_encoder"), segmented=True),
    )
}


@cache
def _plugins() -> dict[str, RetrieverKind]:
    found = {}
    for point in entry_points(group=ENTRY_POINT_GROUP):
        kind = point.load()
        if not isinstance(kind, RetrieverKind):
            raise BraidError(f"entry point {point.value!r} in {ENTRY_POINT_GROUP} is not a RetrieverKind")
        found[kind.name] = kind
    return found


def kinds() -> dict[str, RetrieverKind]:
    """Built-in kinds first, then those other installed packages register."""
    return {**BUILT_IN, **{name: kind for name, kind in _plugins().items() if name not in BUILT_IN}}


def retriever_kind(name: str) -> RetrieverKind:
    known = kinds()
    if name not in known:
        raise BraidError(f"unknown retriever {name!r}; choose from {', '.join(known)}")
    return known[name]


def check_retriever_names(names: Sequence[str]) -> list[str]:
    """Names as given (blanks and repeats dropped), each a known kind."""
    chosen = list(dict.fromkeys(name.strip() for name in names if name.strip()))
    if not chosen:
        raise BraidError(f"no retriever named; choose from {', '.join(kinds())}")
    for name in chosen:
        retriever_kind(name)
    return chosen


def open_retriever(
    entry: RetrieverEntry, segments: Sequence[Segment], doc_ids: Callable[[], Sequence[str]], options: Mapping[str, Any] | None = None
) -> Retriever:
    """Open one retriever over the live documents of `segments` (`doc_ids` lists them in order)."""
    kind = kinds().get(entry.kind)
    if kind is None:
        raise BraidError(f"this braid cannot open retrievers of kind {entry.kind!r} (known: {', '.join(kinds())}); upgrade braid or install its plugin")
    given = {name: value for name, value in (options or {}).items() if value is not None}
    unknown = sorted(set(given) - set(kind.options))
    if unknown:
        raise BraidError(f"{entry.kind} has no search option {', '.join(unknown)}; it takes: {', '.join(kind.options) or 'none'}")
    parts = tuple(Part(segment.folder / entry.path, segment.entry.docs, segment.live) for segment in segments)
    if not kind.segmented and not as_built(parts):
        raise BraidError(f"retrievers of kind {entry.kind!r} search a compacted index only; run `braid compact INDEX` first")
    return kind.open(OpenRequest(parts[0].folder, entry, doc_ids, given, parts))
