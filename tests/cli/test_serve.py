"""`braid serve` as a client sees it: a real server process on 127.0.0.1, real HTTP requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def test_health_describes_the_index(server: str) -> None:
    health = requests.get(f"{server}/health", timeout=10).json()
    assert health["status"] == "ok" and health["documents"] == 200
    assert health["retrievers"] == ["bm25", "splade", "dense"] and health["limits"]["max_k"] == 1000


def test_search_returns_explained_hits_with_timings(server: str) -> None:
    response = requests.post(f"{server}/search", json={"query": "vitamin D and bone density", "k": 5}, timeout=30)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert [hit["rank"] for hit in payload["hits"]] == [1, 2, 3, 4, 5]
    assert set(payload["timings_ms"]) == {"bm25", "splade", "dense", "fusion", "total"}
    for hit in payload["hits"]:
        assert set(hit["sources"]) == {"bm25", "splade", "dense"} and hit["title"] and hit["snippet"]
    scores = [hit["score"] for hit in payload["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_fusion_settings_in_the_request_change_the_ranking(server: str) -> None:
    def ranked(fusion: dict) -> list[str]:
        response = requests.post(f"{server}/search", json={"query": "cancer cells and chemotherapy", "k": 10, "fusion": fusion}, timeout=30)
        assert response.status_code == 200, response.text
        return [hit["doc_id"] for hit in response.json()["hits"]]

    only_bm25 = ranked({"weights": {"bm25": 1, "splade": 0, "dense": 0}})
    only_dense = ranked({"weights": {"bm25": 0, "splade": 0, "dense": 1}})
    assert only_bm25 != only_dense
    alone = requests.post(f"{server}/search", json={"query": "cancer cells and chemotherapy", "k": 10, "retrievers": ["dense"]}, timeout=30).json()
    assert [hit["doc_id"] for hit in alone["hits"]] == only_dense and alone["fusion"] is None
    rrf = requests.post(f"{server}/search", json={"query": "cancer cells", "fusion": {"method": "rrf", "rrf_k": 10}}, timeout=30).json()
    assert rrf["fusion"]["method"] == "rrf" and rrf["fusion"]["rrf_k"] == 10


def test_documents_by_id(server: str, scifact_small: Path) -> None:
    first = json.loads((scifact_small / "corpus.jsonl").read_text().splitlines()[0])
    document = requests.get(f"{server}/doc/{first['_id']}", timeout=10).json()
    assert document == {"doc_id": first["_id"], "title": first["title"], "text": first["text"]}
    for missing in ("no-such-doc", "..%2F..%2Fmanifest.json", "%2Fetc%2Fpasswd"):
        assert requests.get(f"{server}/doc/{missing}", timeout=10).status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"query": "x", "k": 1001}, 422, "less than or equal to 1000"),
        ({"query": "x" * 1001}, 422, "at most 1000 characters"),
        ({"query": "   "}, 422, "besides white space"),
        ({"query": "x", "depth": 0}, 422, "greater than or equal to 1"),
        ({"query": "x", "fusion": {"weights": {"bm25": -1}}}, 422, "between 0 and"),
        ({"query": "x", "fusion": {"weights": {"bm25": 0, "splade": 0, "dense": 0}}}, 400, "all zero"),
        ({"query": "x", "fusion": {"weights": {"colbert": 1}}}, 400, "colbert"),
        ({"query": "x", "retrievers": ["colbert"]}, 400, "colbert"),
        ({"query": "x", "fusion": {"norm": "sigmoid"}}, 422, "minmax"),
        ({"query": "x", "surprise": 1}, 422, "Extra inputs"),
        ({"k": 5}, 422, "Field required"),
    ],
)
def test_bad_requests_get_a_4xx_naming_the_problem(server: str, body: dict, status: int, fragment: str) -> None:
    response = requests.post(f"{server}/search", json=body, timeout=30)
    assert response.status_code == status, response.text
    assert fragment in response.text


def test_oversized_malformed_and_odd_bodies_are_refused(server: str) -> None:
    huge = requests.post(f"{server}/search", data=json.dumps({"query": "x", "pad": "y" * 100_000}), headers={"content-type": "application/json"}, timeout=30)
    assert huge.status_code == 413
    chunked = requests.post(f"{server}/search", data=iter([b'{"query": "', b"y" * 40_000, b'"}']), headers={"content-type": "application/json"}, timeout=30)
    assert chunked.status_code == 413
    assert requests.post(f"{server}/search", data=b"{not json", headers={"content-type": "application/json"}, timeout=30).status_code == 422
    surrogate = requests.post(f"{server}/search", data=b'{"query": "\\ud800"}', headers={"content-type": "application/json"}, timeout=30)
    assert surrogate.status_code == 422 and "unicode" in surrogate.text


def test_openapi_description_and_page(server: str) -> None:
    spec = requests.get(f"{server}/openapi.json", timeout=10).json()
    assert {"/search", "/health", "/doc/{doc_id}"} <= set(spec["paths"])
    page = requests.get(server, timeout=10)
    assert page.status_code == 200 and "braid" in page.text and "/page/app.js" in page.text
    assert requests.get(f"{server}/page/app.js", timeout=10).status_code == 200
    assert requests.get(f"{server}/page/..%2F..%2Fapp.py", timeout=10).status_code == 404


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**20), max_value=10**20) | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
_requests = st.fixed_dictionaries(
    {"query": st.text(max_size=60) | _json_values},
    optional={
        "k": st.integers(min_value=-5, max_value=1100) | _json_values,
        "depth": st.integers(min_value=-5, max_value=1100) | _json_values,
        "retrievers": st.lists(st.sampled_from(["bm25", "splade", "dense", "x", ""]), max_size=4) | _json_values,
        "fusion": st.fixed_dictionaries(
            {},
            optional={
                "method": st.sampled_from(["cc", "rrf", "x"]),
                "norm": st.sampled_from(["minmax", "zscore", "tmm", "none", "?"]),
                "missing": st.sampled_from(["min", "zero", "exact", "?"]),
                "rrf_k": st.floats(allow_nan=False) | st.integers(),
                "weights": st.dictionaries(st.sampled_from(["bm25", "splade", "dense", "other"]), st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=2)),
            },
        ) | _json_values,
    },
) | _json_values


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=_requests)
def test_no_request_body_produces_a_server_error(server: str, body: object) -> None:
    response = requests.post(f"{server}/search", data=json.dumps(body), headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code < 500, (body, response.status_code, response.text[:300])
