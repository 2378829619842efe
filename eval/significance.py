"""Paired significance tests over per-query scores: is method A's mean really above method B's?

Both tests pair the two methods' scores query by query. The t-test assumes the differences are
roughly normal; the randomization test assumes nothing but exchangeability (Smucker et al. 2007
found the two agree on IR runs, and recommend the randomization test). scipy does the work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from braid.fusion.errors import BraidError

RANDOMIZATION_ROUNDS = 10_000


@dataclass(frozen=True)
class Comparison:
    """Two-sided p-values for "A and B score the same on average", and the mean difference A - B."""

    queries: int
    mean_difference: float
    t_test_p: float
    randomization_p: float

    def to_dict(self) -> dict[str, float | int]:
        return {"queries": self.queries, "mean_difference": self.mean_difference, "t_test_p": self.t_test_p, "randomization_p": self.randomization_p}


def paired_scores(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The two methods' scores on the same queries, in the same order."""
    if set(a) != set(b):
        only = sorted(set(a) ^ set(b))[:5]
        raise BraidError(f"paired test needs the same queries on both sides; differing query ids include {only}")
    order = sorted(a)
    return np.array([a[q] for q in order], dtype=np.float64), np.array([b[q] for q in order], dtype=np.float64)


def paired_t_test(a: np.ndarray, b: np.ndarray) -> float:
    """Student's paired t-test; 1.0 when the two are identical on every query (no evidence of a difference)."""
    from scipy import stats

    if len(a) < 2 or np.allclose(a, b, rtol=0, atol=0):
        return 1.0
    return float(stats.ttest_rel(a, b).pvalue)


def randomization_test(a: np.ndarray, b: np.ndarray, rounds: int = RANDOMIZATION_ROUNDS, seed: int = 0) -> float:
    """Fisher's paired randomization test on the mean difference: each query's pair of scores may be
    swapped. Exact (every swap pattern) when 2**queries <= `rounds`, else `rounds` random patterns."""
    from scipy import stats

    if len(a) == 0 or np.allclose(a, b, rtol=0, atol=0):
        return 1.0
    result = stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.mean(x - y, axis=axis),
        permutation_type="samples",
        n_resamples=rounds,
        alternative="two-sided",
        vectorized=True,
        rng=np.random.default_rng(seed),
    )
    return float(result.pvalue)


def compare(a: Mapping[str, float], b: Mapping[str, float], rounds: int = RANDOMIZATION_ROUNDS, seed: int = 0) -> Comparison:
    """Per-query scores by query id for two methods -> both tests' p-values."""
    left, right = paired_scores(a, b)
    difference = float(np.mean(left - right)) if len(left) else 0.0
    return Comparison(len(left), difference, paired_t_test(left, right), randomization_test(left, right, rounds, seed))
