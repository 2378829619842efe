"""Reciprocal Rank Fusion (Cormack et al., 2009): sum over lists of weight / (k + rank)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from braid.fusion.table import CandidateTable, FusedRows, ranked_rows
from braid.fusion.types import FusedHit, Ranking

DEFAULT_RRF_K = 60.0


def rrf_terms(table: CandidateTable, k: float, per_list_k: Mapping[str, float] | None = None, weights: Mapping[str, float] | None = None) -> np.ndarray:
    """candidates x retrievers: weight / (k + rank), 0 where the retriever did not return the doc."""
    list_k = np.array([float((per_list_k or {}).get(name, k)) for name in table.names])
    weight = np.array([float((weights or {}).get(name, 1.0)) for name in table.names])
    with np.errstate(divide="ignore"):
        terms = weight / (list_k + table.ranks)
    return np.where(table.ranks > 0, terms, 0.0)


def reciprocal_rank_fusion(
    rankings: Mapping[str, Ranking],
    k: float = DEFAULT_RRF_K,
    per_list_k: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    depth: int | None = None,
    explain: bool = True,
) -> list[FusedHit]:
    """Fuse one query's lists by rank alone. A list's `k` and weight default to `k` and 1; a
    document missing from a list gets nothing from it. `normalized` holds each list's term."""
    return rrf_rows(CandidateTable.from_rankings(rankings), k, per_list_k, weights, depth).string_hits(explain)


def rrf_rows(
    table: CandidateTable,
    k: float = DEFAULT_RRF_K,
    per_list_k: Mapping[str, float] | None = None,
    weights: Mapping[str, float] | None = None,
    depth: int | None = None,
    tie_keys: np.ndarray | None = None,
) -> FusedRows:
    """`reciprocal_rank_fusion` on a table: its `depth` best rows, ties broken by `tie_keys` (else doc ids)."""
    terms = rrf_terms(table, k, per_list_k, weights)
    return ranked_rows(table, terms.sum(axis=1), terms, table.scores, depth, tie_keys)
