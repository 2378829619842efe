"""Rankings by ordinal become (doc id, score) pairs in their own order."""

from __future__ import annotations

import numpy as np

from braid.engine.id_rankings import id_rankings

IDS = np.asarray(["d0", "d1", "d2", "d3"], dtype=object)


def test_pairs_follow_each_rankings_order() -> None:
    ranked = [(np.array([2, 0]), np.array([0.9, 0.5])), (np.empty(0, dtype=np.int64), np.empty(0)), (np.array([3]), np.array([1.0]))]
    assert id_rankings(IDS, ranked) == [[("d2", 0.9), ("d0", 0.5)], [], [("d3", 1.0)]]
