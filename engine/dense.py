"""Dense retrieval: encode queries with the index's model, search the HNSW graph (or all vectors)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from braid.engine.encoders import shared_encoder
from braid.engine.id_rankings import id_rankings
from braid.engine.query_cache import QueryCache
from braid.engine.retriever import OpenRequest, OrdinalRanking, Part, Ranking, as_built, unreported
from braid.engine.sparse_topk import doc_id_order, doc_positions, ordinals, top_k
from braid.fusion.errors import BraidError
from braid.indexing.arrays import load_array
from braid.indexing.config import DEFAULT_DENSE_QUERY_ENCODER, DENSE_QUERY_ENCODERS, DenseConfig
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.int8_query_encoder import Int8QueryEncoder
from braid.indexing.layout import EMBEDDINGS_FILE, HNSW_FILE


class QueryEncoder(Protocol):
    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...


class DenseRetriever:
    """Inner product over unit vectors (cosine). `exact=True` scans every vector: the ground truth
    for HNSW recall, and fast enough for small corpora."""

    name = "dense"
    encodes_queries = True  # a model runs per query (braid.engine.execution)

    def __init__(
        self,
        folder: str | Path,
        config: DenseConfig,
        dimension: int,
        doc_ids: Callable[[], Sequence[str]],
        exact: bool = False,
        encoder: QueryEncoder | None = None,
        parts: Sequence[Part] = (),
        filter_search: str = "auto",
        query_encoder: str = DEFAULT_DENSE_QUERY_ENCODER,
    ) -> None:
        """`parts`: every segment's live documents, searched as one (see BM25Retriever); each segment
        keeps its own HNSW graph, with deleted vectors marked so that search never returns them.
        `query_encoder`: "model" (the index's) or "int8" (braid.indexing.int8_query_encoder)."""
        self.folder = Path(folder)
        self._parts = tuple(parts)
        self.config = config
        self.dimension = dimension
        self.exact = exact
        self.filter_search = filter_search
        if query_encoder not in DENSE_QUERY_ENCODERS:
            raise BraidError(f"dense query_encoder must be one of {', '.join(DENSE_QUERY_ENCODERS)}, got {query_encoder!r}")
        self.query_encoder = query_encoder
        self._doc_ids_source = doc_ids
        self._encoder: QueryEncoder = encoder or (shared_encoder(Int8QueryEncoder, config) if query_encoder == "int8" else shared_encoder(DenseEncoder, config))
        self._lock = threading.Lock()
        self._vectors: np.ndarray | None = None
        self._graphs: list[tuple[Any, np.ndarray, int]] | None = None  # per segment: graph, label -> position, live count
        self._doc_ids: np.ndarray | None = None
        self._tie_rank = np.empty(0, dtype=np.int64)
        self._position: dict[str, int] | None = None
        self._queries = QueryCache()

    def _state(self) -> tuple[np.ndarray, list[tuple[Any, np.ndarray, int]], np.ndarray]:
        with self._lock:
            if self._doc_ids is None:
                ids = self._doc_ids_source()
                self._vectors = self._load_vectors()
                if self._vectors.shape != (len(ids), self.dimension):
                    raise BraidError(f"{self.folder}: {self._vectors.shape} vectors do not match {len(ids)} documents of dimension {self.dimension}")
                self._doc_ids = np.asarray(ids, dtype=object)
                self._tie_rank = doc_id_order(ids)
            if not self.exact and self._graphs is None:
                self._graphs = self._load_graphs()
            assert self._vectors is not None
            return self._vectors, self._graphs or [], self._doc_ids

    def _load_vectors(self) -> np.ndarray:
        if as_built(self._parts):
            # A plain array over the mapped pages: np.memmap's Python-level indexing and wrapping
            # cost a query's exact scores ~10 us when caches are cold, as after its encoders ran.
            return np.asarray(load_array(self.folder / EMBEDDINGS_FILE, mmap=True))
        blocks = [load_array(part.folder / EMBEDDINGS_FILE, mmap=True) for part in self._parts]
        return np.concatenate([block if part.live is None else block[part.live] for block, part in zip(blocks, self._parts)])

    def _load_graphs(self) -> list[tuple[Any, np.ndarray, int]]:
        import hnswlib

        assert self._doc_ids is not None
        graphs = []
        offset = 0
        for part in self._parts or (Part(self.folder, len(self._doc_ids)),):
            graph = hnswlib.Index(space="ip", dim=self.dimension)
            graph.load_index(str(part.folder / HNSW_FILE), max_elements=max(part.docs, 1))
            live = np.ones(part.docs, dtype=bool) if part.live is None else part.live
            for label in np.flatnonzero(~live).tolist():
                graph.mark_deleted(label)
            position = np.full(part.docs, -1, dtype=np.int64)
            position[live] = offset + np.arange(int(live.sum()))
            graphs.append((graph, position, int(live.sum())))
            offset += int(live.sum())
        return graphs

    def encode(self, queries: Sequence[str]) -> np.ndarray:
        rows = self._queries.encode(queries, lambda texts: list(self._encoder.encode_queries(texts)))
        vectors = np.stack(rows) if rows else np.empty((0, self.dimension), dtype=np.float32)
        if vectors.shape[1] != self.dimension:
            raise BraidError(
                f"model {self.config.model!r} gives {vectors.shape[1]}-d vectors but the index at {self.folder} holds {self.dimension}-d ones; "
                "search it with the model it was built with"
            )
        return vectors

    def query_rows(self, queries: Sequence[str]) -> list[np.ndarray]:
        """Each query's vector, as the query cache keeps it: what a sharded search ships to shards."""
        return list(self.encode(queries))

    def remember_queries(self, queries: Sequence[str], rows: Sequence[np.ndarray]) -> None:
        """Take `query_rows` made elsewhere, so searching these queries encodes nothing here."""
        self._queries.put(queries, rows)

    def search_ranked(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        """`search_ordinals` (dense lists report the scores they rank by)."""
        return self.search_ordinals(queries, depth, allowed)

    report = staticmethod(unreported)

    def search(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[Ranking]:
        """`allowed` (a filter's mask over the live documents): see _search_filtered."""
        if depth <= 0 or not queries:
            return [[] for _ in queries]
        doc_ids = self._state()[2]
        return id_rankings(doc_ids, self.search_ordinals(queries, depth, allowed))

    def search_ordinals(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        """`search` by document ordinal (position in the live doc ids)."""
        if depth <= 0 or not queries:
            return [_nothing() for _ in queries]
        vectors, graphs, doc_ids = self._state()
        query_vectors = self.encode(queries)
        if allowed is not None:
            return self._search_filtered(vectors, graphs, len(doc_ids), query_vectors, depth, allowed)
        depth = min(depth, len(doc_ids))
        if self.exact:
            return [self._exact_one(vectors, query, depth) for query in query_vectors]
        found = [self._search_graph(graph, position, live, vectors, query_vectors, depth) for graph, position, live in graphs if live]
        if not found:
            return [_nothing() for _ in queries]
        if len(found) == 1:
            positions, scores = found[0]
        else:  # best `depth` over the segments: score, then doc id (as exact search ranks)
            positions, scores = np.concatenate([p for p, _ in found], axis=1), np.concatenate([d for _, d in found], axis=1)
            order = [np.lexsort((self._tie_rank[row_positions], -row_scores))[:depth] for row_positions, row_scores in zip(positions, scores)]
            positions = np.take_along_axis(positions, np.asarray(order), axis=1)
            scores = np.take_along_axis(scores, np.asarray(order), axis=1)
        return list(zip(positions, scores))

    def _search_filtered(
        self, vectors: np.ndarray, graphs: list[tuple[Any, np.ndarray, int]], live: int, query_vectors: np.ndarray, depth: int, allowed: np.ndarray
    ) -> list[OrdinalRanking]:
        """Only documents `allowed` keeps, planned from how many it keeps: a scan of their vectors
        (exact), or HNSW fetching enough candidates that `depth` matching ones survive, with a scan
        for any query where fewer than min(depth, matching) do."""
        matching = np.flatnonzero(allowed)
        depth = min(depth, len(matching))
        if depth == 0:
            return [_nothing() for _ in query_vectors]
        fetch = filtered_fetch(len(matching), live, depth, self.filter_search)
        if fetch is None or self.exact or not graphs:
            return self._scan(vectors, matching, query_vectors, depth)
        found = [self._search_graph(graph, position, alive, vectors, query_vectors, min(fetch, alive)) for graph, position, alive in graphs if alive]
        positions = np.concatenate([p for p, _ in found], axis=1)
        scores = np.concatenate([d for _, d in found], axis=1)
        rankings: list[OrdinalRanking] = []
        for number, (row_positions, row_scores) in enumerate(zip(positions, scores)):
            keep = allowed[row_positions]
            row_positions, row_scores = row_positions[keep], row_scores[keep]
            if len(row_positions) < depth:  # the filter cut deeper than the over-fetch reached
                rankings += self._scan(vectors, matching, query_vectors[number : number + 1], depth)
                continue
            order = np.lexsort((self._tie_rank[row_positions], -row_scores))[:depth]
            rankings.append((row_positions[order], row_scores[order]))
        return rankings

    def _scan(self, vectors: np.ndarray, matching: np.ndarray, query_vectors: np.ndarray, depth: int) -> list[OrdinalRanking]:
        """Exact search over the `matching` positions: a float32 product picks a shortlist, which is
        rescored as exact search scores (inner_products) and ranked the same way."""
        block = np.asarray(vectors[matching], dtype=np.float32)
        rough = block @ query_vectors.T.astype(np.float32)
        shortlist = min(len(matching), 2 * depth + 16)
        rankings: list[OrdinalRanking] = []
        for number, query in enumerate(query_vectors):
            column = rough[:, number]
            rows = np.argpartition(-column, shortlist - 1)[:shortlist] if shortlist < len(matching) else np.arange(len(matching))
            scores = inner_products(block[rows], query)
            best = top_k(matching[rows], scores, depth, self._tie_rank)
            rankings.append((matching[rows[best]], scores[best].astype(np.float64)))
        return rankings

    def _search_graph(
        self, graph: Any, position: np.ndarray, live: int, vectors: np.ndarray, query_vectors: np.ndarray, depth: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Positions (in the live doc ids) and inner products of one segment's best `depth` hits."""
        k = min(depth, live)
        graph.set_ef(max(self.config.ef_search, k))
        try:
            labels, distances = graph.knn_query(query_vectors, k=k, num_threads=1)
        except RuntimeError:  # deletions cut the graph so that fewer than k were reached: scan the segment
            mine = position[position >= 0]
            scores = np.stack([inner_products(vectors[mine], query) for query in query_vectors])
            best = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            return mine[best], np.take_along_axis(scores, best, axis=1).astype(np.float64)
        # hnswlib's "ip" distance is 1 - inner product.
        return position[labels.astype(np.int64)], 1.0 - distances.astype(np.float64)

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        """Cosine of the query with each given document's stored vector."""
        _, _, ids = self._state()
        with self._lock:
            if self._position is None:
                self._position = doc_positions(ids.tolist())
            position = self._position
        values = self.score_ordinals(queries, [ordinals(wanted, position) for wanted in doc_ids])
        return [dict(zip(wanted, found.tolist())) for wanted, found in zip(doc_ids, values)]

    def score_ordinals(self, queries: Sequence[str], ordinals: Sequence[np.ndarray]) -> list[np.ndarray]:
        """`score` by ordinal (position in the live doc ids). A batch that asks for enough of the
        index's documents gets them from one product over every vector (see _FULL_PRODUCT_RATIO)."""
        vectors, _, _ = self._state()
        query_vectors = self.encode(queries)
        asked = sum(len(rows) for rows in ordinals)
        if len(queries) > 1 and asked and len(vectors) * len(queries) <= _FULL_PRODUCT_RATIO * asked:
            every = all_inner_products(vectors, query_vectors)
            return [every[number, rows].astype(np.float64) for number, rows in enumerate(ordinals)]
        return [inner_products(vectors[rows], query).astype(np.float64) if len(rows) else np.empty(0) for query, rows in zip(query_vectors, ordinals)]

    def _exact_one(self, vectors: np.ndarray, query: np.ndarray, depth: int) -> OrdinalRanking:
        scores = inner_products(vectors, query)
        best = top_k(np.arange(len(scores)), scores, depth, self._tie_rank)
        return best, scores[best].astype(np.float64)

    def forget_queries(self) -> None:
        """Drop cached query vectors (benchmarks time every query cold)."""
        self._queries.clear()

    def close(self) -> None:
        with self._lock:
            self._graphs = None
            self._vectors = None
            self._doc_ids = None


def _nothing() -> OrdinalRanking:
    return np.empty(0, dtype=np.int64), np.empty(0)


# Filtered dense search (see filtered_fetch): HNSW fetches this many candidates per wanted hit
# beyond 1/selectivity; it is chosen over scanning the matching vectors only when it would compute
# at most 1/_HNSW_VISIT_COST as many distances (a graph step costs more than a sequential one), and
# never for fewer than _SCAN_ALWAYS matching documents.
FILTER_SEARCHES = ("auto", "scan", "hnsw")
_OVERFETCH = 2.0
_HNSW_VISIT_COST = 10
_SCAN_ALWAYS = 4096


def filtered_fetch(matching: int, live: int, depth: int, plan: str = "auto") -> int | None:
    """How many HNSW candidates a filtered search fetches per segment, or None to scan the
    `matching` vectors instead ("scan"/"hnsw" force the choice; "auto" picks by cost)."""
    if plan == "scan" or matching == 0:
        return None
    fetch = math.ceil(depth * live / matching * _OVERFETCH) + 10
    if plan == "hnsw":
        return fetch
    return None if matching <= _SCAN_ALWAYS or fetch * _HNSW_VISIT_COST >= matching else fetch


# Rows per block of inner_products: bounds the float64 copy.
_BLOCK = 65536
# Exact scores for a batch of queries come from one product with every stored vector when that is
# at most this many times the scores asked for: gathering scattered rows costs about as much per
# value as a matrix product does for ten (SciFact, 300 queries at depth 1000: ~920 asked of 5,183
# per query; 0.40 -> ~0.1 ms a query).
_FULL_PRODUCT_RATIO = 8
# Rows per block of all_inner_products: its float64 copy of the vectors stays under ~25 MB at 384-d.
_PRODUCT_BLOCK = 8192


def inner_products(vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Each stored vector's inner product with `query`, summed in float64 and rounded to float32.

    A float32 matrix product sums in an order that depends on the matrix's shape and alignment, so
    the same pair of vectors could score a last bit apart in two indexes (one written to, one built
    afresh) and tie-break differently; float64 sums round to the same float32 whatever the layout.
    """
    query64 = query.astype(np.float64)
    if len(vectors) <= _BLOCK:  # one block (a query's exact scores): no list to join
        return (np.asarray(vectors, dtype=np.float64) @ query64).astype(np.float32)
    blocks = [np.asarray(vectors[start : start + _BLOCK], dtype=np.float64) @ query64 for start in range(0, len(vectors), _BLOCK)]
    return np.concatenate(blocks).astype(np.float32)


def all_inner_products(vectors: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Every stored vector's inner product with every query (queries x vectors), summed in float64
    and rounded to float32 like inner_products: the same values, whichever of the two computed them."""
    queries64 = queries.astype(np.float64)
    found = np.empty((len(queries), len(vectors)), dtype=np.float32)
    for start in range(0, len(vectors), _PRODUCT_BLOCK):
        block = np.asarray(vectors[start : start + _PRODUCT_BLOCK], dtype=np.float64)
        found[:, start : start + len(block)] = queries64 @ block.T
    return found


def open_dense(request: OpenRequest) -> DenseRetriever:
    """Search-time options: `ef_search` (HNSW breadth), `exact` (scan every vector instead),
    `filter_search` (filtered queries: auto, scan or hnsw; see filtered_fetch), `query_encoder`
    (model or int8)."""
    params = dict(request.entry.params)
    dimension = int(params.pop("dimension"))
    config = DenseConfig.from_dict(params)
    if request.options.get("ef_search") is not None:
        config = replace(config, ef_search=int(request.options["ef_search"]))
    filter_search = str(request.options.get("filter_search", "auto"))
    if filter_search not in FILTER_SEARCHES:
        raise BraidError(f"dense filter_search must be one of {', '.join(FILTER_SEARCHES)}, got {filter_search!r}")
    return DenseRetriever(
        request.folder, config, dimension, doc_ids=request.doc_ids, exact=bool(request.options.get("exact", False)), parts=request.parts,
        filter_search=filter_search, query_encoder=str(request.options.get("query_encoder", DEFAULT_DENSE_QUERY_ENCODER)),
    )  # fmt: skip
