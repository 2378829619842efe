"""Convex combination on hand-computed cases: missing-document policies, ties, empty and single lists."""

from __future__ import annotations

import pytest

from braid.fusion.convex import convex_combination

BM25 = [("a", 10.0), ("b", 6.0), ("c", 2.0)]
DENSE = [("b", 0.8), ("d", 0.6), ("a", 0.4)]


def scores(hits: list) -> dict[str, float]:
    return {hit.doc_id: pytest.approx(hit.score) for hit in hits}


def test_minmax_with_each_missing_policy() -> None:
    weights = {"bm25": 0.5, "dense": 0.5}
    # bm25 minmax: a=1, b=0.5, c=0; dense minmax: b=1, d=0.5, a=0.
    zero = convex_combination({"bm25": BM25, "dense": DENSE}, weights, "minmax", "zero")
    assert [hit.doc_id for hit in zero] == ["b", "a", "d", "c"]
    assert scores(zero) == {"b": 0.75, "a": 0.5, "d": 0.25, "c": 0.0}
    # `min` fills a list's lowest normalized score: 0 under minmax, so the same as `zero` here ...
    assert scores(convex_combination({"bm25": BM25, "dense": DENSE}, weights, "minmax", "min")) == scores(zero)
    # ... but not under tmm: bm25 lower bound 0 -> a=1, b=0.6, c=0.2; dense lower bound -1 -> b=1, d=1.6/1.8, a=1.4/1.8.
    tmm = convex_combination({"bm25": BM25, "dense": DENSE}, weights, "tmm", "min")
    assert scores(tmm) == {"a": 0.5 * 1 + 0.5 * 1.4 / 1.8, "b": 0.5 * 0.6 + 0.5, "c": 0.5 * 0.2 + 0.5 * 1.4 / 1.8, "d": 0.5 * 0.2 + 0.5 * 1.6 / 1.8}


def test_exact_policy_uses_the_given_scores_and_explains_them() -> None:
    exact = {"bm25": {"d": 4.0}, "dense": {"c": 0.5}}
    hits = convex_combination({"bm25": BM25, "dense": DENSE}, {"bm25": 0.5, "dense": 0.5}, "minmax", "exact", exact)
    by_id = {hit.doc_id: hit for hit in hits}
    assert by_id["d"].score == pytest.approx(0.5 * 0.25 + 0.5 * 0.5)
    assert by_id["c"].score == pytest.approx(0.5 * 0.0 + 0.5 * 0.25)
    part = by_id["d"].sources["bm25"]
    assert part.rank is None and part.score == 4.0 and part.normalized == pytest.approx(0.25)
    assert by_id["b"].sources["dense"].rank == 1 and by_id["b"].sources["dense"].score == 0.8


def test_ties_break_by_doc_id_and_k_cuts() -> None:
    hits = convex_combination({"x": [("z", 1.0), ("y", 1.0), ("x", 1.0)]}, {"x": 1.0}, "none", "zero", k=2)
    assert [hit.doc_id for hit in hits] == ["x", "y"]


def test_empty_lists_one_list_and_duplicates() -> None:
    assert convex_combination({"bm25": [], "dense": []}, {"bm25": 1.0}, "minmax", "min") == []
    only = convex_combination({"bm25": BM25, "dense": []}, {"bm25": 0.5, "dense": 0.5}, "minmax", "min")
    assert scores(only) == {"a": 0.5, "b": 0.25, "c": 0.0}
    assert only[0].sources["dense"].rank is None
    doubled = convex_combination({"bm25": [("a", 5.0), ("b", 3.0), ("a", 1.0)]}, {"bm25": 1.0}, "none", "zero")
    assert [(hit.doc_id, hit.score, hit.sources["bm25"].rank) for hit in doubled] == [("a", 5.0, 1), ("b", 3.0, 2)]


def test_zero_weight_retrievers_still_explain() -> None:
    hits = convex_combination({"bm25": BM25, "dense": DENSE}, {"bm25": 1.0}, "minmax", "zero")
    assert [hit.doc_id for hit in hits][:3] == ["a", "b", "c"]
    assert hits[0].sources["dense"].rank == 3


def test_bounds_replace_a_lists_own_range() -> None:
    # dense fixed to 0..1 keeps its raw cosines (b=0.8, d=0.6, a=0.4); bm25 minmax: a=1, b=0.5, c=0.
    hits = convex_combination({"bm25": BM25, "dense": DENSE}, {"bm25": 0.5, "dense": 0.5}, "minmax", "zero", bounds={"dense": (0.0, 1.0)})
    assert [hit.doc_id for hit in hits] == ["a", "b", "d", "c"]  # without bounds: b, a, d, c
    assert scores(hits) == {"a": 0.7, "b": 0.65, "d": 0.3, "c": 0.0}
    assert hits[0].sources["dense"].normalized == pytest.approx(0.4)
