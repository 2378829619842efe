"""Dense retrieval: encode queries with the index's model, search the HNSW graph (or all vectors)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from braid.engine.query_cache import QueryCache
from braid.engine.retriever import OpenRequest, Ranking
from braid.engine.sparse_topk import doc_id_order, doc_positions, ordinals, top_k
from braid.fusion.errors import BraidError
from braid.indexing.config import DenseConfig
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.layout import EMBEDDINGS_FILE, HNSW_FILE


class DenseRetriever:
    """Inner product over unit vectors (cosine). `exact=True` scans every vector: the ground truth
    for HNSW recall, and fast enough for small corpora."""

    name = "dense"

    def __init__(
        self,
        folder: str | Path,
        config: DenseConfig,
        dimension: int,
        doc_ids: Callable[[], Sequence[str]],
        exact: bool = False,
        encoder: DenseEncoder | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.config = config
        self.dimension = dimension
        self.exact = exact
        self._doc_ids_source = doc_ids
        self._encoder = encoder or DenseEncoder(config)
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None
        self._graph: Any = None
        self._doc_ids: np.ndarray | None = None
        self._tie_rank = np.empty(0, dtype=np.int64)
        self._position: dict[str, int] | None = None
        self._queries = QueryCache()

    def _state(self) -> tuple[np.ndarray, Any, np.ndarray]:
        with self._lock:
            if self._doc_ids is None:
                self._vectors = np.load(self.folder / EMBEDDINGS_FILE, mmap_mode="r")
                ids = self._doc_ids_source()
                if self._vectors.shape != (len(ids), self.dimension):
                    raise BraidError(f"{self.folder}: {self._vectors.shape} vectors do not match {len(ids)} documents of dimension {self.dimension}")
                self._doc_ids = np.asarray(ids, dtype=object)
                self._tie_rank = doc_id_order(ids)
            if not self.exact and self._graph is None:
                import hnswlib

                graph = hnswlib.Index(space="ip", dim=self.dimension)
                graph.load_index(str(self.folder / HNSW_FILE), max_elements=len(self._doc_ids))
                self._graph = graph
            assert self._vectors is not None
            return self._vectors, self._graph, self._doc_ids

    def encode(self, queries: Sequence[str]) -> np.ndarray:
        rows = self._queries.encode(queries, lambda texts: list(self._encoder.encode_queries(texts)))
        vectors = np.stack(rows) if rows else np.empty((0, self.dimension), dtype=np.float32)
        if vectors.shape[1] != self.dimension:
            raise BraidError(
                f"model {self.config.model!r} gives {vectors.shape[1]}-d vectors but the index at {self.folder} holds {self.dimension}-d ones; "
                "search it with the model it was built with"
            )
        return vectors

    def search(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        if depth <= 0 or not queries:
            return [[] for _ in queries]
        vectors, graph, doc_ids = self._state()
        query_vectors = self.encode(queries)
        depth = min(depth, len(doc_ids))
        if self.exact:
            return [self._exact_one(vectors, doc_ids, query, depth) for query in query_vectors]
        graph.set_ef(max(self.config.ef_search, depth))
        labels, distances = graph.knn_query(query_vectors, k=depth, num_threads=1)
        # hnswlib's "ip" distance is 1 - inner product.
        return [
            list(zip(doc_ids[row_labels].tolist(), (1.0 - row_distances.astype(np.float64)).tolist())) for row_labels, row_distances in zip(labels, distances)
        ]

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """Cosine of the query with each given document's stored vector."""
        vectors, _, ids = self._state()
        with self._lock:
            if self._position is None:
                self._position = doc_positions(ids.tolist())
            position = self._position
        query_vectors = self.encode(queries)
        result = []
        for query, wanted in zip(query_vectors, doc_ids):
            rows = ordinals(wanted, position)
            values = np.asarray(vectors[rows], dtype=np.float32) @ query if len(rows) else np.empty(0)
            result.append(dict(zip(wanted, values.astype(np.float64).tolist())))
        return result

    def _exact_one(self, vectors: np.ndarray, doc_ids: np.ndarray, query: np.ndarray, depth: int) -> Ranking:
        scores = np.asarray(vectors @ query, dtype=np.float32)
        best = top_k(np.arange(len(scores)), scores, depth, self._tie_rank)
        return list(zip(doc_ids[best].tolist(), scores[best].astype(np.float64).tolist()))

    def forget_queries(self) -> None:
        """Drop cached query vectors (benchmarks time every query cold)."""
        self._queries.clear()

    def close(self) -> None:
        with self._lock:
            self._graph = None
            self._vectors = None
            self._doc_ids = None


def open_dense(request: OpenRequest) -> DenseRetriever:
    """Search-time options: `ef_search` (HNSW breadth), `exact` (scan every vector instead)."""
    params = dict(request.entry.params)
    dimension = int(params.pop("dimension"))
    config = DenseConfig.from_dict(params)
    if request.options.get("ef_search") is not None:
        config = replace(config, ef_search=int(request.options["ef_search"]))
    return DenseRetriever(request.folder, config, dimension, doc_ids=request.doc_ids, exact=bool(request.options.get("exact", False)))
