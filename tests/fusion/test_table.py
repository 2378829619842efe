"""top_rows: the best rows by fused score, ties by ascending tie key, the same as sorting every
row by both keys (the way it was done before ties were sorted apart)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from braid.fusion.table import top_rows


def _by_both_keys(fused: np.ndarray, tie_keys: np.ndarray, k: int) -> np.ndarray:
    return np.lexsort((tie_keys, -fused))[:k]


@settings(max_examples=300, deadline=None)
@given(
    scores=st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=60),
    k=st.integers(min_value=1, max_value=70),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_top_rows_equal_a_sort_by_score_then_tie_key(scores: list[int], k: int, seed: int) -> None:
    """Few distinct scores, so most rows tie (runs of every length, at the cut and inside it)."""
    fused = np.array(scores, dtype=np.float64) / 7.0
    tie_keys = np.random.default_rng(seed).permutation(len(fused)).astype(np.int64)
    assert top_rows(fused, tie_keys, k).tolist() == _by_both_keys(fused, tie_keys, k).tolist()


def test_top_rows_without_ties_and_with_every_row_tied() -> None:
    tie_keys = np.array([4, 0, 3, 1, 2], dtype=np.int64)
    distinct = np.array([0.1, 0.5, 0.3, 0.9, 0.2])
    assert top_rows(distinct, tie_keys, 3).tolist() == [3, 1, 2]
    assert top_rows(np.full(5, 0.5), tie_keys, 5).tolist() == [1, 3, 4, 2, 0]
    assert top_rows(np.full(5, 0.5), tie_keys, None).tolist() == [1, 3, 4, 2, 0]
