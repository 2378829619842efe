"""The public fusion functions equal fusion as it was done on string ids (tests/fusion/reference.py),
bit for bit, on real lists (BM25, SPLADE and dense over 200 SciFact documents) and on edge cases:
ties, duplicates, empty and single lists, exact scores missing from their mapping, bounds given."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from braid.engine import Engine
from braid.fusion.config import FusionConfig
from braid.fusion.convex import convex_combination
from braid.fusion.rrf import reciprocal_rank_fusion
from tests.fusion import reference

NORMS = ("minmax", "zscore", "tmm", "none")
MISSING = ("min", "zero", "exact")


@pytest.fixture(scope="module")
def real(three_way_small_index: Path, scifact_small: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per query: each retriever's list at depth 40, and its exact scores for the others' candidates."""
    with (scifact_small / "queries.jsonl").open(encoding="utf-8") as handle:
        queries = [json.loads(line)["text"] for line in handle][:20]
    with Engine.open(three_way_small_index) as engine:
        lists = engine.retrieve(queries, 40)
        exact = reference.exact_scores(engine.retrievers, queries, lists)
    return (
        [{name: rankings[i] for name, rankings in lists.items()} for i in range(len(queries))],
        [{name: scores[i] for name, scores in exact.items()} for i in range(len(queries))],
    )


def test_convex_combination_equals_the_reference(real: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    weights = {"bm25": 0.2, "splade": 0.3, "dense": 0.5}
    for rankings, exact in zip(*real):
        for norm in NORMS:
            for missing in MISSING:
                for k in (None, 10):
                    found = convex_combination(rankings, weights, norm, missing, exact, k=k)
                    assert found == reference.convex_combination(rankings, weights, norm, missing, exact, k=k), (norm, missing, k)
        bounds = {"dense": 0.0, "bm25": -1.0}
        assert convex_combination(rankings, {"bm25": 1.0}, "tmm", "exact", exact, bounds, k=30, explain=False) == reference.convex_combination(
            rankings, {"bm25": 1.0}, "tmm", "exact", exact, bounds, k=30, explain=False
        )


def test_rrf_and_configs_equal_the_reference(real: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    configs = [
        FusionConfig(method="rrf"),
        FusionConfig(method="rrf", rrf_k=0, rrf_k_per_list={"splade": 3.0}, weights={"bm25": 1.0, "dense": 2.0}),
        FusionConfig(),
    ]
    for rankings, exact in zip(*real):
        for depth in (None, 1, 25):
            assert reciprocal_rank_fusion(rankings, 60.0, depth=depth) == reference.reciprocal_rank_fusion(rankings, 60.0, depth=depth)
        for config in configs:
            assert config.fuse(rankings, 20, exact) == reference.fuse(config, rankings, 20, exact, True)


EDGE_CASES: list[dict[str, list[tuple[str, float]]]] = [
    {"x": [("z", 1.0), ("y", 1.0), ("x", 1.0)], "y": [("x", 2.0), ("w", 2.0)]},  # ties everywhere
    {"x": [("a", 5.0), ("b", 3.0), ("a", 1.0)], "y": [("b", 1.0), ("b", 0.5)]},  # duplicates: the first place counts
    {"x": [], "y": []},
    {"x": [("a", 1.0), ("b", 0.5)], "y": []},
    {"x": [("only", 3.0)]},
    {"x": [("a", -1.0), ("b", -1.0)], "y": [("c", 0.0), ("a", 0.0)]},  # equal scores in one list, negative scores
]


@pytest.mark.parametrize("rankings", EDGE_CASES)
def test_edge_cases_equal_the_reference(rankings: dict[str, list[tuple[str, float]]]) -> None:
    exact = {"x": {"c": 0.25, "w": 7.0}}  # y has none: missing documents score 0 there
    for norm in NORMS:
        for missing in MISSING:
            for k in (None, 1, 2):
                found = convex_combination(rankings, {"x": 0.4, "y": 0.6}, norm, missing, exact, k=k)
                assert found == reference.convex_combination(rankings, {"x": 0.4, "y": 0.6}, norm, missing, exact, k=k), (norm, missing, k)
    for k in (None, 1, 2):
        assert reciprocal_rank_fusion(rankings, 1.0, depth=k) == reference.reciprocal_rank_fusion(rankings, 1.0, depth=k)


def test_tables_built_through_a_lookup_array_are_the_same_and_leave_it_as_found() -> None:
    import numpy as np

    from braid.fusion.table import CandidateTable

    cases = [
        {"x": (np.array([5, 2, 9]), np.array([3.0, 2.0, 1.0])), "y": (np.array([9, 7]), np.array([0.5, 0.4])), "z": (np.array([1, 5]), np.array([2.0, 1.0]))},
        {"x": (np.array([5, 2, 5]), np.array([3.0, 2.0, 1.0])), "y": (np.array([2, 7]), np.array([0.5, 0.4]))},  # a repeat: the sorting path
        {"x": (np.array([4]), np.array([1.0])), "y": (np.array([4, 4]), np.array([0.5, 0.4]))},
        {"x": (np.array([], dtype=np.int64), np.array([])), "y": (np.array([3]), np.array([1.0]))},
    ]
    slots = np.full(12, -1, dtype=np.int64)
    for lists in cases:
        plain, fast = CandidateTable.from_ordinals(lists), CandidateTable.from_ordinals(lists, slots)
        assert (slots == -1).all()
        assert plain.ordinals.tolist() == fast.ordinals.tolist() and plain.ranks.tolist() == fast.ranks.tolist()
        np.testing.assert_array_equal(plain.scores, fast.scores)
        rankings = {name: [(f"d{key}", score) for key, score in zip(keys.tolist(), scores.tolist())] for name, (keys, scores) in lists.items()}
        expected = reference.Table.from_rankings(rankings)
        assert [f"d{key}" for key in plain.ordinals.tolist()] == expected.doc_ids and plain.ranks.tolist() == expected.ranks.tolist()
        np.testing.assert_array_equal(plain.scores, expected.scores)
