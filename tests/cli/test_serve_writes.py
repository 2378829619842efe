"""`braid serve --writable`: POST /docs and DELETE /docs/{id} behind a bearer token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from braid.cli.web.app import create_app
from braid.cli.web.schemas import MAX_BATCH_DOCS
from braid.engine import Engine, build_index
from braid.indexing.manifest import Manifest
from tests.support.cli import assert_one_line_error, braid

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def index(scifact_dir: Path, tmp_path: Path) -> Path:
    lines = (scifact_dir / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[:50]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_index(tmp_path / "corpus.jsonl", tmp_path / "index", ["bm25"], progress=False)
    return tmp_path / "index"


@pytest.fixture
def client(index: Path) -> Iterator[TestClient]:
    with Engine.open(index) as engine, TestClient(create_app(engine, write_token=TOKEN), raise_server_exceptions=False) as client:
        yield client


def test_added_and_deleted_documents_are_searchable_at_once(client: TestClient, index: Path) -> None:
    body = {"documents": [{"id": "new/1", "title": "Zebrafish fin regeneration", "text": "Zebrafish regrow fins after amputation."}]}
    added = client.post("/docs", json=body, headers=AUTH)
    assert added.status_code == 200, added.text
    assert (added.json()["added"], added.json()["generation"]) == (1, 2)
    hits = client.post("/search", json={"query": "zebrafish fin regeneration", "k": 1}).json()["hits"]
    assert hits[0]["doc_id"] == "new/1"
    assert client.get("/doc/new/1").json()["title"] == "Zebrafish fin regeneration"
    deleted = client.delete("/docs/new/1", headers=AUTH)
    assert deleted.status_code == 200 and deleted.json()["deleted"] == 1
    assert client.get("/doc/new/1").status_code == 404
    assert client.delete("/docs/new/1", headers=AUTH).status_code == 404
    assert Manifest.read(index).generation == 3


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": f"Basic {TOKEN}"}])
def test_writes_without_the_token_are_401_and_never_echo_it(client: TestClient, index: Path, headers: dict[str, str]) -> None:
    before = (index / "manifest.json").read_bytes()
    for response in (
        client.post("/docs", json={"documents": [{"id": "x", "text": "y"}]}, headers=headers),
        client.delete("/docs/x", headers=headers),
        client.post("/docs", json={"bad": True}, headers=headers),  # refused before the body is read
    ):
        assert response.status_code == 401 and TOKEN not in response.text
    assert (index / "manifest.json").read_bytes() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"documents": []}, "documents"),
        ({"documents": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]}, "documents"),
        ({"documents": [{"id": "a b", "text": "x"}]}, "id"),
        ({"documents": [{"id": "a", "text": 5}]}, "text"),
        ({"documents": [{"id": "a", "text": "x", "extra": 1}]}, "extra"),
        ({"documents": [{"id": "a", "text": "x"}] * (MAX_BATCH_DOCS + 1)}, "documents"),
    ],
)
def test_bad_batches_are_422_naming_the_field_and_change_nothing(client: TestClient, index: Path, body: dict, field: str) -> None:
    before = (index / "manifest.json").read_bytes()
    response = client.post("/docs", json=body, headers=AUTH)
    assert response.status_code in (413, 422), response.text
    if response.status_code == 422:
        assert field in json.dumps(response.json()["detail"])
    assert (index / "manifest.json").read_bytes() == before


def test_a_read_only_server_has_no_write_routes(index: Path) -> None:
    with Engine.open(index) as engine, TestClient(create_app(engine)) as client:
        assert client.post("/docs", json={"documents": [{"id": "x", "text": "y"}]}, headers=AUTH).status_code in (404, 405)
        assert client.delete("/docs/x", headers=AUTH).status_code in (404, 405)


def test_writable_without_a_token_is_refused(index: Path) -> None:
    assert_one_line_error(braid("serve", str(index), "--writable", env={"BRAID_WRITE_TOKEN": ""}), "--writable needs a token")
