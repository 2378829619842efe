"""Fusion as braid did it before it worked on document ordinals (string ids through Python dicts),
frozen here as the reference that the fast path must equal bit for bit: the same candidates, fused
scores, ranks, tie-breaks and explanations. Nothing here imports the code under test beyond the
retrievers' searches and their private scoring primitives (unchanged), and FusionConfig's settings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from braid.engine.dense import inner_products
from braid.engine.lucene_bm25 import as_lucene_scores
from braid.fusion.config import FusionConfig
from braid.fusion.types import Contribution, FusedHit

Ranking = list[tuple[str, float]]
THEORETICAL_MINIMUM = {"bm25": 0.0, "splade": 0.0, "dense": -1.0}


@dataclass(frozen=True)
class Table:
    names: list[str]
    doc_ids: list[str]
    ranks: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_rankings(cls, rankings: Mapping[str, Ranking]) -> Table:
        names = list(rankings)
        position: dict[str, int] = {}
        rows = np.fromiter((position.setdefault(doc_id, len(position)) for ranking in rankings.values() for doc_id, _ in ranking), dtype=np.int64)
        lengths = [len(ranking) for ranking in rankings.values()]
        columns = np.repeat(np.arange(len(names)), lengths)
        rank_values = np.concatenate([np.arange(1, length + 1) for length in lengths]) if rows.size else np.empty(0, dtype=np.int64)
        score_values = np.fromiter((score for ranking in rankings.values() for _, score in ranking), dtype=np.float64, count=rows.size)
        _, first = np.unique(rows * len(names) + columns, return_index=True)
        ranks = np.zeros((len(position), len(names)), dtype=np.int64)
        scores = np.full((len(position), len(names)), np.nan)
        ranks[rows[first], columns[first]] = rank_values[first]
        scores[rows[first], columns[first]] = score_values[first]
        return cls(names, list(position), ranks, scores)

    def found(self, column: int) -> np.ndarray:
        return self.ranks[:, column] > 0


def normalizer(scores: np.ndarray, method: str, theoretical_minimum: float = 0.0) -> tuple[float, float]:
    if method == "none" or len(scores) == 0:
        return 0.0, 1.0
    if method == "zscore":
        std = float(np.std(scores))
        return float(np.mean(scores)), std if std > 0 else 1.0
    top = float(np.max(scores))
    bottom = float(np.min(scores)) if method == "minmax" else min(theoretical_minimum, float(np.min(scores)))
    if top > bottom:
        return bottom, top - bottom
    return top - 1.0, 1.0


def normalized_columns(
    table: Table, norm: str, missing: str, exact_scores: Mapping[str, Mapping[str, float]] | None, theoretical_minimum: Mapping[str, float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    bounds = {**THEORETICAL_MINIMUM, **(theoretical_minimum or {})}
    raw = table.scores.copy()
    normalized = np.zeros_like(raw)
    for column, name in enumerate(table.names):
        found = table.found(column)
        shift, scale = normalizer(raw[found, column], norm, bounds.get(name, 0.0))
        if missing == "exact":
            given = (exact_scores or {}).get(name, {})
            absent = np.flatnonzero(~found)
            raw[absent, column] = [float(given.get(table.doc_ids[row], 0.0)) for row in absent]
            normalized[:, column] = (raw[:, column] - shift) / scale
            continue
        normalized[found, column] = (raw[found, column] - shift) / scale
        if missing == "min" and found.any():
            normalized[~found, column] = normalized[found, column].min()
    return normalized, raw


def best_rows(fused: np.ndarray, doc_ids: list[str], k: int | None) -> list[int]:
    count = len(fused) if k is None else min(k, len(fused))
    if count == 0:
        return []
    if count < len(fused):
        kth = np.partition(-fused, count - 1)[count - 1]
        candidates = np.flatnonzero(-fused <= kth)
    else:
        candidates = np.arange(len(fused))
    return sorted(candidates.tolist(), key=lambda row: (-fused[row], doc_ids[row]))[:count]


def fused_hits(table: Table, fused: np.ndarray, normalized: np.ndarray, raw: np.ndarray, k: int | None, explain: bool) -> list[FusedHit]:
    hits = []
    for row in best_rows(fused, table.doc_ids, k):
        sources: dict[str, Contribution] = {}
        if explain:
            for column, name in enumerate(table.names):
                rank = int(table.ranks[row, column])
                score = raw[row, column]
                sources[name] = Contribution(rank or None, None if np.isnan(score) else float(score), float(normalized[row, column]))
        hits.append(FusedHit(table.doc_ids[row], float(fused[row]), sources))
    return hits


def convex_combination(
    rankings: Mapping[str, Ranking],
    weights: Mapping[str, float],
    norm: str = "minmax",
    missing: str = "min",
    exact_scores: Mapping[str, Mapping[str, float]] | None = None,
    theoretical_minimum: Mapping[str, float] | None = None,
    k: int | None = None,
    explain: bool = True,
) -> list[FusedHit]:
    table = Table.from_rankings(rankings)
    normalized, raw = normalized_columns(table, norm, missing, exact_scores, theoretical_minimum)
    weight_vector = np.array([float(weights.get(name, 0.0)) for name in table.names])
    return fused_hits(table, normalized @ weight_vector, normalized, raw, k, explain)


def rrf_terms(table: Table, k: float, per_list_k: Mapping[str, float] | None = None, weights: Mapping[str, float] | None = None) -> np.ndarray:
    list_k = np.array([float((per_list_k or {}).get(name, k)) for name in table.names])
    weight = np.array([float((weights or {}).get(name, 1.0)) for name in table.names])
    with np.errstate(divide="ignore"):
        terms = weight / (list_k + table.ranks)
    return np.where(table.ranks > 0, terms, 0.0)


def reciprocal_rank_fusion(
    rankings: Mapping[str, Ranking],
    k: float = 60.0,
    per_list_k: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    depth: int | None = None,
    explain: bool = True,
) -> list[FusedHit]:
    table = Table.from_rankings(rankings)
    terms = rrf_terms(table, k, per_list_k, weights)
    return fused_hits(table, terms.sum(axis=1), terms, table.scores, depth, explain)


def fuse(config: FusionConfig, rankings: Mapping[str, Ranking], depth: int, exact: Mapping[str, Mapping[str, float]] | None, explain: bool) -> list[FusedHit]:
    """FusionConfig.fuse as it was."""
    names = list(rankings)
    if config.method == "rrf":
        return reciprocal_rank_fusion(rankings, config.rrf_k, config.rrf_k_per_list, config.weights_for(names), depth, explain)
    return convex_combination(rankings, config.weights_for(names), config.norm, config.missing, exact, k=depth, explain=explain)


# -- the engine's side: exact scores by doc id, and the fused search ---------------------------------


def exact_score(retriever: Any, queries: Sequence[str], wanted: Sequence[Sequence[str]]) -> list[dict[str, float]]:
    """Each retriever kind's `score` as it was: the whole query x docs product, then a dense row per query."""
    if retriever.name == "dense":
        vectors, _, ids = retriever._state()
        position = {doc: ordinal for ordinal, doc in enumerate(ids.tolist())}
        result = []
        for query, docs in zip(retriever.encode(queries), wanted):
            rows = np.fromiter((position[doc] for doc in docs), dtype=np.int64, count=len(docs))
            values = inner_products(vectors[rows], query) if len(rows) else np.empty(0)
            result.append(dict(zip(docs, values.astype(np.float64).tolist())))
        return result
    if retriever.name == "bm25":
        query_matrix, weights = retriever._batch_weights(*retriever._query_matrix(queries))
        sums = (query_matrix @ weights).tocsr()
        finish = as_lucene_scores
    else:
        matrix = retriever._state()
        sums = (retriever.encode(queries) @ matrix.impacts).tocsr()
        finish = np.asarray
    position = {doc: ordinal for ordinal, doc in enumerate(retriever._doc_ids)}
    result = []
    for row, docs in enumerate(wanted):
        dense = np.zeros(sums.shape[1], dtype=sums.dtype)
        dense[sums.indices[sums.indptr[row] : sums.indptr[row + 1]]] = sums.data[sums.indptr[row] : sums.indptr[row + 1]]
        columns = np.fromiter((position[doc] for doc in docs), dtype=np.int64, count=len(docs))
        result.append(dict(zip(docs, finish(dense[columns]).astype(np.float64).tolist())))
    return result


