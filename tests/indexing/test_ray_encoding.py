"""Encoding on a local Ray cluster equals encoding here: the same batches, so the same vectors up to
a thread count's last bits, the same index scores, and a worker killed mid-run costs nothing."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from braid.engine import Engine
from braid.engine.build import build_index
from braid.eval.datasets import resolve_dataset
from braid.eval.metrics import evaluate
from braid.fusion.errors import BraidError
from braid.indexing.config import DenseConfig, SpladeConfig
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.splade_vector_files import encode_splade_to_files
from braid.indexing.vector_files import encode_to_files
from tests.support.cli import braid
from tests.support.ray_cluster import local_cluster

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def encoding() -> Iterator[object]:
    from braid.indexing.ray_encoding import RayEncoding

    with local_cluster(2), RayEncoding("auto", workers=2) as cluster:  # joins the cluster started here; leaves it running
        yield cluster


def test_dense_vectors_equal_local_encoding(encoding: object, scifact_small: Path, tmp_path: Path) -> None:
    local = encode_to_files(scifact_small / "corpus.jsonl", DenseConfig(), tmp_path / "local.npy", progress=False)
    remote = encode_to_files(scifact_small / "corpus.jsonl", DenseConfig(), tmp_path / "ray.npy", progress=False, encoding=encoding)  # type: ignore[arg-type]
    here, there = np.load(local.vectors), np.load(remote.vectors)
    assert here.shape == there.shape == (200, 384)
    assert local.ids.read_text() == remote.ids.read_text() and json.loads(local.info.read_text()) == json.loads(remote.info.read_text())
    assert float(np.min(np.sum(here * there, axis=1))) > 0.9999  # unit vectors: cosine
    np.testing.assert_allclose(there, here, atol=2e-3)


def test_splade_weights_equal_local_encoding(encoding: object, scifact_small: Path, tmp_path: Path) -> None:
    local = encode_splade_to_files(scifact_small / "corpus.jsonl", SpladeConfig(), tmp_path / "local.jsonl", progress=False)
    remote = encode_splade_to_files(scifact_small / "corpus.jsonl", SpladeConfig(), tmp_path / "ray.jsonl", progress=False, encoding=encoding)  # type: ignore[arg-type]
    here = [json.loads(line) for line in local.vectors.read_text().splitlines()]
    there = [json.loads(line) for line in remote.vectors.read_text().splitlines()]
    assert [row["id"] for row in here] == [row["id"] for row in there]
    for mine, theirs in zip(here, there):
        common = set(mine["vector"]) & set(theirs["vector"])
        assert len(common) >= 0.98 * max(len(mine["vector"]), len(theirs["vector"]))  # a term at ~0 may cross zero
        assert max(abs(mine["vector"][token] - theirs["vector"][token]) for token in common) < 0.05


def test_an_index_encoded_on_ray_scores_the_same(encoding: object, scifact_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = scifact_small / "corpus.jsonl"
    for built, where in (("local", None), ("ray", encoding)):
        monkeypatch.setenv("BRAID_CACHE", str(tmp_path / f"empty-cache-{built}"))  # really encode, here and on Ray
        build_index(corpus, tmp_path / built, retrievers=["dense", "splade"], progress=False, encoding=where)  # type: ignore[arg-type]
    test = resolve_dataset(str(scifact_small)).load_split("test")
    for name in ("dense", "splade"):
        scores = []
        for built in ("local", "ray"):
            with Engine.open(tmp_path / built, [name]) as engine:
                scores.append(evaluate(engine.run(test.queries), test.qrels, ["ndcg@10", "recall@100"]).means)
            manifest = json.loads((tmp_path / built / "manifest.json").read_text())
            assert manifest["retrievers"][name]["details"]["vectors"] == "encoded"
        for metric in ("ndcg@10", "recall@100"):
            assert round(scores[0][metric], 4) == round(scores[1][metric], 4), (name, metric, scores)


def test_a_killed_worker_is_restarted_and_the_batch_retried(encoding: object, scifact_small: Path, tmp_path: Path) -> None:
    from braid.indexing.ray_encoding import RayEncoding

    assert isinstance(encoding, RayEncoding)
    config = DenseConfig(batch_size=4)  # many small batches: the kill lands mid-run
    twin = encoding.wrap(DenseEncoder(config))
    victim = ray.get(twin.actors[0].pid.remote())
    texts = [line for line in (scifact_small / "corpus.jsonl").read_text().splitlines()][:120]
    results: dict[str, np.ndarray] = {}
    worker = threading.Thread(target=lambda: results.setdefault("vectors", twin.encode_documents(texts)))
    worker.start()
    time.sleep(1.0)
    os.kill(victim, signal.SIGKILL)
    worker.join(timeout=300)
    assert not worker.is_alive() and results["vectors"].shape == (120, 384)
    assert ray.get(twin.actors[0].pid.remote()) != victim  # the actor came back in a new process
    np.testing.assert_allclose(results["vectors"], DenseEncoder(config).encode_documents(texts), atol=2e-3)


def test_more_workers_than_cpus_is_refused(encoding: object) -> None:
    from braid.indexing.ray_encoding import RayEncoding

    with pytest.raises(BraidError, match=r"^--ray-workers 3 x 1 thread\(s\) needs 3 CPUs; the Ray cluster has 2$"):
        RayEncoding("auto", workers=3)


def test_without_ray_the_option_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from braid.indexing.ray_encoding import RayEncoding

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(BraidError, match=r"^--ray needs Ray: pip install 'braid\[ray\]'$"):
        RayEncoding("local")


def test_encode_cli_on_a_local_cluster(scifact_small: Path, tmp_path: Path) -> None:
    result = braid("encode", str(scifact_small), "--out", str(tmp_path / "v.npy"), "--ray", "local", "--ray-workers", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["documents"] == 200 and np.load(tmp_path / "v.npy").shape == (200, 384)
    refused = braid("encode", str(scifact_small), "--out", str(tmp_path / "w.npy"), "--ray-workers", "2")
    assert refused.returncode != 0 and refused.stderr.strip() == "braid: error: --ray-workers needs --ray ADDRESS"
