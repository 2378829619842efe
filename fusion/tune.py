"""Learn fusion settings from labelled queries: a grid over the weight simplex, each normalization
and missing-document policy for convex combination, and k for RRF.

The per-retriever lists are retrieved once; every setting then costs array arithmetic only: for one
normalization, the candidates x retrievers matrix times the whole weight grid gives every setting's
fused scores at once.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from braid.fusion.config import FUSION_METHODS, FusionConfig
from braid.fusion.convex import MISSING_POLICIES, normalized_columns
from braid.fusion.normalize import NORMALIZATIONS
from braid.fusion.rrf import rrf_terms
from braid.fusion.table import CandidateTable, best_rows
from braid.fusion.types import EVAL_DEPTH, Ranking, trec_order

TUNED_NORMS = tuple(norm for norm in NORMALIZATIONS if norm != "none")  # "none" would add raw scores of different scales
TUNED_MISSING = MISSING_POLICIES
RRF_KS = (1.0, 2.0, 5.0, 10.0, 20.0, 40.0, 60.0, 80.0, 100.0)


class Metric(Protocol):
    """What tuning maximizes (eval's metrics answer it): a cutoff, and a score for one ranked list."""

    @property
    def name(self) -> str: ...

    @property
    def k(self) -> int | None: ...

    def score(self, docs: Sequence[str], judged: Mapping[str, int]) -> float: ...


@dataclass(frozen=True)
class SweepPoint:
    config: FusionConfig
    value: float  # mean metric over the labelled queries


def weight_grid(names: Sequence[str], step: float) -> list[dict[str, float]]:
    """Every weighting on the simplex in multiples of `step` (at least one weight positive)."""
    units = round(1 / step)
    if not np.isclose(units * step, 1.0):
        raise ValueError(f"step {step} must divide 1 (e.g. 0.1, 0.05, 0.25)")
    points = []
    for combo in itertools.product(range(units + 1), repeat=len(names)):
        if sum(combo) == units:
            points.append({name: round(count / units, 10) for name, count in zip(names, combo)})
    return points


@dataclass(frozen=True)
class LabelledQuery:
    query_id: str
    table: CandidateTable
    judged: Mapping[str, int]
    exact: Mapping[str, Mapping[str, float]] | None = None


def _mean_metric(queries: Sequence[LabelledQuery], fused_by_query: Sequence[np.ndarray], metric: Metric, depth: int) -> np.ndarray:
    """Mean metric per grid column; fused_by_query[i] is candidates x settings for query i."""
    cutoff = (metric.k or depth) + 1  # one extra: a self-hit may be dropped
    totals = np.zeros(fused_by_query[0].shape[1] if fused_by_query else 0)
    for query, fused in zip(queries, fused_by_query):
        for column in range(fused.shape[1]):
            scores = fused[:, column]
            ranking = [(query.table.doc_ids[row], float(scores[row])) for row in best_rows(scores, query.table.doc_ids, cutoff)]
            docs = [doc for doc, _ in trec_order(ranking) if doc != query.query_id]
            totals[column] += metric.score(docs, query.judged)
    return totals / max(1, len(queries))


def sweep(
    queries: Sequence[LabelledQuery],
    names: Sequence[str],
    metric: Metric,
    step: float = 0.1,
    methods: Sequence[str] = FUSION_METHODS,
    depth: int = EVAL_DEPTH,
    progress: Callable[[str], None] | None = None,
) -> list[SweepPoint]:
    """Every setting's mean metric, in the order tried."""
    grid = weight_grid(names, step)
    weights = np.array([[point[name] for name in names] for point in grid])
    results: list[SweepPoint] = []
    if "cc" in methods:
        for norm, missing in itertools.product(TUNED_NORMS, TUNED_MISSING):
            if missing == "exact" and any(query.exact is None for query in queries):
                continue
            fused = [normalized_columns(query.table, norm, missing, query.exact)[0] @ weights.T for query in queries]
            for point, value in zip(grid, _mean_metric(queries, fused, metric, depth)):
                results.append(SweepPoint(FusionConfig(method="cc", norm=norm, missing=missing, weights=point), float(value)))
            if progress:
                progress(f"cc {norm}/{missing}: best {max(results[-len(grid) :], key=lambda p: p.value).value:.4f}")
    if "rrf" in methods:
        for k in RRF_KS:
            fused = [rrf_terms(query.table, k) @ weights.T for query in queries]
            for point, value in zip(grid, _mean_metric(queries, fused, metric, depth)):
                results.append(SweepPoint(FusionConfig(method="rrf", rrf_k=k, weights=point), float(value)))
            if progress:
                progress(f"rrf k={k:g}: best {max(results[-len(grid) :], key=lambda p: p.value).value:.4f}")
    return results


def labelled_queries(
    query_ids: Sequence[str],
    per_retriever: Mapping[str, Sequence[Ranking]],
    qrels: Mapping[str, Mapping[str, int]],
    exact: Mapping[str, Sequence[Mapping[str, float]]] | None = None,
) -> list[LabelledQuery]:
    result = []
    for position, query_id in enumerate(query_ids):
        table = CandidateTable.from_rankings({name: rankings[position] for name, rankings in per_retriever.items()})
        exact_here = {name: scores[position] for name, scores in exact.items()} if exact else None
        result.append(LabelledQuery(query_id, table, qrels[query_id], exact_here))
    return result


def best(points: Sequence[SweepPoint]) -> SweepPoint:
    """The highest value; on a tie, the first tried (cc before rrf, grid order)."""
    return max(points, key=lambda point: point.value)
