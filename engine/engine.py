"""Open an index directory and answer queries: the engine owns the retrievers and their threads."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from braid.engine.hits import Hit
from braid.engine.registry import open_retriever, retriever_kind
from braid.engine.retriever import Ranking, Retriever
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.fusion.types import EVAL_DEPTH, SEARCH_DEPTH, Contribution, FusedHit
from braid.indexing.docstore import DocStore
from braid.indexing.integrity import check_sizes
from braid.indexing.layout import DOCSTORE_NAME
from braid.indexing.manifest import Manifest
from braid.indexing.tuned_fusion import stored_or_default

# Up to this many queries per call, each retriever thread runs torch on one core.
FEW_QUERIES = 4


class Engine:
    """A searchable index. Opening reads only the manifest; Java and models start at the first query.

    With several retrievers a query goes to all of them at once (one thread each: the encoders,
    hnswlib, scipy and Lucene do most of their work outside Python's lock) and their lists are fused.
    """

    def __init__(self, path: Path, manifest: Manifest, retrievers: dict[str, Retriever], docstore: DocStore, fusion: FusionConfig | None = None) -> None:
        self.path = path
        self.manifest = manifest
        self.retrievers = retrievers
        self.docstore = docstore
        self.fusion = fusion or FusionConfig()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._parent: Engine | None = None  # a view borrows its parent's retrievers and threads

    @classmethod
    def open(
        cls,
        path: str | Path,
        retrievers: Sequence[str] | None = None,
        fusion: FusionConfig | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Engine:
        """Open the index at `path`, using `retrievers` (default: all it has).

        `fusion` defaults to what `braid tune` stored in the index, else `FusionConfig()`.
        `options` overrides, per retriever, what the index was built with, for this engine only:
        e.g. {"bm25": {"k1": 1.2, "backend": "lucene"}, "dense": {"ef_search": 50, "exact": True},
        "splade": {"backend": "lucene", "query_stopwords": False}} (each kind lists its own).
        """
        path = Path(path)
        manifest = Manifest.read(path)
        check_sizes(path, manifest)
        available = list(manifest.retrievers)
        chosen = list(dict.fromkeys(retrievers)) if retrievers else available
        for name in chosen:
            retriever_kind(name)
            if name not in manifest.retrievers:
                raise BraidError(f"retriever {name!r} is not in the index at {path}; it has: {', '.join(available)}")
        for name in options or {}:
            if name not in chosen:
                raise BraidError(f"search options for {name!r}, which is not searched here ({', '.join(chosen)})")
        fusion = fusion or stored_or_default(path, chosen)
        fusion.check_retrievers(chosen)
        docstore = DocStore(path / DOCSTORE_NAME)
        opened = {name: open_retriever(path, manifest.retrievers[name], docstore.ids, (options or {}).get(name)) for name in chosen}
        return cls(path, manifest, opened, docstore, fusion)

    def view(self, retrievers: Sequence[str] | None = None, fusion: FusionConfig | None = None) -> Engine:
        """The same open retrievers (models stay loaded once), a subset of them and/or other fusion
        settings: how a benchmark compares methods. Closing a view leaves this engine open."""
        chosen = list(dict.fromkeys(retrievers)) if retrievers else list(self.retrievers)
        for name in chosen:
            if name not in self.retrievers:
                raise BraidError(f"retriever {name!r} is not open in this engine; it has: {', '.join(self.retrievers)}")
        fusion = fusion or self.fusion
        fusion.check_retrievers(chosen)
        view = Engine(self.path, self.manifest, {name: self.retrievers[name] for name in chosen}, self.docstore, fusion)
        view._parent = self._parent or self
        return view

    def retrieve(self, queries: Sequence[str], depth: int, timings: dict[str, float] | None = None) -> dict[str, list[Ranking]]:
        """Each retriever's lists for the queries, all retrievers at once (the input of fusion).
        With `timings`, each retriever's wall time in milliseconds is stored there by name. A blank
        query gets empty lists: no retriever sees it (a dense model would return arbitrary documents)."""
        asked = [position for position, query in enumerate(queries) if query.strip()]
        if len(asked) < len(queries):
            found = self.retrieve([queries[position] for position in asked], depth, timings) if asked else {name: [] for name in self.retrievers}
            lists: dict[str, list[Ranking]] = {name: [[] for _ in queries] for name in self.retrievers}
            for name, rankings in found.items():
                for position, ranking in zip(asked, rankings):
                    lists[name][position] = ranking
            return lists
        if len(self.retrievers) == 1:
            ((name, retriever),) = self.retrievers.items()
            return {name: _timed(timings, name, retriever.search, queries, depth)}
        pool = self._threads()
        # A few queries are small matrices: one core per retriever beats several retrievers each
        # spreading its work over every core (measured: 2 encoders x 2 threads on 2 cores contend).
        threads = 1 if len(queries) <= FEW_QUERIES else None
        futures = {
            name: pool.submit(_timed, timings, name, _with_torch_threads, threads, retriever.search, queries, depth)
            for name, retriever in self.retrievers.items()
        }
        return {name: future.result() for name, future in futures.items()}

    def fuse(self, queries: Sequence[str], per_retriever: Mapping[str, list[Ranking]], k: int, explain: bool = True) -> list[list[FusedHit]]:
        """Fused, explained hits per query, from `retrieve`'s lists (kept apart so tuning can reuse them)."""
        if len(per_retriever) == 1:
            ((name, rankings),) = per_retriever.items()
            return [
                [FusedHit(doc, score, {name: Contribution(rank, score, score)}) for rank, (doc, score) in enumerate(ranking[:k], start=1)]
                for ranking in rankings
            ]
        exact = self.exact_scores(queries, per_retriever) if self._needs_exact() else None
        fused = []
        for position in range(len(queries)):
            lists = {name: rankings[position] for name, rankings in per_retriever.items()}
            exact_here = {name: scores[position] for name, scores in exact.items()} if exact else None
            fused.append(self.fusion.fuse(lists, k, exact_here, explain))
        return fused

    def search_fused(self, queries: Sequence[str], k: int, depth: int, explain: bool = True, timings: dict[str, float] | None = None) -> list[list[FusedHit]]:
        lists = self.retrieve(queries, max(depth, k), timings)
        started = time.perf_counter()
        fused = self.fuse(queries, lists, k, explain)
        if timings is not None:
            timings["fusion"] = 1000 * (time.perf_counter() - started)
        return fused

    def run(self, queries: Mapping[str, str], depth: int = EVAL_DEPTH) -> dict[str, Ranking]:
        """Ranked (doc id, score) lists by query id: the raw material for evaluation and run files."""
        query_ids = list(queries)
        texts = [queries[query_id] for query_id in query_ids]
        if len(self.retrievers) == 1:
            (rankings,) = self.retrieve(texts, depth).values()
        else:
            rankings = [[(hit.doc_id, hit.score) for hit in hits] for hits in self.search_fused(texts, depth, depth, explain=False)]
        return dict(zip(query_ids, rankings))

    def batch_search(
        self, queries: Mapping[str, str] | Sequence[str], k: int = 10, depth: int = SEARCH_DEPTH, timings: dict[str, float] | None = None
    ) -> dict[str, list[Hit]]:
        """Hits with titles and per-retriever explanations for many queries; a plain list of texts
        gets ids "0", "1", ... `depth` is each retriever's candidate depth before fusion; `timings`
        receives milliseconds per retriever and for "fusion"."""
        if k <= 0:
            raise BraidError(f"k must be a positive number of hits, got {k}")
        named = dict(queries) if isinstance(queries, Mapping) else {str(i): text for i, text in enumerate(queries)}
        for query_id, text in named.items():
            if not text.strip():
                raise BraidError(
                    f"query {query_id!r} is empty: give at least one word to search for"
                    if len(named) > 1
                    else "the query is empty: give at least one word to search for"
                )
        texts = list(named.values())
        fused = self.search_fused(texts, k, depth, timings=timings)
        titles = self.docstore.titles(hit.doc_id for hits in fused for hit in hits)
        return {
            query_id: [Hit(hit.doc_id, hit.score, rank, titles.get(hit.doc_id, ""), hit.sources) for rank, hit in enumerate(hits, start=1)]
            for query_id, hits in zip(named, fused)
        }

    def search(self, query: str, k: int = 10, depth: int = SEARCH_DEPTH, timings: dict[str, float] | None = None) -> list[Hit]:
        return self.batch_search({"q": query}, k, depth, timings)["q"]

    def forget_queries(self) -> None:
        """Drop every retriever's cached query vectors, so the next search encodes from scratch."""
        for retriever in self.retrievers.values():
            retriever.forget_queries()

    def _needs_exact(self) -> bool:
        return self.fusion.method == "cc" and self.fusion.missing == "exact" and len(self.retrievers) > 1

    def exact_scores(self, queries: Sequence[str], per_retriever: Mapping[str, list[Ranking]]) -> dict[str, list[dict[str, float]]]:
        """For each retriever, its real score for every fused candidate it did not return."""
        union = [dict.fromkeys(doc for rankings in per_retriever.values() for doc, _ in rankings[i]) for i in range(len(queries))]
        wanted: dict[str, list[list[str]]] = {}
        for name, rankings in per_retriever.items():
            returned = [{doc for doc, _ in ranking} for ranking in rankings]
            wanted[name] = [[doc for doc in union[i] if doc not in returned[i]] for i in range(len(queries))]
        if len(queries) <= FEW_QUERIES:  # well under a millisecond each: handing them to threads costs more
            return {name: self.retrievers[name].score(queries, wanted[name]) for name in per_retriever}
        pool = self._threads()
        futures = {name: pool.submit(self.retrievers[name].score, queries, wanted[name]) for name in per_retriever}
        return {name: future.result() for name, future in futures.items()}

    def _threads(self) -> ThreadPoolExecutor:
        if self._parent is not None:
            return self._parent._threads()
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=len(self.retrievers), thread_name_prefix="braid-retriever")
            return self._pool

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
        if self._parent is None:
            for retriever in self.retrievers.values():
                retriever.close()
            self.docstore.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _timed(timings: dict[str, float] | None, name: str, function: Callable[..., Any], *args: Any) -> Any:
    if timings is None:
        return function(*args)
    started = time.perf_counter()
    try:
        return function(*args)
    finally:
        timings[name] = 1000 * (time.perf_counter() - started)


_TORCH_DEFAULT_THREADS: dict[str, int] = {}
_TORCH_DEFAULT_LOCK = threading.Lock()


def _with_torch_threads(threads: int | None, function: Callable[..., Any], *args: Any) -> Any:
    """Run `function` with torch's intra-op threads for this thread set to `threads` (None: as is)."""
    torch = sys.modules.get("torch")
    if threads is None or torch is None:
        return function(*args)
    # Restore the process default, not "what was set before": two retriever threads switching at
    # once would otherwise leave the process at one thread.
    with _TORCH_DEFAULT_LOCK:
        default = _TORCH_DEFAULT_THREADS.setdefault("threads", torch.get_num_threads())
    torch.set_num_threads(threads)
    try:
        return function(*args)
    finally:
        torch.set_num_threads(default)