def exact_scores(retrievers: Mapping[str, Any], queries: Sequence[str], per_retriever: Mapping[str, list[Ranking]]) -> dict[str, list[dict[str, float]]]:
    union = [dict.fromkeys(doc for rankings in per_retriever.values() for doc, _ in rankings[i]) for i in range(len(queries))]
    wanted: dict[str, list[list[str]]] = {}
    for name, rankings in per_retriever.items():
        returned = [{doc for doc, _ in ranking} for ranking in rankings]
        wanted[name] = [[doc for doc in union[i] if doc not in returned[i]] for i in range(len(queries))]
    return {name: exact_score(retrievers[name], queries, wanted[name]) for name in per_retriever}


def search_fused(engine: Any, queries: Sequence[str], k: int, depth: int, explain: bool = True, filter: Any = None) -> list[list[FusedHit]]:
    """Engine.search_fused as it was, from the engine's string lists."""
    per_retriever = engine.retrieve(queries, max(depth, k), filter=filter)
    if len(per_retriever) == 1:
        ((name, rankings),) = per_retriever.items()
        return [
            [FusedHit(doc, score, {name: Contribution(rank, score, score)}) for rank, (doc, score) in enumerate(ranking[:k], start=1)] for ranking in rankings
        ]
    config = engine.fusion
    needs_exact = config.method == "cc" and config.missing == "exact"
    exact = exact_scores(engine.retrievers, queries, per_retriever) if needs_exact else None
    fused = []
    for position in range(len(queries)):
        lists = {name: rankings[position] for name, rankings in per_retriever.items()}
        fused.append(fuse(config, lists, k, {name: scores[position] for name, scores in exact.items()} if exact else None, explain))
    return fused
