"""How one query's retrievers run: every way gives the same hits, `auto` measures once per host
and retriever set and stores its choice, and settings override it (Python, env, CLI)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from braid.engine import Engine
from braid.engine import execution as execution_module
from braid.engine.execution import (
    PROBE_BLOCK,
    STORE_NAME,
    Choice,
    candidates,
    in_lanes,
    measure,
    probe_queries,
    resolve_execution,
    run_all,
    store_choice,
    stored_choice,
)
from braid.fusion.errors import BraidError
from tests.support.cli import braid

QUERY = "vitamin D deficiency and bone health"


class Cheap:
    pass


class Encoder:
    encodes_queries = True


class EncoderAhead(Encoder):
    def query_rows(self, queries: list[str]) -> list[str]:
        return queries


def test_resolve_execution_prefers_the_setting_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRAID_EXECUTION", raising=False)
    assert resolve_execution(None) == "auto"
    monkeypatch.setenv("BRAID_EXECUTION", "serial")
    assert resolve_execution(None) == "serial" and resolve_execution("threads") == "threads"
    monkeypatch.setenv("BRAID_EXECUTION", "fast")
    with pytest.raises(BraidError, match="^BRAID_EXECUTION 'fast' is not one of auto, threads, serial, overlap, encode-ahead, encode-first, lanes$"):
        resolve_execution(None)
    with pytest.raises(BraidError, match="^execution 'parallel' is not one of"):
        resolve_execution("parallel")


def test_overlap_is_tried_only_beside_cheap_retrievers_and_encoding_first_only_with_an_encoder_that_can() -> None:
    assert candidates({"bm25": Cheap(), "dense": Encoder()}, cores=2) == ("threads", "serial", "overlap")
    assert candidates({"splade": Encoder(), "dense": Encoder()}, cores=2) == ("threads", "serial")
    assert candidates({"bm25": Cheap(), "other": Cheap()}, cores=2) == ("threads", "serial")
    assert candidates({"bm25": Cheap(), "dense": EncoderAhead()}, cores=2) == ("threads", "serial", "overlap", "encode-ahead", "encode-first")
    assert candidates({"splade": EncoderAhead(), "dense": EncoderAhead()}, cores=2) == ("threads", "serial", "encode-ahead", "encode-first")
    assert candidates({"dense": EncoderAhead()}, cores=2) == ("threads", "serial")


def test_lanes_is_tried_only_with_more_retrievers_than_cores_and_at_least_two_cores() -> None:
    three = {"bm25": Cheap(), "splade": EncoderAhead(), "dense": EncoderAhead()}
    assert candidates(three, cores=2) == ("threads", "serial", "overlap", "encode-ahead", "encode-first", "lanes")
    assert "lanes" not in candidates(three, cores=1) and "lanes" not in candidates(three, cores=3)


def test_each_way_runs_where_it_says() -> None:
    here = threading.get_ident()
    seen: dict[str, tuple[bool, int | None]] = {}

    def run_one(name: str, threads: int | None) -> str:
        seen[name] = (threading.get_ident() == here, threads)
        return name.upper()

    names, expensive = ["bm25", "splade", "dense"], [False, True, True]
    with ThreadPoolExecutor(3) as pool:
        for way, expected in (
            ("threads", {"bm25": (False, 1), "splade": (False, 1), "dense": (False, 1)}),
            ("serial", {"bm25": (True, None), "splade": (True, None), "dense": (True, None)}),
            ("overlap", {"bm25": (False, 1), "splade": (True, None), "dense": (True, None)}),
        ):
            seen.clear()
            assert run_all(way, names, expensive, run_one, pool) == {"bm25": "BM25", "splade": "SPLADE", "dense": "DENSE"}
            assert seen == expected, way


def test_lanes_run_one_thread_per_core_the_encoders_first_then_whoever_is_free_takes_the_rest() -> None:
    """Two cores, three retrievers: the encoders start at once (each waits to see the other start),
    one core each; the cheap one runs after an encoder, in that encoder's thread, never in the caller's."""
    here = threading.get_ident()
    started: dict[str, tuple[int, int | None]] = {}
    both_encoding = threading.Barrier(2, timeout=10)
    lock = threading.Lock()

    def run_one(name: str, threads: int | None) -> str:
        with lock:
            started[name] = (threading.get_ident(), threads)
        if name != "bm25":
            both_encoding.wait()
        return name.upper()

    with ThreadPoolExecutor(3) as pool:
        found = in_lanes(["bm25", "splade", "dense"], [False, True, True], run_one, pool, cores=2)
    assert found == {"bm25": "BM25", "splade": "SPLADE", "dense": "DENSE"} and list(found) == ["bm25", "splade", "dense"]
    assert list(started)[:2] in (["splade", "dense"], ["dense", "splade"]) and list(started)[2] == "bm25"
    lanes = {started["splade"][0], started["dense"][0]}
    assert len(lanes) == 2 and here not in lanes and started["bm25"][0] in lanes
    assert {threads for _, threads in started.values()} == {1}


def test_encode_ahead_and_encode_first_encode_before_every_search_here() -> None:
    """encode-ahead: in threads, one core each; encode-first: here, one after another, every core."""
    here = threading.get_ident()
    events: list[tuple[str, str, bool, int | None]] = []
    lock = threading.Lock()

    def run_one(name: str, threads: int | None) -> str:
        with lock:
            events.append(("search", name, threading.get_ident() == here, threads))
        return name.upper()

    def encode_one(name: str, threads: int | None) -> None:
        with lock:
            events.append(("encode", name, threading.get_ident() == here, threads))

    names, expensive, ahead = ["bm25", "splade", "dense"], [False, True, True], [False, True, True]
    searches = [("search", "bm25", True, None), ("search", "splade", True, None), ("search", "dense", True, None)]
    with ThreadPoolExecutor(3) as pool:
        assert run_all("encode-ahead", names, expensive, run_one, pool, encode_one, ahead) == {"bm25": "BM25", "splade": "SPLADE", "dense": "DENSE"}
        assert sorted(events[:2]) == [("encode", "dense", False, 1), ("encode", "splade", False, 1)]
        assert events[2:] == searches
        events.clear()
        assert run_all("encode-first", names, expensive, run_one, pool, encode_one, ahead) == {"bm25": "BM25", "splade": "SPLADE", "dense": "DENSE"}
        assert events == [("encode", "splade", True, None), ("encode", "dense", True, None), *searches]


def test_measure_picks_the_fastest_median_and_starts_every_timing_cold() -> None:
    cost = {"threads": 0.004, "serial": 0.001, "overlap": 0.003}
    order: list[str] = []
    forgotten = []
    ended: list[str] = []

    def search_once(way: str, query: str) -> None:
        order.append(way)
        threading.Event().wait(cost[way])

    queries = [f"q{i}" for i in range(PROBE_BLOCK + 1)]  # two turns: a whole block, then one query
    choice = measure(("threads", "serial", "overlap"), search_once, queries, lambda: forgotten.append(1), ended.append)
    assert choice.strategy == "serial" and choice.probes == len(queries)
    assert choice.p50_ms["serial"] < choice.p50_ms["overlap"] < choice.p50_ms["threads"]
    # One warm-up round; then each turn one untimed query and the block, every call cold.
    assert len(forgotten) == 3 * (1 + PROBE_BLOCK) + 3 * (1 + 1) and len(order) == 3 + len(forgotten)
    turn = 1 + PROBE_BLOCK
    assert order[3 : 3 + 3 * turn] == ["threads"] * turn + ["serial"] * turn + ["overlap"] * turn
    assert order[3 + 3 * turn :] == ["threads"] * 2 + ["overlap"] * 2 + ["serial"] * 2  # rotated, and reversed every other turn
    assert ended == ["threads", "serial", "overlap"] * 2 + ["threads", "overlap", "serial"]  # after every warm-up call and turn
    with pytest.raises(BraidError, match="no probe queries"):
        measure(("threads",), search_once, [], lambda: None)


def test_probe_queries_are_short_openings() -> None:
    assert probe_queries(["Vitamin D and the risk of falls in older adults: a trial", "", "  "], words=4) == ["Vitamin D and the"]


def test_the_store_survives_damage_and_keeps_other_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAID_CACHE", str(tmp_path))
    assert stored_choice("k1") is None
    first = Choice("serial", {"threads": 2.0, "serial": 1.0}, 15, "2026-12-04T08:00:00Z")
    store_choice("k1", first)
    store_choice("k2", Choice("threads", {"threads": 1.0, "serial": 2.0}, 15, "2026-12-04T08:00:00Z"))
    assert stored_choice("k1") == first and stored_choice("k2").strategy == "threads"  # type: ignore[union-attr]
    (tmp_path / STORE_NAME).write_text("{not json", encoding="utf-8")
    assert stored_choice("k1") is None
    store_choice("k1", first)  # a damaged store is replaced, whole
    assert json.loads((tmp_path / STORE_NAME).read_text(encoding="utf-8")) == {"k1": first.to_dict()}


def test_every_way_gives_the_same_hits(three_way_small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAID_CACHE", str(tmp_path))
    found = {}
    for way in ("threads", "serial", "overlap", "encode-ahead", "encode-first", "lanes"):
        with Engine.open(three_way_small_index, execution=way) as engine:
            found[way] = [(hit.doc_id, hit.score, {name: (part.rank, part.score) for name, part in hit.sources.items()}) for hit in engine.search(QUERY, k=20)]
            assert engine.execution_choice() is None and engine.describe_execution() == {"setting": way, "chosen": None}
    assert found["threads"] == found["serial"] == found["overlap"] == found["encode-ahead"] == found["encode-first"] == found["lanes"]
    assert not (tmp_path / STORE_NAME).exists()  # only auto measures


def test_auto_measures_once_then_reads_the_store(three_way_small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAID_CACHE", str(tmp_path))
    monkeypatch.delenv("BRAID_EXECUTION", raising=False)
    with Engine.open(three_way_small_index) as engine:
        assert engine.execution == "auto" and engine.execution_choice() is None
        engine.search(QUERY, k=5)
        choice = engine.execution_choice()
        ways = set(candidates(engine.retrievers))  # lanes too on a host with fewer than three cores
        assert {"threads", "serial", "overlap", "encode-ahead", "encode-first"} <= ways
        assert choice is not None and choice.strategy in ways and set(choice.p50_ms) == ways
        assert engine.describe_execution() == {"setting": "auto", "chosen": choice.to_dict()}
        pair = engine.view(["bm25", "dense"])
        pair.search(QUERY, k=5)  # another retriever set: its own measurement
        assert engine.execution_choice(["bm25", "dense"]) is not None
    stored = json.loads((tmp_path / STORE_NAME).read_text(encoding="utf-8"))
    assert len(stored) == 2 and choice.to_dict() in stored.values()

    def refuse(*_: object) -> Choice:
        raise AssertionError("measured again although a choice is stored")

    monkeypatch.setattr(execution_module, "measure", refuse)
    monkeypatch.setattr("braid.engine.engine.measure", refuse)
    with Engine.open(three_way_small_index) as engine:
        engine.search(QUERY, k=5)
        assert engine.execution_choice() == choice
    monkeypatch.undo()
    monkeypatch.setenv("BRAID_CACHE", str(tmp_path))
    monkeypatch.delenv("BRAID_EXECUTION", raising=False)
    older = {key: {**entry, "p50_ms": {"threads": 1.0, "serial": 2.0}, "strategy": "threads"} for key, entry in stored.items()}
    (tmp_path / STORE_NAME).write_text(json.dumps(older), encoding="utf-8")  # as stored before the other ways existed
    with Engine.open(three_way_small_index) as engine:
        engine.search(QUERY, k=5)
        remeasured = engine.execution_choice()
        assert remeasured is not None and set(remeasured.p50_ms) == ways


def test_probe_threads_end_with_every_turn_and_release_threads_ends_the_engines(
    three_way_small_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live thread that ran torch slows the calling thread's torch (braid.engine.execution): the
    probes' threads must be gone once measured, and a benchmark can end the engine's between turns."""
    monkeypatch.setenv("BRAID_CACHE", str(tmp_path))
    monkeypatch.delenv("BRAID_EXECUTION", raising=False)

    def named(prefix: str) -> set[threading.Thread]:
        return {thread for thread in threading.enumerate() if thread.name.startswith(prefix)}

    earlier = named("braid-")  # other tests' engines may still hold theirs
    with Engine.open(three_way_small_index) as engine:
        engine.calibrate(force=True)
        assert named("braid-probe") - earlier == set()
        threaded = engine.view(execution="threads")
        threaded.search(QUERY, k=5)
        mine = named("braid-retriever") - earlier
        assert mine
        engine.release_threads()
        assert not any(thread.is_alive() for thread in mine)
        assert [hit.doc_id for hit in threaded.search(QUERY, k=5)]  # a new pool starts with the next search


