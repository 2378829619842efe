"""Convex combination: sum over retrievers of weight x normalized score."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

import numpy as np

from braid.fusion.normalize import THEORETICAL_MINIMUM, Bounds, normalizer
from braid.fusion.table import CandidateTable, FusedRows, ranked_rows
from braid.fusion.types import FusedHit, Ranking

MissingPolicy = Literal["min", "zero", "exact"]
MISSING_POLICIES: tuple[MissingPolicy, ...] = get_args(MissingPolicy)

# Per retriever, its own scores for the candidates it did not return: by doc id (0 when absent
# there: no term matched), or an array holding the table's absent rows in row order.
ExactScores = Mapping[str, Mapping[str, float] | np.ndarray]


def normalized_columns(
    table: CandidateTable,
    norm: str,
    missing: str,
    exact_scores: ExactScores | None = None,
    theoretical_minimum: Mapping[str, float] | None = None,
    bounds: Mapping[str, Bounds] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(normalized, raw) candidates x retrievers. A document missing from a list gets, for that list:
    `min` its lowest normalized score, `zero` 0, or `exact` the retriever's real score for it
    (`exact_scores[retriever]`, see ExactScores) normalized with the list's own statistics. Raw
    stays NaN unless the score is known. `bounds[retriever]` fixes ends of its minmax/tmm range."""
    if missing not in MISSING_POLICIES:
        raise ValueError(f"unknown missing-document policy {missing!r}; choose from {', '.join(MISSING_POLICIES)}")
    minimums = {**THEORETICAL_MINIMUM, **(theoretical_minimum or {})}
    given = bounds or {}
    raw = table.scores.copy()
    normalized = np.empty_like(raw)
    for column, name in enumerate(table.names):
        found = table.found(column)
        raw_column, normalized_column = raw[:, column], normalized[:, column]  # column views: writes land in raw and normalized
        shift, scale = normalizer(raw_column[found], norm, minimums.get(name, 0.0), given.get(name))
        absent = ~found
        if missing == "exact":
            raw_column[absent] = _exact_values((exact_scores or {}).get(name), table, absent)
        np.subtract(raw_column, shift, out=normalized_column)
        normalized_column /= scale
        if missing != "exact":
            normalized_column[absent] = normalized_column[found].min() if missing == "min" and found.any() else 0.0
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
    bounds: Mapping[str, Bounds] | None = None,
) -> list[FusedHit]:
    """Fuse one query's lists; retrievers absent from `weights` weigh 0 but still explain hits."""
    table = CandidateTable.from_rankings(rankings)
    return convex_rows(table, weights, norm, missing, exact_scores, theoretical_minimum, k, bounds=bounds).string_hits(explain)


def convex_rows(
    table: CandidateTable,
    weights: Mapping[str, float],
    norm: str = "minmax",
    missing: str = "min",
    exact_scores: ExactScores | None = None,
    theoretical_minimum: Mapping[str, float] | None = None,
    k: int | None = None,
    tie_keys: np.ndarray | None = None,
    bounds: Mapping[str, Bounds] | None = None,
) -> FusedRows:
    """`convex_combination` on a table: its k best rows, ties broken by `tie_keys` (else doc ids)."""
    normalized, raw = normalized_columns(table, norm, missing, exact_scores, theoretical_minimum, bounds)
    weight_vector = np.array([float(weights.get(name, 0.0)) for name in table.names])
    return ranked_rows(table, normalized @ weight_vector, normalized, raw, k, tie_keys)


def _exact_values(given: Mapping[str, float] | np.ndarray | None, table: CandidateTable, absent: np.ndarray) -> np.ndarray | list[float]:
    """The scores to fill in where `absent` (a mask over the table's rows) is set, in row order."""
    missing = int(np.count_nonzero(absent))
    if given is None:
        return np.zeros(missing)
    if isinstance(given, np.ndarray):
        if len(given) != missing:
            raise ValueError(f"{len(given)} exact scores for {missing} missing candidates")
        return given
    return [float(given.get(table.doc_ids[row], 0.0)) for row in np.flatnonzero(absent).tolist()]
