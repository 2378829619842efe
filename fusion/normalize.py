"""Score normalizations that put different retrievers' scores on one scale before a convex combination.

`tmm` is the theoretical min-max of Bruch et al. (2023): the lower bound is the lowest score the
scorer can give (0 for BM25 and impacts, -1 for cosine), the upper bound the list's maximum, so
a list's scale does not hinge on whichever document happened to come last.

Users may fix either end of that range per retriever (`Bounds`, e.g. cosine scores as 0..1): under
minmax and tmm a given end replaces the one taken from the list. Scores beyond a given bound are
not clipped: they normalize past 0 or 1, so no two documents are made to tie.
"""

from __future__ import annotations

import math
from typing import Literal, get_args

import numpy as np

Normalization = Literal["minmax", "zscore", "tmm", "none"]
NORMALIZATIONS: tuple[Normalization, ...] = get_args(Normalization)

# The lowest score each retriever kind can give (theoretical minimum, for `tmm`).
THEORETICAL_MINIMUM = {"bm25": 0.0, "splade": 0.0, "dense": -1.0}

# One retriever's normalization range as a user fixes it: (lowest, highest); None takes that end
# from the list (or, for tmm's lowest, from the theoretical minimum).
Bounds = tuple[float | None, float | None]

# The normalizations a user's bounds apply to: the ones that map a range onto 0..1.
BOUNDED_NORMALIZATIONS = ("minmax", "tmm")


def normalizer(scores: np.ndarray, method: str, theoretical_minimum: float = 0.0, bounds: Bounds | None = None) -> tuple[float, float]:
    """(shift, scale) such that normalized = (score - shift) / scale, from one list's scores.

    A list whose scores are all equal maps them to 1 under minmax and tmm-at-the-bound, and to 0
    under zscore; an empty list gives the identity unless `bounds` fix both ends.
    """
    if method not in NORMALIZATIONS:
        raise ValueError(f"unknown normalization {method!r}; choose from {', '.join(NORMALIZATIONS)}")
    low, high = bounds or (None, None)
    if (low is not None or high is not None) and method not in BOUNDED_NORMALIZATIONS:
        raise ValueError(f"normalization bounds apply to {' or '.join(BOUNDED_NORMALIZATIONS)}, not {method}")
    if low is not None and high is not None:
        return low, high - low
    if method == "none" or len(scores) == 0:
        return 0.0, 1.0
    scores = np.asarray(scores, dtype=np.float64)
    if method == "zscore":
        return _mean_and_deviation(scores)
    top = float(scores.max()) if high is None else high
    if low is not None:
        bottom = low
    else:
        bottom = float(scores.min()) if method == "minmax" else min(theoretical_minimum, float(scores.min()))
    if top > bottom:
        return bottom, top - bottom
    return top - 1.0, 1.0  # every score equal: all of them are the list's best


def _mean_and_deviation(scores: np.ndarray) -> tuple[float, float]:
    """np.mean and np.std's arithmetic step for step (the same sums, so the same bits), without
    their dispatch: fusion calls this per retriever per query. A deviation of 0 scales by 1."""
    count = len(scores)
    mean = float(np.add.reduce(scores)) / count
    squares = scores - mean
    np.multiply(squares, squares, out=squares)
    deviation = math.sqrt(float(np.add.reduce(squares)) / count)
    return mean, deviation if deviation > 0 else 1.0


def normalize(scores: np.ndarray, method: str, theoretical_minimum: float = 0.0, bounds: Bounds | None = None) -> np.ndarray:
    shift, scale = normalizer(scores, method, theoretical_minimum, bounds)
    return (np.asarray(scores, dtype=np.float64) - shift) / scale
