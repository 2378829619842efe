"""Rankings by ordinal become (doc id, score) pairs, and the cycle collector's state is left as found."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import numpy as np
import pytest

from braid.engine.id_rankings import id_rankings
from braid.fusion.types import OrdinalRanking

IDS = np.asarray(["d0", "d1", "d2", "d3"], dtype=object)


def test_pairs_follow_each_rankings_order() -> None:
    ranked = [(np.array([2, 0]), np.array([0.9, 0.5])), (np.empty(0, dtype=np.int64), np.empty(0)), (np.array([3]), np.array([1.0]))]
    assert id_rankings(IDS, ranked) == [[("d2", 0.9), ("d0", 0.5)], [], [("d3", 1.0)]]


def test_the_collector_is_paused_while_building_and_left_as_it_was() -> None:
    seen: list[bool] = []

    def watching() -> Iterator[OrdinalRanking]:
        seen.append(gc.isenabled())
        yield np.array([1]), np.array([0.5])

    assert gc.isenabled()
    id_rankings(IDS, watching())
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        id_rankings(IDS, watching())
        assert not gc.isenabled()  # a caller that had paused it keeps it paused
    finally:
        gc.enable()

    def failing() -> Iterator[OrdinalRanking]:
        raise RuntimeError("search failed")
        yield  # pragma: no cover

    with pytest.raises(RuntimeError, match="search failed"):
        id_rankings(IDS, failing())
    assert gc.isenabled()
