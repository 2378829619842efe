"""DocOrdinals.slots: one lookup array per concurrent table build, reused, always left at -1."""

from __future__ import annotations

import numpy as np

from braid.engine.doc_ordinals import DocOrdinals
from braid.engine.fused import tables


def test_slots_are_lent_one_per_build_and_reused() -> None:
    ordinals = DocOrdinals(lambda: ["a", "b", "c", "d"])
    with ordinals.slots() as first, ordinals.slots() as second:
        assert first is not second  # two searches at once never share one
        assert first.tolist() == [-1] * 4
    with ordinals.slots() as again:
        assert again is first or again is second  # kept, not filled afresh


def test_tables_leave_the_slots_as_found_and_number_rows_by_first_appearance() -> None:
    ordinals = DocOrdinals(lambda: [f"d{i}" for i in range(10)])
    lists = {
        "bm25": [(np.array([3, 1, 7]), np.array([3.0, 2.0, 1.0])), (np.array([0]), np.array([1.0]))],
        "dense": [(np.array([7, 9]), np.array([0.9, 0.8])), (np.array([0, 5]), np.array([0.7, 0.6]))],
    }
    built = tables(lists, 2, ordinals)
    assert built[0].ordinals.tolist() == [3, 1, 7, 9]
    assert built[0].ranks.tolist() == [[1, 0], [2, 0], [3, 1], [0, 2]]
    assert built[1].ordinals.tolist() == [0, 5]
    with ordinals.slots() as slots:
        assert slots.tolist() == [-1] * 10
