"""Reciprocal Rank Fusion on hand-computed cases."""

from __future__ import annotations

import pytest

from braid.fusion.rrf import reciprocal_rank_fusion


def test_rrf_sums_reciprocal_ranks() -> None:
    hits = reciprocal_rank_fusion({"x": [("a", 9.0), ("b", 8.0)], "y": [("b", 0.3), ("c", 0.2)]}, k=60)
    assert [(hit.doc_id, hit.score) for hit in hits] == [
        ("b", pytest.approx(1 / 62 + 1 / 61)),
        ("a", pytest.approx(1 / 61)),
        ("c", pytest.approx(1 / 62)),
    ]
    assert hits[0].sources["x"].rank == 2 and hits[0].sources["y"].normalized == pytest.approx(1 / 61)
    assert hits[1].sources["y"].rank is None and hits[1].sources["y"].normalized == 0.0


def test_per_list_k_and_weights() -> None:
    hits = reciprocal_rank_fusion({"x": [("a", 1.0)], "y": [("b", 1.0)]}, k=60, per_list_k={"y": 0}, weights={"x": 2.0})
    assert {hit.doc_id: hit.score for hit in hits} == {"b": pytest.approx(1.0), "a": pytest.approx(2 / 61)}


def test_ties_empty_lists_and_duplicates() -> None:
    tied = reciprocal_rank_fusion({"x": [("b", 1.0)], "y": [("a", 1.0)]})
    assert [hit.doc_id for hit in tied] == ["a", "b"]
    assert reciprocal_rank_fusion({"x": [], "y": []}) == []
    doubled = reciprocal_rank_fusion({"x": [("a", 1.0), ("a", 0.5), ("b", 0.1)]}, k=0)
    assert [(hit.doc_id, hit.score) for hit in doubled] == [("a", 1.0), ("b", 1 / 3)]
    assert len(reciprocal_rank_fusion({"x": [("a", 1.0), ("b", 0.5)]}, depth=1)) == 1
