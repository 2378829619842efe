"""BM25 over the bm25/ sub-index, with two backends that return the same rankings.

- `matrix` (default): queries are analyzed by Lucene's analyzer, then scored in bulk with numpy
  against the stored term x document matrix using Lucene's own BM25 arithmetic. No hit crosses the
  Python/Java bridge, which costs ~35 µs per hit and made depth-1000 searches slow.
- `lucene`: Anserini's searchers, kept as the reference. A few queries go one by one through
  SimpleSearcher; a larger batch goes through SearchCollection, which writes a run file.
"""

from __future__ import annotations

import functools
import re
import tempfile
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from braid.engine.lucene_bm25 import anserini_reported, as_lucene_scores, encode_lengths, reported_score, term_weights
from braid.engine.retriever import OpenRequest, OrdinalRanking, Part, Ranking, Scorer, as_built, as_ordinals, compacted_only, filter_refused, unreported
from braid.engine.sparse_topk import doc_id_order, doc_positions, ordinals, rank_matrix, rank_matrix_scored, search_matrix, sums_at
from braid.fusion.errors import BraidError
from braid.indexing.analysis import LuceneAnalyzer
from braid.indexing.config import DEFAULT_BACKEND, BM25Config, check_backend
from braid.indexing.jvm import java_class
from braid.indexing.layout import LUCENE_FOLDER
from braid.indexing.term_docs import TermDocs
from braid.indexing.term_statistics import TermStatistics

# Below this many queries the lucene backend searches one by one (faster than a SearchCollection run).
BATCH_PATH_MIN_QUERIES = 32
# Queries per SearchCollection call: bounds the Java heap a single call can fill.
BATCH_CHUNK = 2000

_WHITESPACE = re.compile(r"\s+")


