"""What an index is and how it is written: corpus readers, each retriever's parameters, encoders and
builder, the docstore, the manifest and the atomic directory write (the engine builds through
`braid.engine.build_index`, which picks builders from the retriever registry)."""

from __future__ import annotations

from braid.indexing.config import BM25Config, DenseConfig, RetrieverConfig, SpladeConfig
from braid.indexing.docstore import DocStore
from braid.indexing.manifest import Manifest, RetrieverEntry
from braid.indexing.readers import Document, Query, read_corpus, read_queries

__all__ = [
    "BM25Config",
    "DenseConfig",
    "DocStore",
    "Document",
    "Manifest",
    "Query",
    "RetrieverConfig",
    "RetrieverEntry",
    "SpladeConfig",
    "read_corpus",
    "read_queries",
]
