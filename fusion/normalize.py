"""Score normalizations that put different retrievers' scores on one scale before a convex combination.

`tmm` is the theoretical min-max of Bruch et al. (2023): the lower bound is the lowest score the
scorer can give (0 for BM25 and impacts, -1 for cosine), the upper bound the list's maximum, so
a list's scale does not hinge on whichever document happened to come last.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np

Normalization = Literal["minmax", "zscore", "tmm", "none"]
NORMALIZATIONS: tuple[Normalization, ...] = get_args(Normalization)

# The lowest score each retriever kind can give (theoretical minimum, for `tmm`).
THEORETICAL_MINIMUM = {"bm25": 0.0, "splade": 0.0, "dense": -1.0}


def normalizer(scores: np.ndarray, method: str, theoretical_minimum: float = 0.0) -> tuple[float, float]:
    """(shift, scale) such that normalized = (score - shift) / scale, from one list's scores.

    A list whose scores are all equal maps them to 1 under minmax and tmm-at-the-bound, and to 0
    under zscore; an empty list gives the identity.
    """
    if method not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {method!r}; choose from {', '.join(NORMALIZATIONS)}")
    if method == "none" or len(scores) == 0:
        return 0.0, 1.0
    if method == "zscore":
        std = float(np.std(scores))
        return float(np.mean(scores)), std if std > 0 else 1.0
    top = float(np.max(scores))
    bottom = float(np.min(scores)) if method == "minmax" else min(theoretical_minimum, float(np.min(scores)))
    if top > bottom:
        return bottom, top - bottom
    return top - 1.0, 1.0  # every score equal: all of them are the list's best


def normalize(scores: np.ndarray, method: str, theoretical_minimum: float = 0.0) -> np.ndarray:
    shift, scale = normalizer(scores, method, theoretical_minimum)
    return (np.asarray(scores, dtype=np.float64) - shift) / scale