class BM25Retriever:
    name = "bm25"

    def __init__(
        self,
        folder: str | Path,
        config: BM25Config = BM25Config(),
        doc_ids: Callable[[], Sequence[str]] | None = None,
        backend: str = DEFAULT_BACKEND,
        threads: int = 2,
        parts: Sequence[Part] = (),
    ) -> None:
        """`folder` is the bm25/ sub-index; `doc_ids` lists doc ids by ordinal (the docstore's order).
        With `parts` (an index written to since its build), the live documents of every segment are
        searched as one corpus, with statistics over exactly those documents."""
        check_backend("bm25", backend)
        if backend == "lucene":
            compacted_only(parts, "the bm25 lucene backend")
        self.folder = Path(folder)
        self._parts = tuple(parts)
        self.config = config
        self.backend = backend
        self.threads = threads
        self._doc_ids_source = doc_ids
        self._lock = threading.Lock()
        self._searcher: Any = None
        self._term_docs: TermDocs | None = None
        self._unit_weights: sp.csr_matrix | None = None  # boost 1, for every document; other boosts per batch
        self._doc_ids: Sequence[str] = ()
        self._id_array = np.empty(0, dtype=object)  # the same ids as an array, made once (search_matrix needs one)
        self._length_codes = np.empty(0, dtype=np.uint8)  # Lucene's norm byte per document, made once
        self._position: dict[str, int] | None = None
        self._tie_rank = np.empty(0, dtype=np.int64)
        self._corpus: TermStatistics | None = None  # a shard's: the whole corpus's statistics (use_corpus_statistics)
        self._corpus_frequency: np.ndarray | None = None  # their document frequencies in this matrix's row order
        if backend == "matrix":
            if doc_ids is None:
                raise BraidError("the bm25 matrix backend needs the index's doc ids (pass doc_ids=DocStore(...).ids)")
            if not TermDocs.exists(self.folder):
                raise BraidError(f"{self.folder} has no term matrix (built by an older braid?); use backend 'lucene' or rebuild")

    @property
    def lucene_path(self) -> Path:
        return self.folder / LUCENE_FOLDER

    def search(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[Ranking]:
        """`allowed`: a filter's mask over the live documents (the matrix backend only)."""
        if depth <= 0 or not queries:
            return [[] for _ in queries]
        if self.backend == "matrix":
            return self._search_matrix(queries, depth, allowed)
        if allowed is not None:
            raise BraidError(filter_refused("bm25"))
        if len(queries) < BATCH_PATH_MIN_QUERIES:
            return [self._search_one(query, depth) for query in queries]
        results: list[Ranking] = []
        for start in range(0, len(queries), BATCH_CHUNK):
            results.extend(self._search_collection(queries[start : start + BATCH_CHUNK], depth))
        return results

    def search_ordinals(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        """`search` by document ordinal (the lucene backend's ids are mapped back)."""
        if self.backend != "matrix" and depth > 0 and queries:
            return as_ordinals(self.search(queries, depth, allowed), self._positions())
        return self._ranked(queries, depth, allowed, anserini_reported)

    def use_corpus_statistics(self, statistics: TermStatistics) -> None:
        """Score with the statistics of a larger corpus this index is a shard of (matrix backend):
        each document then scores exactly as in one index of that corpus."""
        if self.backend != "matrix":
            raise BraidError("a shard's BM25 searches with the matrix backend (the lucene backend keeps its own statistics)")
        with self._lock:
            self._corpus, self._corpus_frequency, self._unit_weights = statistics, None, None

    def search_ranked(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        """`search_ordinals` with the float32 scores lists are ranked by, before Anserini's per-list
        tie adjustment (`report`): shards' lists merge on these."""
        if self.backend != "matrix":
            raise BraidError("a shard's BM25 searches with the matrix backend")
        return self._ranked(queries, depth, allowed, unreported)

    report = staticmethod(anserini_reported)

    def _ranked(
        self, queries: Sequence[str], depth: int, allowed: np.ndarray | None, to_reported: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> list[OrdinalRanking]:
        """The matrix backend's lists, their ranked float32 scores mapped by `to_reported`."""
        if depth <= 0 or not queries:
            return as_ordinals([[] for _ in queries], {})
        query_matrix, weights = self._batch_weights(*self._query_matrix(queries))
        return rank_matrix(query_matrix, weights, depth, self._tie_rank, as_lucene_scores, to_reported, allowed)

    # -- matrix backend ------------------------------------------------------------------------

    def _weights(self) -> sp.csr_matrix:
        """Term x doc BM25 scores for query terms of boost 1 (Lucene weights a repeated term as
        boost * idf before the float32 arithmetic, so other boosts get their own rows: _batch_weights)."""
        with self._lock:
            if self._term_docs is None:
                assert self._doc_ids_source is not None
                self._term_docs = self._load_term_docs()
                self._doc_ids = self._doc_ids_source()
                self._id_array = np.asarray(self._doc_ids, dtype=object)
                self._tie_rank = doc_id_order(self._doc_ids)
                self._length_codes = encode_lengths(self._term_docs.doc_lengths)
            if self._unit_weights is None:
                docs = self._term_docs
                doc_count, total_terms, frequency = self._statistics()
                self._unit_weights = term_weights(
                    docs.frequencies, docs.doc_lengths, doc_count, total_terms, self.config.k1, self.config.b, 1.0, self._length_codes, frequency
                )
            return self._unit_weights

    def _statistics(self) -> tuple[int, int, np.ndarray | None]:
        """Document count, total terms and (a shard's) document frequencies BM25 weighs with (lock held)."""
        assert self._term_docs is not None
        if self._corpus is None:
            return self._term_docs.doc_count, self._term_docs.total_terms, None
        if self._corpus_frequency is None:
            self._corpus_frequency = self._corpus.aligned(self._term_docs.vocabulary, str(self.folder))
        return self._corpus.doc_count, self._corpus.total_terms, self._corpus_frequency

    def _load_term_docs(self) -> TermDocs:
        if as_built(self._parts):
            return TermDocs.load(self.folder)
        return TermDocs.combine([(TermDocs.load(part.folder), part.live) for part in self._parts])

    def _batch_weights(self, query_matrix: sp.csr_matrix, boosts: tuple[float, ...]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """The query matrix and the weights it multiplies. With terms of several boosts, only the
        rows the batch uses are stacked (boost 1 from the cached matrix, others computed for those
        rows alone): the same products in the same order as a full stack, without a copy of the
        whole matrix per boost (a million documents made each a gigabyte)."""
        if boosts == (1.0,):
            return query_matrix, self._weights()
        num_terms = self._weights().shape[0]
        assert self._term_docs is not None
        docs = self._term_docs
        used = np.unique(query_matrix.indices)  # slot-major, terms ascending within a slot
        slots, terms = np.divmod(used, num_terms)
        with self._lock:
            doc_count, total_terms, frequency = self._statistics()
        blocks = []
        for slot, boost in enumerate(boosts):
            rows = terms[slots == slot]
            if boost == 1.0:
                blocks.append(self._weights()[rows])
            else:
                blocks.append(
                    term_weights(
                        docs.frequencies[rows],
                        docs.doc_lengths,
                        doc_count,
                        total_terms,
                        self.config.k1,
                        self.config.b,
                        boost,
                        self._length_codes,
                        None if frequency is None else frequency[rows],
                    )
                )
        remap = np.zeros(num_terms * len(boosts), dtype=np.int64)
        remap[used] = np.arange(len(used))
        narrowed = sp.csr_matrix((query_matrix.data, remap[query_matrix.indices], query_matrix.indptr), shape=(query_matrix.shape[0], len(used)))
        return narrowed, sp.vstack(blocks, format="csr")

    def _query_matrix(self, queries: Sequence[str]) -> tuple[sp.csr_matrix, tuple[float, ...]]:
        """Anserini's bag-of-words query: each distinct term once, boosted by its count in the query;
        column slot * terms + term, one slot per distinct boost."""
        num_terms = self._weights().shape[0]
        assert self._term_docs is not None
        vocabulary = self._term_docs.vocabulary
        analyzer = LuceneAnalyzer.shared()
        per_query: list[list[tuple[int, int]]] = []
        for query in queries:
            terms = ((vocabulary.get(term), count) for term, count in Counter(analyzer.tokens(query)).items())
            per_query.append([(column, count) for column, count in terms if column is not None])
        boosts = tuple(sorted({float(count) for found in per_query for _, count in found})) or (1.0,)
        slot = {boost: index for index, boost in enumerate(boosts)}
        # Built as CSR directly, each row's columns ascending (as scipy's conversion from
        # coordinates leaves them, so products sum in the same order): a third of BM25's glue for one query.
        indices = [sorted(slot[float(count)] * num_terms + column for column, count in found) for found in per_query]
        index_type = np.int32 if num_terms * len(boosts) < 2**31 else np.int64  # int32 where it fits, as the weights' own
        indptr = np.zeros(len(queries) + 1, dtype=index_type)
        np.cumsum([len(row) for row in indices], out=indptr[1:])
        flat = np.fromiter((column for row in indices for column in row), dtype=index_type, count=int(indptr[-1]))
        query_matrix = sp.csr_matrix((np.ones(len(flat)), flat, indptr), shape=(len(queries), num_terms * len(boosts)))
        return query_matrix, boosts

    def _search_matrix(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None) -> list[Ranking]:
        query_matrix, weights = self._batch_weights(*self._query_matrix(queries))
        return search_matrix(query_matrix, weights, depth, self._id_array, self._tie_rank, as_lucene_scores, anserini_reported, allowed)

    def search_scored(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> tuple[list[OrdinalRanking], Scorer]:
        """`search_ordinals`, keeping every matched document's sum: the exact scores fusion asks
        for next are then gathered, not multiplied again."""
        if self.backend != "matrix" or depth <= 0 or not queries:
            return self.search_ordinals(queries, depth, allowed), functools.partial(self.score_ordinals, queries)
        query_matrix, weights = self._batch_weights(*self._query_matrix(queries))
        return rank_matrix_scored(query_matrix, weights, depth, self._tie_rank, as_lucene_scores, anserini_reported, _exact, allowed)

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """Lucene's BM25 score of each given document (0 when no query term occurs in it)."""
        position = self._positions()
        values = self.score_ordinals(queries, [ordinals(wanted, position) for wanted in doc_ids])
        return [dict(zip(wanted, found.tolist())) for wanted, found in zip(doc_ids, values)]

    def score_ordinals(self, queries: Sequence[str], ordinals: Sequence[np.ndarray]) -> list[np.ndarray]:
        """`score` by ordinal: the sums search ranks, gathered for every query at once."""
        if self._doc_ids_source is None or not TermDocs.exists(self.folder):
            raise BraidError("exact BM25 scores need the index's term matrix and doc ids")
        query_matrix, weights = self._batch_weights(*self._query_matrix(queries))
        return [_exact(sums) for sums in sums_at(query_matrix, weights, ordinals)]

    def _positions(self) -> dict[str, int]:
        with self._lock:
            if self._position is None:
                assert self._doc_ids_source is not None
                self._position = doc_positions(self._doc_ids or self._doc_ids_source())
            return self._position

    # -- lucene backend ------------------------------------------------------------------------

    def _simple_searcher(self) -> Any:
        with self._lock:
            if self._searcher is None:
                searcher = java_class("io.anserini.search.SimpleSearcher")(str(self.lucene_path))
                searcher.set_bm25(float(self.config.k1), float(self.config.b))
                self._searcher = searcher
            return self._searcher

    def _search_one(self, query: str, depth: int) -> Ranking:
        text = _WHITESPACE.sub(" ", query).strip()
        if not text:
            return []
        return [(hit.docid, reported_score(hit.score)) for hit in self._simple_searcher().search(text, depth)]

    def _search_collection(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        """Run Anserini's SearchCollection over a temporary topics file.

        Topics get synthetic ids 0..n-1 so that any query id or text survives the TSV round trip.
        """
        with tempfile.TemporaryDirectory(prefix="braid-bm25-") as scratch:
            topics = Path(scratch) / "topics.tsv"
            output = Path(scratch) / "run.txt"
            with topics.open("w", encoding="utf-8") as handle:
                for position, query in enumerate(queries):
                    text = _WHITESPACE.sub(" ", query).strip()
                    if text:
                        handle.write(f"{position}\t{text}\n")
            args = java_class("io.anserini.search.SearchCollection$Args")()
            java_class("org.kohsuke.args4j.CmdLineParser")(args).parseArgument(
                "-index", str(self.lucene_path),
                "-topics", str(topics),
                "-topicReader", "TsvString",
                "-output", str(output),
                "-bm25", "-bm25.k1", repr(float(self.config.k1)), "-bm25.b", repr(float(self.config.b)),
                "-hits", str(depth),
                "-threads", str(self.threads),
            )  # fmt: skip
            collection = java_class("io.anserini.search.SearchCollection")(args)
            try:
                collection.run()
            finally:
                collection.close()
            results: list[Ranking] = [[] for _ in queries]
            if output.exists():
                with output.open("r", encoding="utf-8") as handle:
                    for line in handle:
                        query_position, _, doc_id, _, score, _ = line.split()
                        results[int(query_position)].append((doc_id, float(score)))
            return results

    def forget_queries(self) -> None:
        """Nothing to forget: BM25 analyzes every query afresh."""

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self._term_docs = None
            self._unit_weights = None


def _exact(sums: np.ndarray) -> np.ndarray:
    """Exact scores as fusion takes them: Lucene's float score, widened."""
    return as_lucene_scores(sums).astype(np.float64)


def open_bm25(request: OpenRequest) -> BM25Retriever:
    """Search-time options: `k1` and `b` (override the built values), `backend` ("matrix" or "lucene")."""
    config = BM25Config.from_dict(request.entry.params).replace(k1=request.options.get("k1"), b=request.options.get("b"))
    return BM25Retriever(request.folder, config, doc_ids=request.doc_ids, backend=request.options.get("backend", DEFAULT_BACKEND), parts=request.parts)
