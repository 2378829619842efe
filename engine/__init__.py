"""Searching an index: `Engine.open(path).search("query", k=10)`; building one: `build_index(corpus, out)`;
writing to one: `with IndexWriter(path) as writer: writer.add(documents)`.

Retriever kinds (bm25, splade, dense, and any a plugin registers) live in `braid.engine.registry`.
"""

from __future__ import annotations

from braid.engine.build import build_index
from braid.engine.engine import Engine
from braid.engine.hits import Hit
from braid.engine.registry import RetrieverKind, kinds
from braid.engine.retriever import OpenRequest, Retriever
from braid.engine.writer import CommitReport, IndexWriter, MergePolicy
from braid.fusion.errors import BraidError, DataError

__all__ = [
    "BraidError",
    "CommitReport",
    "DataError",
    "Engine",
    "Hit",
    "IndexWriter",
    "MergePolicy",
    "OpenRequest",
    "Retriever",
    "RetrieverKind",
    "build_index",
    "kinds",
]
