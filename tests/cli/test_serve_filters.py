"""The `filter` field of POST /search, the fields /health lists, and metadata on POST /docs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from braid.cli.web.app import create_app
from braid.engine import Engine
from braid.eval.synthetic_metadata import bucket
from braid.indexing.readers import read_corpus

TOKEN = "filter-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUERY = "vitamin D deficiency and bone health"


@pytest.fixture
def client(metadata_index: Path, tmp_path: Path) -> Iterator[TestClient]:
    index = tmp_path / "index"
    shutil.copytree(metadata_index, index)
    with Engine.open(index) as engine, TestClient(create_app(engine, write_token=TOKEN), raise_server_exceptions=False) as client:
        yield client


def test_health_lists_the_fields_filters_can_use(client: TestClient) -> None:
    assert client.get("/health").json()["fields"] == {"bucket": "integer", "category": "keyword", "published": "date"}


def test_a_filtered_search_returns_matching_documents_and_says_how_many_match(client: TestClient, scifact_small: Path) -> None:
    expected = {doc.doc_id for doc in read_corpus(scifact_small / "corpus.jsonl") if bucket(doc.doc_id) < 250}
    filter = {"range": {"bucket": {"lt": 250}}}
    response = client.post("/search", json={"query": QUERY, "k": 30, "filter": filter})
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["filter"] == {"filter": filter, "fields": ["bucket"], "matched": len(expected), "documents": 200}
    found = [hit["doc_id"] for hit in payload["hits"]]
    assert found and set(found) <= expected
    unfiltered = client.post("/search", json={"query": QUERY, "k": 200}).json()
    assert unfiltered["filter"] is None
    assert found == [hit["doc_id"] for hit in unfiltered["hits"] if hit["doc_id"] in expected][:30]


def test_a_filter_nothing_matches_is_an_empty_answer(client: TestClient) -> None:
    response = client.post("/search", json={"query": QUERY, "filter": {"term": {"category": "nowhere"}}})
    assert response.status_code == 200 and response.json()["hits"] == [] and response.json()["filter"]["matched"] == 0


@pytest.mark.parametrize(
    ("filter", "location", "fragment"),
    [
        ({"term": {"yeer": 2015}}, ["body", "filter", "term"], "unknown field 'yeer'"),
        ({"and": [{"exists": {"field": "bucket"}}, {"term": {"bucket": "ten"}}]}, ["body", "filter", "and", 1, "term", "bucket"], "expected a number"),
        ({"range": {"published": {"gte": "last week"}}}, ["body", "filter", "range", "published", "gte"], "ISO 8601"),
        ({"nor": []}, ["body", "filter"], "unknown operator 'nor'"),
        ("category = c1", ["body", "filter"], "valid dictionary"),
    ],
)
def test_a_bad_filter_is_a_422_naming_the_part(client: TestClient, filter: Any, location: list[Any], fragment: str) -> None:
    response = client.post("/search", json={"query": QUERY, "filter": filter})
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == location and fragment in problem["msg"]


def test_documents_written_with_metadata_are_filtered_at_once(client: TestClient) -> None:
    body = {"documents": [{"id": "new/1", "title": "Vitamin D", "text": QUERY, "metadata": {"bucket": 5000, "category": "fresh", "published": "2026-12-01"}}]}
    assert client.post("/docs", json=body, headers=AUTH).status_code == 200
    found = client.post("/search", json={"query": QUERY, "filter": {"range": {"bucket": {"gte": 1000}}}}).json()
    assert [hit["doc_id"] for hit in found["hits"]] == ["new/1"]


def test_a_document_whose_metadata_breaks_a_field_type_is_refused(client: TestClient) -> None:
    body = {"documents": [{"id": "new/2", "text": QUERY, "metadata": {"bucket": "high"}}]}
    response = client.post("/docs", json=body, headers=AUTH)
    assert response.status_code == 400, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "documents"] and "bucket" in response.json()["detail"][0]["msg"]
    assert client.post("/search", json={"query": QUERY, "filter": {"exists": {"field": "bucket"}}, "k": 200}).json()["filter"]["matched"] == 200
