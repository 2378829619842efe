"""Pages of hits agree with one longer list (fusion runs over the same `depth` candidates), through
Python, the CLI and HTTP; a page past the candidates is an error, never a short page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from braid.cli.web.app import create_app
from braid.engine import Engine
from braid.fusion.errors import BraidError
from tests.support.cli import assert_one_line_error, braid

QUERY = "vitamin D deficiency and bone health"


def test_pages_equal_slices_of_one_list(three_way_small_index: Path) -> None:
    with Engine.open(three_way_small_index) as engine:
        whole = engine.search(QUERY, k=30, depth=50)
        pages = [engine.search(QUERY, k=10, depth=50, offset=offset) for offset in (0, 10, 20)]
        assert [(hit.doc_id, hit.score, hit.rank) for page in pages for hit in page] == [(hit.doc_id, hit.score, hit.rank) for hit in whole]
        assert pages[1][0].rank == 11
        with pytest.raises(BraidError, match="offset 45 \\+ k 10 goes past the 50 candidates"):
            engine.search(QUERY, k=10, depth=50, offset=45)
        with pytest.raises(BraidError, match="offset must be 0 or more"):
            engine.search(QUERY, k=10, offset=-1)


def test_pages_through_the_cli_and_http(three_way_small_index: Path) -> None:
    first = braid("search", str(three_way_small_index), QUERY, "-k", "4", "--depth", "20", "--json")
    second = braid("search", str(three_way_small_index), QUERY, "-k", "2", "--depth", "20", "--offset", "2", "--json")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert [hit["doc_id"] for hit in json.loads(second.stdout)["hits"]] == [hit["doc_id"] for hit in json.loads(first.stdout)["hits"]][2:]
    assert_one_line_error(braid("search", str(three_way_small_index), QUERY, "-k", "10", "--depth", "20", "--offset", "15"), "goes past the 20 candidates")
    with Engine.open(three_way_small_index) as engine, TestClient(create_app(engine)) as client:
        whole = client.post("/search", json={"query": QUERY, "k": 6, "depth": 30}).json()["hits"]
        page = client.post("/search", json={"query": QUERY, "k": 3, "depth": 30, "offset": 3}).json()
        assert page["offset"] == 3 and [hit["doc_id"] for hit in page["hits"]] == [hit["doc_id"] for hit in whole[3:]]
        refused = client.post("/search", json={"query": QUERY, "k": 10, "depth": 30, "offset": 25})
        assert refused.status_code == 422 and "offset" in json.dumps(refused.json()["detail"])
