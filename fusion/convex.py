"""Convex combination: sum over retrievers of weight x normalized score."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

import numpy as np

from braid.fusion.normalize import THEORETICAL_MINIMUM, normalizer
from braid.fusion.table import CandidateTable, fused_hits
from braid.fusion.types import FusedHit, Ranking

MissingPolicy = Literal["min", "zero", "exact"]
MISSING_POLICIES: tuple[MissingPolicy, ...] = get_args(MissingPolicy)


def normalized_columns(
    table: CandidateTable,
    norm: str,
    missing: str,
    exact_scores: Mapping[str, Mapping[str, float]] | None = None,
    theoretical_minimum: Mapping[str, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(normalized, raw) candidates x retrievers. A document missing from a list gets, for that list:
    `min` its lowest normalized score, `zero` 0, or `exact` the retriever's real score for it
    (`exact_scores[retriever][doc]`, 0 when absent there: no term matched) normalized with the list's
    own statistics. Raw stays NaN unless the score is known."""
    if missing not in MISSING_POLICIES:
        raise ValueError(f"unknown missing-document policy {missing!r}; choose from {', '.join(MISSING_POLICIES)}")
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
    """Fuse one query's lists; retrievers absent from `weights` weigh 0 but still explain hits."""
    table = CandidateTable.from_rankings(rankings)
    normalized, raw = normalized_columns(table, norm, missing, exact_scores, theoretical_minimum)
    weight_vector = np.array([float(weights.get(name, 0.0)) for name in table.names])
    return fused_hits(table, normalized @ weight_vector, normalized, raw, k, explain)