def test_the_cli_and_http_take_and_show_the_setting(three_way_small_index: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from braid.cli.web.app import create_app

    serial = braid("search", str(three_way_small_index), QUERY, "--execution", "serial", "--json", env={"BRAID_CACHE": str(tmp_path)})
    threads = braid("search", str(three_way_small_index), QUERY, "--json", env={"BRAID_CACHE": str(tmp_path), "BRAID_EXECUTION": "threads"})
    assert serial.returncode == 0 and threads.returncode == 0, serial.stderr + threads.stderr
    assert json.loads(serial.stdout)["hits"] == json.loads(threads.stdout)["hits"]
    refused = braid("search", str(three_way_small_index), QUERY, "--execution", "fast")
    assert refused.returncode == 2 and "'fast' is not one of" in refused.stderr
    with Engine.open(three_way_small_index, execution="overlap") as engine, TestClient(create_app(engine)) as client:
        assert client.get("/health").json()["execution"] == {"setting": "overlap", "chosen": None}


def test_torch_threads_are_set_per_thread_and_batches_get_every_core() -> None:
    """Retriever threads run torch on one core; batch threads and the calling thread on every core,
    even after a retriever thread set one (torch starts a new thread from the last setting anywhere)."""
    import torch

    from braid.engine import engine as engine_module
    from braid.indexing.host import all_cores

    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(engine_module._with_torch_threads, 1, torch.get_num_threads).result() == 1
        assert pool.submit(torch.get_num_threads).result() == 1  # left as set: no team kept alive by setting it back
    batch = engine_module._in_batch_threads({"a": Cheap(), "b": Cheap()}, None, lambda *_: torch.get_num_threads(), ["q"] * 20, 10, None)
    assert batch == {"a": all_cores(), "b": all_cores()}
    assert engine_module._with_torch_threads(None, torch.get_num_threads) == all_cores()


def test_every_core_encoding_of_a_single_query_runs_in_one_thread_whoever_asks(three_way_small_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each thread that runs torch on every core keeps an OpenMP team, and two teams slow each other
    (braid.engine.all_cores): single queries from any thread encode in the one all-cores thread;
    one-core retriever threads and searches without an encoder stay where they were."""
    from braid.engine import engine as engine_module

    calls: list[tuple[threading.Thread, int | None]] = []
    original = engine_module._with_torch_threads

    def recording(threads: int | None, function: object, *args: object) -> object:
        calls.append((threading.current_thread(), threads))
        return original(threads, function, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine_module, "_with_torch_threads", recording)
    callers = {threading.current_thread()}
    with Engine.open(three_way_small_index, execution="serial") as engine:

        def search() -> None:
            callers.add(threading.current_thread())
            engine.search(QUERY, k=5)
            engine.forget_queries()

        search()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda _: search(), range(4)))
        every_core = {thread for thread, threads in calls if threads is None}
        assert len(every_core) == 1 and not every_core & callers and len(callers) == 3
        calls.clear()
        engine.view(execution="threads").search("bone density", k=5)
        assert {threads for _, threads in calls} == {1} and all(thread.name.startswith("braid-retriever") for thread, _ in calls)
        calls.clear()
        engine.view(["bm25"]).search("bone density", k=5)  # no encoder: no hand-off
        assert calls == [(threading.current_thread(), None)]
