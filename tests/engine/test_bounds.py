"""User-given normalization bounds reach fusion the same way through Python, the CLI and HTTP: a
retriever fixed to 0..1 under minmax contributes its raw score, and bad bounds are refused in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from braid.cli.web.app import create_app
from braid.engine import Engine
from braid.fusion.config import FusionConfig
from tests.support.cli import assert_one_line_error, braid

QUERY = "vitamin D deficiency and bone health"
WEIGHTS = {"bm25": 0.3, "splade": 0.25, "dense": 0.45}


def assert_dense_kept_raw(hits: list[dict]) -> None:
    """Every hit's dense part is normalized to its own cosine, and the fused score is the weighted sum."""
    assert hits
    for hit in hits:
        dense = hit["sources"]["dense"]
        assert dense["normalized"] == pytest.approx(dense["score"])
        assert hit["score"] == pytest.approx(sum(WEIGHTS[name] * part["normalized"] for name, part in hit["sources"].items()))


def test_python_bounds_change_only_the_bounded_retriever(three_way_small_index: Path) -> None:
    plain = FusionConfig(norm="minmax", weights=WEIGHTS)
    bounded = plain.replace(bounds={"dense": (0.0, 1.0)})
    with Engine.open(three_way_small_index, fusion=plain) as engine:
        before = engine.search(QUERY, k=10, depth=50)
        after = engine.view(fusion=bounded).search(QUERY, k=10, depth=50)
    assert_dense_kept_raw([hit.to_dict() for hit in after])
    # bm25's and splade's parts are what they were: their own list's minmax.
    parts = {hit.doc_id: hit.sources for hit in before}
    for hit in after:
        if hit.doc_id in parts:
            assert hit.sources["bm25"].normalized == pytest.approx(parts[hit.doc_id]["bm25"].normalized)
    assert [hit.sources["dense"].normalized for hit in before] != [hit.sources["dense"].normalized for hit in after]


def test_cli_bounds_and_their_one_line_errors(three_way_small_index: Path) -> None:
    weights = ",".join(f"{name}={value}" for name, value in WEIGHTS.items())
    result = braid("search", str(three_way_small_index), QUERY, "-k", "5", "--norm", "minmax", "--weights", weights, "--bounds", "dense=0:1", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["fusion"]["bounds"] == {"dense": [0.0, 1.0]} and payload["fusion"]["weights_from"] == "given"
    assert_dense_kept_raw(payload["hits"])
    index = str(three_way_small_index)
    assert_one_line_error(braid("search", index, QUERY, "--bounds", "dense=0:1"), "apply to normalization minmax or tmm, not zscore")
    assert_one_line_error(
        braid("search", index, QUERY, "--norm", "tmm", "--bounds", "dense=1:0"), "bounds of dense: the lowest (1) must be below the highest (0)"
    )
    assert_one_line_error(braid("search", index, QUERY, "--norm", "tmm", "--bounds", "colbert=0:1"), "bounds for unknown retriever 'colbert'")


def test_http_bounds_and_their_refusals(three_way_small_index: Path) -> None:
    with Engine.open(three_way_small_index) as engine, TestClient(create_app(engine)) as client:
        fusion = {"norm": "minmax", "weights": WEIGHTS, "bounds": {"dense": [0, 1]}}
        answer = client.post("/search", json={"query": QUERY, "k": 5, "fusion": fusion})
        assert answer.status_code == 200, answer.text
        assert answer.json()["fusion"]["bounds"] == {"dense": [0.0, 1.0]}
        assert_dense_kept_raw(answer.json()["hits"])
        upper_only = client.post("/search", json={"query": QUERY, "fusion": {"norm": "tmm", "bounds": {"bm25": [None, 100]}}})
        assert upper_only.status_code == 200 and upper_only.json()["fusion"]["bounds"] == {"bm25": [None, 100.0]}
        for bounds, field in (({"dense": [1, 0]}, "bounds"), ({"dense": [0]}, "bounds"), ({"dense": ["0", 1]}, "bounds")):
            refused = client.post("/search", json={"query": QUERY, "fusion": {"norm": "minmax", "bounds": bounds}})
            assert refused.status_code == 422 and field in json.dumps(refused.json()["detail"]), refused.text
        zscore = client.post("/search", json={"query": QUERY, "fusion": {"norm": "zscore", "bounds": {"dense": [0, 1]}}})
        assert zscore.status_code in (400, 422) and "apply to normalization minmax or tmm" in zscore.text
        unknown = client.post("/search", json={"query": QUERY, "fusion": {"norm": "minmax", "bounds": {"colbert": [0, 1]}}})
        assert (
            unknown.status_code in (400, 422) and "bounds for unknown retriever" in unknown.text and "bounds" in json.dumps(unknown.json()["detail"][0]["loc"])
        )
