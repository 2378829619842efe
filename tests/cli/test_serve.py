"""`braid serve` as a client sees it: a real server process on 127.0.0.1, real HTTP requests."""

from __future__ import annotations

import http.client
import json
import logging
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.cli import assert_one_line_error, braid
from tests.support.server import Served, serve

# Short enough for a test to watch the server close connections, long enough for a loaded machine.
KEEP_ALIVE = 1
REQUEST_TIMEOUT = 2


@pytest.fixture(scope="module")
def strict_server(slashed_index: Path) -> Iterator[Served]:
    """`braid serve` with short keep-alive and request-read timeouts, over the slashed-id index."""
    with serve(slashed_index, "--keep-alive", str(KEEP_ALIVE), "--request-timeout", str(REQUEST_TIMEOUT)) as served:
        yield served


def test_health_describes_the_index(server: str) -> None:
    health = requests.get(f"{server}/health", timeout=10).json()
    assert health["status"] == "ok" and health["documents"] == 200
    assert health["retrievers"] == ["bm25", "splade", "dense"] and health["limits"]["max_k"] == 1000
    assert health["settings"]["dense"]["query_encoder"] == "model" and health["settings"]["bm25"]["k1"] == 0.9


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
_requests = (
    st.fixed_dictionaries(
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
                    "weights": st.dictionaries(
                        st.sampled_from(["bm25", "splade", "dense", "other"]), st.floats(allow_nan=False, allow_infinity=False, min_value=-2, max_value=2)
                    ),
                },
            )
            | _json_values,
        },
    )
    | _json_values
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=_requests)
def test_no_request_body_produces_a_server_error(server: str, body: object) -> None:
    response = requests.post(f"{server}/search", data=json.dumps(body), headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code < 500, (body, response.status_code, response.text[:300])


def test_server_side_failures_are_logged_500s_and_client_mistakes_stay_4xx_naming_the_field(
    slashed_index: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from fastapi.testclient import TestClient

    from braid.cli.web.app import create_app
    from braid.engine.engine import Engine
    from braid.fusion.errors import BraidError

    def damaged(*_: object) -> None:
        raise BraidError("/srv/index/bm25: damaged index file, cannot load")

    caplog.set_level(logging.ERROR)
    with Engine.open(slashed_index) as engine, TestClient(create_app(engine), raise_server_exceptions=False) as client:
        monkeypatch.setattr(engine.retrievers["bm25"], "search", damaged)
        monkeypatch.setattr(engine.docstore, "get", damaged)
        for response in (client.post("/search", json={"query": "cell biology"}), client.get("/doc/pubmed/4983")):
            assert response.status_code == 500, response.text
            detail = response.json()["detail"]
            assert "internal error" in detail and "/srv/index" not in detail and "\n" not in detail
        logged = [record for record in caplog.records if "/srv/index/bm25: damaged index file" in record.getMessage()]
        assert len(logged) == 2 and all(record.exc_info for record in logged)  # the cause, with its traceback, in the server's log

        for body, field in [
            ({"query": "x", "retrievers": ["dense"]}, ["body", "retrievers"]),
            ({"query": "x", "fusion": {"weights": {"bm25": 0}}}, ["body", "fusion"]),
            ({"query": "x", "fusion": {"weights": {"dense": 1}}}, ["body", "fusion", "weights"]),
        ]:
            response = client.post("/search", json=body)
            assert response.status_code == 400, response.text
            assert [problem["loc"] for problem in response.json()["detail"]] == [field]


def _get(port: int, raw_path: str) -> tuple[int, bytes]:
    """GET a path exactly as written: no client-side normalization of "..", "%2e" or "%2F"."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", raw_path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_documents_whose_ids_contain_slashes_are_fetched_and_paths_never_escape(strict_server: Served, slashed_index: Path) -> None:
    from braid.indexing.docstore import DocStore
    from braid.indexing.layout import DOCSTORE_NAME

    hits = requests.post(f"{strict_server.url}/search", json={"query": "cell", "k": 30}, timeout=30).json()["hits"]
    assert any("/" in hit["doc_id"] for hit in hits)
    store = DocStore(slashed_index / DOCSTORE_NAME)
    try:
        ids = store.ids()
        assert sum("/" in doc_id for doc_id in ids) >= 40 and any("%2F" in doc_id for doc_id in ids)
        for doc_id in ids:
            expected = store.get(doc_id)
            assert expected is not None
            for path in (quote(doc_id, safe=""), quote(doc_id, safe="/")):
                status, body = _get(strict_server.port, f"/doc/{path}")
                assert status == 200, (doc_id, body)
                assert json.loads(body) == {"doc_id": doc_id, "title": expected.title, "text": expected.text}
    finally:
        store.close()
    for path in (
        "/doc/../manifest.json",
        "/doc/../../manifest.json",
        "/doc/..%2F..%2Fmanifest.json",
        "/doc/%2e%2e/manifest.json",
        "/doc/%2E%2E%2Fmanifest.json",
        "/doc/pubmed/%2e%2e/%2e%2e/docs.sqlite",
        "/doc/%00",
        "/doc/manifest.json%00",
        "/doc/..%2F..%2Fmanifest.json%00.txt",
        "/doc//etc/passwd",
        "/doc/%2Fetc%2Fpasswd",
    ):
        status, body = _get(strict_server.port, path)
        assert status == 404, (path, body)
        assert set(json.loads(body)) == {"detail"} and b"retrievers" not in body, (path, body)
    for path in ("/page/..%2Fapp.py", "/page/../app.py", "/page/%2e%2e/app.py", "/page/app.js%00"):
        assert _get(strict_server.port, path)[0] == 404, path


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "x", "k": "5"}, ["k"]),
        ({"query": "x", "k": True}, ["k"]),
        ({"query": "x", "k": 5.0}, ["k"]),
        ({"query": "x", "depth": "100"}, ["depth"]),
        ({"query": 5}, ["query"]),
        ({"query": "x", "retrievers": [1]}, ["retrievers", 0]),
        ({"query": "x", "fusion": {"rrf_k": "10"}}, ["fusion", "rrf_k"]),
        ({"query": "x", "fusion": {"rrf_k": False}}, ["fusion", "rrf_k"]),
        ({"query": "x", "fusion": {"weights": {"bm25": "1"}}}, ["fusion", "weights", "bm25"]),
        ({"query": "x", "fusion": {"weights": {"bm25": True}}}, ["fusion", "weights", "bm25"]),
    ],
)
def test_request_fields_are_strictly_typed(server: str, body: dict, field: list) -> None:
    response = requests.post(f"{server}/search", json=body, timeout=30)
    assert response.status_code == 422, response.text
    assert [problem["loc"] for problem in response.json()["detail"]] == [["body", *field]]


def test_health_answers_head_for_probes(server: str) -> None:
    response = requests.head(f"{server}/health", timeout=10)
    assert response.status_code == 200 and response.content == b""


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def _still_open(sockets: list[socket.socket], deadline: float, trickle: list[socket.socket] = ()) -> list[socket.socket]:
    """Wait until the server has closed every socket or `deadline` passes; the sockets in `trickle`
    send one more header line every half second meanwhile (a slow client). Returns those left open."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)
    remaining = set(sockets)
    next_trickle = time.monotonic()
    while remaining and time.monotonic() < deadline:
        if time.monotonic() >= next_trickle:
            next_trickle += 0.5
            for sock in set(trickle) & remaining:
                try:
                    sock.send(b"X-Slow: 1\r\n")
                except OSError:
                    pass  # closed: select sees it
        for key, _ in selector.select(timeout=0.1):
            try:
                closed = key.fileobj.recv(4096) == b""  # type: ignore[union-attr]
            except ConnectionError:
                closed = True
            if closed:
                selector.unregister(key.fileobj)
                remaining.discard(key.fileobj)  # type: ignore[arg-type]
    selector.close()
    return [sock for sock in sockets if sock in remaining]


def test_idle_and_slow_connections_are_closed_within_the_timeouts_and_do_not_starve_requests(strict_server: Served) -> None:
    port = strict_server.port
    connections: list[socket.socket] = []
    try:
        idle = [_connect(port) for _ in range(100)]
        slow_headers = [_connect(port) for _ in range(50)]
        slow_bodies = [_connect(port) for _ in range(30)]
        connections = idle + slow_headers + slow_bodies
        opened = time.monotonic()
        for sock in slow_headers:
            sock.sendall(b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for sock in slow_bodies:
            sock.sendall(b'POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"query": ')
        # 180 connections held open: the health probe and searches are still answered at once.
        assert requests.get(f"{strict_server.url}/health", timeout=5).status_code == 200
        search = requests.post(f"{strict_server.url}/search", json={"query": "cell biology", "k": 3}, timeout=10)
        assert search.status_code == 200 and len(search.json()["hits"]) == 3
        left = _still_open(connections, opened + REQUEST_TIMEOUT + 6, trickle=slow_headers + slow_bodies)
        assert not left, f"{len(left)} of {len(connections)} idle or slow connections still open after {time.monotonic() - opened:.1f} s"
        assert requests.get(f"{strict_server.url}/health", timeout=5).status_code == 200
    finally:
        for sock in connections:
            sock.close()


def test_a_keep_alive_connection_is_closed_once_idle_for_the_keep_alive_time(strict_server: Served) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", strict_server.port, timeout=KEEP_ALIVE + 10)
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("connection") != "close"
        response.read()
        idle_since = time.monotonic()
        assert connection.sock is not None and connection.sock.recv(1) == b""  # the server closed it
        assert time.monotonic() - idle_since < KEEP_ALIVE + 3
    finally:
        connection.close()


def test_connections_beyond_the_concurrency_limit_get_503_until_idle_ones_are_closed(slashed_index: Path) -> None:
    with serve(slashed_index, "--limit-concurrency", "4", "--keep-alive", "3") as served:
        held = [_connect(served.port) for _ in range(4)]
        try:
            assert requests.get(f"{served.url}/health", timeout=5).status_code == 503
            assert not _still_open(held, time.monotonic() + 10)
            assert requests.get(f"{served.url}/health", timeout=5).status_code == 200
        finally:
            for sock in held:
                sock.close()


def test_a_port_in_use_is_a_one_line_error_naming_it(slashed_index: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = braid("serve", str(slashed_index), "--host", "127.0.0.1", "--port", str(port))
    assert_one_line_error(result, f"127.0.0.1:{port}")
    assert "serving" not in result.stderr


def test_serve_help_documents_every_option() -> None:
    import click

    from braid.cli.serve import serve_command

    undocumented = [param.name for param in serve_command.params if isinstance(param, click.Option) and not param.help]
    assert not undocumented
    result = braid("serve", "--help")
    assert result.returncode == 0
    for option in ("--keep-alive", "--request-timeout", "--limit-concurrency"):
        assert option in result.stdout
