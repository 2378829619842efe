"""Open an index directory and answer queries: the engine owns the retrievers and their threads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from braid.engine.bm25 import BM25Retriever
from braid.engine.config import BM25Config, DenseConfig, SpladeConfig
from braid.engine.dense import DenseRetriever
from braid.engine.errors import BraidError
from braid.engine.hits import Hit
from braid.engine.retriever import Ranking, Retriever
from braid.engine.splade import SpladeRetriever
from braid.indexing.docstore import DOCSTORE_NAME, DocStore
from braid.indexing.manifest import Manifest, RetrieverEntry

# Candidate depth per retriever: evaluation needs deep lists, interactive search does not.
EVAL_DEPTH = 1000


class Engine:
    """A searchable index. Opening reads only the manifest; Java starts at the first query."""

    def __init__(self, path: Path, manifest: Manifest, retrievers: dict[str, Retriever], docstore: DocStore) -> None:
        self.path = path
        self.manifest = manifest
        self.retrievers = retrievers
        self.docstore = docstore

    @classmethod
    def open(
        cls,
        path: str | Path,
        retrievers: Sequence[str] | None = None,
        bm25: BM25Config | None = None,
        bm25_backend: str = "matrix",
        ef_search: int | None = None,
        dense_exact: bool = False,
        splade_backend: str = "matrix",
        splade_query_stopwords: bool | None = None,
    ) -> Engine:
        """Open the index at `path`, using `retrievers` (default: all it has).

        `bm25` overrides the k1/b the index was built with, for this engine only; `bm25_backend`
        picks numpy scoring ("matrix") or Anserini's searchers ("lucene"): same rankings.
        `ef_search` overrides the HNSW search breadth; `dense_exact` scans all vectors instead.
        `splade_backend` is "matrix" (numpy over the impact matrix) or "lucene" (Anserini's impact
        searcher): same rankings. `splade_query_stopwords` overrides the built query stopword setting.
        """
        path = Path(path)
        manifest = Manifest.read(path)
        available = list(manifest.retrievers)
        chosen = list(retrievers) if retrievers else available
        for name in chosen:
            if name not in manifest.retrievers:
                raise BraidError(f"retriever {name!r} is not in the index at {path}; it has: {', '.join(available)}")
        if len(chosen) > 1:
            raise BraidError(
                f"searching {', '.join(chosen)} together needs fusion, which this version does not have yet; pick one with --retrievers"
            )
        docstore = DocStore(path / DOCSTORE_NAME)
        options = _RetrieverOptions(bm25, bm25_backend, ef_search, dense_exact, splade_backend, splade_query_stopwords)
        opened = {name: _open_retriever(path, manifest.retrievers[name], docstore, options) for name in chosen}
        return cls(path, manifest, opened, docstore)

    def run(self, queries: Mapping[str, str], depth: int = EVAL_DEPTH) -> dict[str, Ranking]:
        """Ranked (doc id, score) lists by query id: the raw material for evaluation and run files."""
        query_ids = list(queries)
        (retriever,) = self.retrievers.values()
        rankings = retriever.search([queries[query_id] for query_id in query_ids], depth)
        return dict(zip(query_ids, rankings))

    def batch_search(self, queries: Mapping[str, str] | Sequence[str], k: int = 10) -> dict[str, list[Hit]]:
        """Hits with titles for many queries; a plain list of texts gets ids "0", "1", ..."""
        if k <= 0:
            raise BraidError(f"k must be a positive number of hits, got {k}")
        named = dict(queries) if isinstance(queries, Mapping) else {str(i): text for i, text in enumerate(queries)}
        rankings = self.run(named, depth=k)
        titles = self.docstore.titles(doc for ranking in rankings.values() for doc, _ in ranking)
        return {
            query_id: [Hit(doc, score, rank, titles.get(doc, "")) for rank, (doc, score) in enumerate(ranking, start=1)]
            for query_id, ranking in rankings.items()
        }

    def search(self, query: str, k: int = 10) -> list[Hit]:
        return self.batch_search({"q": query}, k)["q"]

    def close(self) -> None:
        for retriever in self.retrievers.values():
            retriever.close()
        self.docstore.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class _RetrieverOptions:
    """Search-time overrides of what the manifest says."""

    bm25: BM25Config | None
    bm25_backend: str
    ef_search: int | None
    dense_exact: bool
    splade_backend: str
    splade_query_stopwords: bool | None


def _open_retriever(path: Path, entry: RetrieverEntry, docstore: DocStore, options: _RetrieverOptions) -> Retriever:
    if entry.kind == "bm25":
        config = options.bm25 if options.bm25 is not None else BM25Config.from_dict(entry.params)
        return BM25Retriever(path / entry.path, config, doc_ids=docstore.ids, backend=options.bm25_backend)
    if entry.kind == "dense":
        params = dict(entry.params)
        dimension = int(params.pop("dimension"))
        dense = DenseConfig.from_dict(params)
        if options.ef_search is not None:
            dense = replace(dense, ef_search=options.ef_search)
        return DenseRetriever(path / entry.path, dense, dimension, doc_ids=docstore.ids, exact=options.dense_exact)
    if entry.kind == "splade":
        splade = SpladeConfig.from_dict(entry.params)
        if options.splade_query_stopwords is not None:
            splade = replace(splade, query_stopwords=options.splade_query_stopwords)
        return SpladeRetriever(path / entry.path, splade, doc_ids=docstore.ids, backend=options.splade_backend)
    raise BraidError(f"this braid cannot open retrievers of kind {entry.kind!r}; upgrade braid")
