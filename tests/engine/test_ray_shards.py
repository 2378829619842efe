"""Shards as Ray actors (a local cluster): the same answers as one index, and a shard actor killed
during a query stream costs no wrong answer, only a wait (Ray restarts it and retries the call)."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from braid.engine import Engine
from braid.engine.shard_group import ShardError
from braid.fusion.config import FusionConfig
from tests.support.cli import braid
from tests.support.ray_cluster import local_cluster

ray = pytest.importorskip("ray")

QUERIES = {"a": "vitamin D deficiency and bone health", "b": "gene expression in cancer cells", "c": "protein", "d": "antibiotic resistance"}


@pytest.fixture(scope="module")
def sharded(three_way_small_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Written by `braid shard`, as a user splits an index."""
    out = tmp_path_factory.mktemp("ray-shards") / "scifact-small-2"
    made = braid("shard", str(three_way_small_index), "--shards", "2", "--out", str(out))
    assert made.returncode == 0, made.stderr
    return out


@pytest.fixture(scope="module")
def cluster(sharded: Path) -> Iterator[None]:
    with local_cluster(2):
        yield


def test_ray_shards_answer_as_one_index(cluster: None, sharded: Path, three_way_small_index: Path) -> None:
    options = {"dense": {"exact": True}}
    for fusion in (FusionConfig(), FusionConfig(method="rrf")):
        with Engine.open(sharded, fusion=fusion, options=options, ray="auto") as engine:
            mine = engine.run(QUERIES, depth=100)
            lists = engine.retrieve(list(QUERIES.values()), 50)
        with Engine.open(three_way_small_index, fusion=fusion, options=options) as engine:
            assert mine == engine.run(QUERIES, depth=100)
            assert lists == engine.retrieve(list(QUERIES.values()), 50)


def test_a_killed_shard_actor_is_restarted_and_no_answer_is_wrong(cluster: None, sharded: Path, three_way_small_index: Path) -> None:
    with Engine.open(three_way_small_index, ["bm25", "splade"]) as engine:
        expected = engine.run(QUERIES, depth=20)
    with Engine.open(sharded, ["bm25", "splade"], ray="auto") as engine:
        group = engine._current.lease.group  # type: ignore[union-attr]
        assert engine.run(QUERIES, depth=20) == expected
        victim = group.pids[1]
        outcomes: list[str] = []
        stop = threading.Event()

        def stream() -> None:
            while not stop.is_set():
                try:
                    outcomes.append("right" if engine.run(QUERIES, depth=20) == expected else "wrong")
                except ShardError as error:
                    outcomes.append(f"error: {error}")

        reader = threading.Thread(target=stream)
        reader.start()
        time.sleep(1.0)
        killed_at = time.perf_counter()
        os.kill(victim, signal.SIGKILL)
        recovered = None
        while time.perf_counter() - killed_at < 90:
            count = len(outcomes)
            time.sleep(0.5)
            if len(outcomes) > count and outcomes[-1] == "right" and group.call("pid", [(), ()])[1] != victim:
                recovered = time.perf_counter() - killed_at
                break
        stop.set()
        reader.join(timeout=120)
    assert "wrong" not in outcomes
    assert all(outcome == "right" or ("shard 1" in outcome) for outcome in outcomes), outcomes
    assert recovered is not None, outcomes[-5:]
