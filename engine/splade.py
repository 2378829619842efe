"""Learned-sparse retrieval: encode queries with the index's SPLADE model, quantize them as the
documents were, and score the impact index.

- `matrix` (default): one sparse product against the stored impact matrix (engine/sparse_topk.py).
- `lucene`: Anserini's SimpleImpactSearcher over the Lucene impact index, kept as the reference.
Both rank by the same integer dot products and break ties by doc id.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from braid.engine.encoders import shared_encoder
from braid.engine.lucene_bm25 import anserini_reported, reported_score
from braid.engine.query_cache import QueryCache
from braid.engine.retriever import OpenRequest, OrdinalRanking, Part, Ranking, Scorer, as_built, as_ordinals, compacted_only, filter_refused, unreported
from braid.engine.sparse_topk import doc_id_order, doc_positions, ordinals, rank_matrix, rank_matrix_scored, search_matrix, sums_at
from braid.fusion.errors import BraidError
from braid.indexing.config import DEFAULT_BACKEND, SpladeConfig, check_backend
from braid.indexing.impact_matrix import ImpactMatrix
from braid.indexing.impacts import clear_rows, drop_columns, is_stopword_token, quantize, stopword_columns
from braid.indexing.jvm import java_class
from braid.indexing.layout import LUCENE_FOLDER
from braid.indexing.sparse_encoder import SpladeEncoder


class SpladeRetriever:
    name = "splade"
    encodes_queries = True  # a model runs per query (braid.engine.execution)

    def __init__(
        self,
        folder: str | Path,
        config: SpladeConfig,
        doc_ids: Callable[[], Sequence[str]],
        backend: str = DEFAULT_BACKEND,
        encoder: SpladeEncoder | None = None,
        parts: Sequence[Part] = (),
    ) -> None:
        """`parts`: as for BM25Retriever (every segment's live documents, searched as one)."""
        check_backend("splade", backend)
        if backend == "lucene":
            compacted_only(parts, "the splade lucene backend")
            if not config.lucene_index:
                raise BraidError("this index was built without Lucene's impact index (--no-splade-lucene): search it with the matrix backend")
        self.folder = Path(folder)
        self._parts = tuple(parts)
        self.config = config
        self.backend = backend
        self._doc_ids_source = doc_ids
        self._encoder = encoder or shared_encoder(SpladeEncoder, config)
        self._lock = threading.Lock()
        self._matrix: ImpactMatrix | None = None
        self._doc_ids: Sequence[str] = ()
        self._id_array = np.empty(0, dtype=object)  # the same ids as an array, made once (search_matrix needs one)
        self._tie_rank = np.empty(0, dtype=np.int64)
        self._stopwords = np.empty(0, dtype=np.int64)
        self._searcher: Any = None
        self._position: dict[str, int] | None = None
        self._queries = QueryCache()

    def _state(self) -> ImpactMatrix:
        with self._lock:
            if self._matrix is None:
                if as_built(self._parts):
                    matrix = ImpactMatrix.load(self.folder)
                else:
                    matrix = ImpactMatrix.combine([(ImpactMatrix.load(part.folder), part.live) for part in self._parts])
                self._doc_ids = self._doc_ids_source()
                if matrix.impacts.shape[1] != len(self._doc_ids):
                    raise BraidError(f"{self.folder}: the impact matrix holds {matrix.impacts.shape[1]} documents, the index {len(self._doc_ids)}")
                self._tie_rank = doc_id_order(self._doc_ids)
                self._id_array = np.asarray(self._doc_ids, dtype=object)
                self._stopwords = stopword_columns(matrix.vocabulary)
                self._matrix = matrix
            return self._matrix

    def encode(self, queries: Sequence[str]) -> sp.csr_matrix:
        """Integer query impacts (float32 storage), one row per query, columns = the model's vocabulary."""
        matrix = self._state()
        rows = self._queries.encode(queries, self._impact_rows)
        if len(rows) == 1:
            return rows[0]
        return sp.vstack(rows, format="csr") if rows else sp.csr_matrix((0, len(matrix.vocabulary)), dtype=np.float32)

    def query_rows(self, queries: Sequence[str]) -> list[sp.csr_matrix]:
        """Each query's impact row, as the query cache keeps it: what a sharded search ships to shards."""
        self._state()
        return self._queries.encode(queries, self._impact_rows)

    def remember_queries(self, queries: Sequence[str], rows: Sequence[sp.csr_matrix]) -> None:
        """Take `query_rows` made elsewhere, so searching these queries encodes nothing here."""
        self._queries.put(queries, rows)

    def _impact_rows(self, texts: list[str]) -> list[sp.csr_matrix]:
        """What the query cache keeps: finished impact rows, so a cached query costs nothing more."""
        vocabulary = self._state().vocabulary
        weights, read = self._encoder.encode_queries_read(texts)
        if weights.shape[1] != len(vocabulary):
            raise BraidError(
                f"model {self.config.model!r} has {weights.shape[1]} tokens but the index at {self.folder} was built with "
                f"{len(vocabulary)}; search it with the model it was built with"
            )
        impacts = quantize(weights, self.config.scale)
        if self.config.query_stopwords:
            impacts = drop_columns(impacts, self._stopwords)
        # The model expands even an empty text (from [CLS] and [SEP] alone) into words such as
        # "means"; a query with no word to search for gets no hits instead.
        empty = [not any(self._counts(token) for token in tokens) for tokens in read]
        if any(empty):
            impacts = clear_rows(impacts, empty)
        return [impacts] if len(texts) == 1 else [impacts[row] for row in range(len(texts))]

    def _counts(self, token: str) -> bool:
        """Whether a query token carries meaning under this retriever's stopword setting."""
        return not (self.config.query_stopwords and is_stopword_token(token))

    def search(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[Ranking]:
        """`allowed`: a filter's mask over the live documents (the matrix backend only)."""
        if depth <= 0 or not queries:
            return [[] for _ in queries]
        if allowed is not None and self.backend == "lucene":
            raise BraidError(filter_refused("splade"))
        query_impacts = self.encode(queries)
        if self.backend == "lucene":
            return self._search_lucene(query_impacts, depth)
        return search_matrix(query_impacts, self._state().impacts, depth, self._id_array, self._tie_rank, _float32, anserini_reported, allowed)

    def search_ordinals(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        """`search` by document ordinal (the lucene backend's ids are mapped back)."""
        if self.backend == "lucene" and depth > 0 and queries:
            return as_ordinals(self.search(queries, depth, allowed), self._positions())
        return self._ranked(queries, depth, allowed, anserini_reported)

    def search_ranked(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        """`search_ordinals` with the float32 scores lists are ranked by, before Anserini's per-list
        tie adjustment (`report`): shards' lists merge on these."""
        if self.backend != "matrix":
            raise BraidError("a shard's SPLADE searches with the matrix backend")
        return self._ranked(queries, depth, allowed, unreported)

    report = staticmethod(anserini_reported)

    def _ranked(
        self, queries: Sequence[str], depth: int, allowed: np.ndarray | None, to_reported: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> list[OrdinalRanking]:
        """The matrix backend's lists, their ranked float32 scores mapped by `to_reported`."""
        if depth <= 0 or not queries:
            return as_ordinals([[] for _ in queries], {})
        return rank_matrix(self.encode(queries), self._state().impacts, depth, self._tie_rank, _float32, to_reported, allowed)

    def search_scored(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> tuple[list[OrdinalRanking], Scorer]:
        """`search_ordinals`, keeping every matched document's sum: the exact scores fusion asks
        for next are then gathered, not multiplied again."""
        if self.backend != "matrix" or depth <= 0 or not queries:
            return self.search_ordinals(queries, depth, allowed), functools.partial(self.score_ordinals, queries)
        return rank_matrix_scored(self.encode(queries), self._state().impacts, depth, self._tie_rank, _float32, anserini_reported, _exact, allowed)

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """The integer dot product of query and document impacts for each given document."""
        position = self._positions()
        values = self.score_ordinals(queries, [ordinals(wanted, position) for wanted in doc_ids])
        return [dict(zip(wanted, found.tolist())) for wanted, found in zip(doc_ids, values)]

    def score_ordinals(self, queries: Sequence[str], ordinals: Sequence[np.ndarray]) -> list[np.ndarray]:
        """`score` by ordinal: the sums search ranks, gathered for every query at once."""
        impacts = self._state().impacts
        return [_exact(sums) for sums in sums_at(self.encode(queries), impacts, ordinals)]

    def _positions(self) -> dict[str, int]:
        self._state()
        with self._lock:
            if self._position is None:
                self._position = doc_positions(self._doc_ids)
            return self._position

    def _search_lucene(self, query_impacts: sp.csr_matrix, depth: int) -> list[Ranking]:
        with self._lock:
            if self._searcher is None:
                self._searcher = java_class("io.anserini.search.SimpleImpactSearcher")(str(self.folder / LUCENE_FOLDER))
        vocabulary = self._state().vocabulary
        hash_map, integer = java_class("java.util.HashMap"), java_class("java.lang.Integer")
        results: list[Ranking] = []
        for row in range(query_impacts.shape[0]):
            begin, end = query_impacts.indptr[row], query_impacts.indptr[row + 1]
            if begin == end:
                results.append([])
                continue
            query = hash_map()
            for column, value in zip(query_impacts.indices[begin:end], query_impacts.data[begin:end]):
                query.put(vocabulary[column], integer(int(value)))
            results.append([(hit.docid, reported_score(hit.score)) for hit in self._searcher.search(query, depth)])
        return results

    def forget_queries(self) -> None:
        """Drop cached query vectors (benchmarks time every query cold)."""
        self._queries.clear()

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
            self._matrix = None


def _float32(sums: np.ndarray) -> np.ndarray:
    """Lucene sums clause scores in double and returns a float; integer sums are exact."""
    return sums.astype(np.float32)


def _exact(sums: np.ndarray) -> np.ndarray:
    """Exact scores as fusion takes them: the integer sums, widened."""
    return sums.astype(np.float64)


def open_splade(request: OpenRequest) -> SpladeRetriever:
    """Search-time options: `backend` ("matrix" or "lucene"), `query_stopwords` (override the built setting)."""
    config = SpladeConfig.from_dict(request.entry.params)
    if request.options.get("query_stopwords") is not None:
        config = replace(config, query_stopwords=bool(request.options["query_stopwords"]))
    return SpladeRetriever(request.folder, config, doc_ids=request.doc_ids, backend=request.options.get("backend", DEFAULT_BACKEND), parts=request.parts)
