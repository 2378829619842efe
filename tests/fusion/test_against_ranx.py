"""RRF and min-max fusion against ranx on the same real runs (BM25 and dense over 200 SciFact docs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.engine import Engine
from braid.fusion.convex import convex_combination
from braid.fusion.rrf import reciprocal_rank_fusion
from braid.indexing.readers import read_queries

ranx = pytest.importorskip("ranx")


@pytest.fixture(scope="module")
def runs(hybrid_small_index: Path, scifact_small: Path) -> dict[str, dict[str, list[tuple[str, float]]]]:
    queries = {query_id: query.text for query_id, query in list(read_queries(scifact_small / "queries.jsonl").items())[:60]}
    with Engine.open(hybrid_small_index, ["bm25", "dense"]) as engine:
        lists = engine.retrieve(list(queries.values()), 50)
    return {name: dict(zip(queries, rankings)) for name, rankings in lists.items()}


def _ranx_run(run: dict[str, list[tuple[str, float]]], name: str) -> object:
    return ranx.Run({query: dict(ranking) for query, ranking in run.items() if ranking}, name=name)


def _check(ours: dict[str, list], theirs: dict[str, dict[str, float]]) -> None:
    for query, hits in ours.items():
        assert {hit.doc_id: pytest.approx(hit.score, abs=1e-9) for hit in hits} == theirs[query]


def test_rrf_matches_ranx(runs: dict) -> None:
    fused = ranx.fuse([_ranx_run(runs["bm25"], "bm25"), _ranx_run(runs["dense"], "dense")], method="rrf", params={"k": 60}).to_dict()
    ours = {query: reciprocal_rank_fusion({"bm25": runs["bm25"][query], "dense": runs["dense"][query]}, k=60) for query in runs["bm25"]}
    _check(ours, fused)


def test_minmax_weighted_sum_matches_ranx(runs: dict) -> None:
    fused = ranx.fuse(
        [_ranx_run(runs["bm25"], "bm25"), _ranx_run(runs["dense"], "dense")], norm="min-max", method="wsum", params={"weights": [0.3, 0.7]}
    ).to_dict()
    weights = {"bm25": 0.3, "dense": 0.7}
    ours = {query: convex_combination({"bm25": runs["bm25"][query], "dense": runs["dense"][query]}, weights, "minmax", "zero") for query in runs["bm25"]}
    _check(ours, fused)
