"""The hybrid engine over 200 real SciFact documents: parallel retrieval, fusion, explanations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from braid.engine import BraidError, Engine
from braid.fusion.config import FusionConfig
from braid.indexing.readers import read_queries
from braid.indexing.tuned_fusion import write_tuned


@pytest.fixture(scope="module")
def queries(scifact_small: Path) -> list[str]:
    return [query.text for query in read_queries(scifact_small / "queries.jsonl").values()][:40]


def test_parallel_retrieval_and_fusion_equal_serial(three_way_small_index: Path, queries: list[str]) -> None:
    with Engine.open(three_way_small_index) as engine:
        assert list(engine.retrievers) == ["bm25", "splade", "dense"]
        parallel = engine.retrieve(queries, 100)
        serial = {name: retriever.search(queries, 100) for name, retriever in engine.retrievers.items()}
        assert parallel == serial
        assert engine.fuse(queries, parallel, 10) == engine.fuse(queries, serial, 10)
        assert [hit.doc_id for hit in engine.search(queries[0], k=10)] == [hit.doc_id for hit in engine.fuse(queries[:1], serial, 10)[0]]


def test_every_hit_explains_its_fused_score(three_way_small_index: Path, queries: list[str]) -> None:
    config = FusionConfig(norm="minmax", missing="zero", weights={"bm25": 0.2, "splade": 0.3, "dense": 0.5})
    with Engine.open(three_way_small_index, fusion=config) as engine:
        hits = engine.search(queries[3], k=20)
    assert [hit.rank for hit in hits] == list(range(1, 21))
    for hit in hits:
        assert set(hit.sources) == {"bm25", "splade", "dense"}
        assert hit.score == pytest.approx(sum(config.weights[name] * part.normalized for name, part in hit.sources.items()))
        assert all(0.0 <= part.normalized <= 1.0 for part in hit.sources.values())
        assert all((part.rank is None) == (part.score is None) for part in hit.sources.values())
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_exact_policy_fills_in_real_scores(three_way_small_index: Path, queries: list[str]) -> None:
    with Engine.open(three_way_small_index, fusion=FusionConfig(missing="exact")) as engine:
        hits = engine.search(queries[5], k=30, depth=10)
        vectors = np.load(three_way_small_index / "dense" / "embeddings.npy")
        ids = engine.docstore.ids()
        query_vector = engine.retrievers["dense"].encode([queries[5]])[0]
    filled = [(hit, part) for hit in hits for name, part in hit.sources.items() if name == "dense" and part.rank is None]
    assert filled, "depth 10 per retriever should leave some fused hits unseen by dense"
    for hit, part in filled:
        assert part.score == pytest.approx(float(vectors[ids.index(hit.doc_id)] @ query_vector), abs=1e-5)


def test_tuned_fusion_is_the_default_and_overrides_apply(three_way_small_index: Path, tmp_path: Path) -> None:
    import shutil

    index = tmp_path / "index"
    shutil.copytree(three_way_small_index, index)
    tuned = FusionConfig(method="rrf", rrf_k=20, weights={"bm25": 0.5, "dense": 0.5})
    write_tuned(index, tuned, {"split": "test"})
    with Engine.open(index) as engine:
        assert engine.fusion == tuned
    with Engine.open(index, ["bm25", "splade"]) as engine:  # the tuned weights name dense: not usable
        assert engine.fusion == FusionConfig()


def test_bad_retriever_names_and_weights(three_way_small_index: Path) -> None:
    with pytest.raises(BraidError, match="unknown retriever 'colbert'; choose from bm25, splade, dense"):
        Engine.open(three_way_small_index, ["bm25", "colbert"])
    with pytest.raises(BraidError, match="weight for unknown retriever 'dense'; searching: bm25, splade"):
        Engine.open(three_way_small_index, ["bm25", "splade"], fusion=FusionConfig(weights={"dense": 1.0}))


def test_a_parallel_search_leaves_torch_threads_as_they_were(three_way_small_index: Path, queries: list[str]) -> None:
    import torch

    with Engine.open(three_way_small_index) as engine:
        engine.search(queries[0], k=5)
        before = torch.get_num_threads()
        for query in queries[:10]:
            engine.search(query, k=5)
    assert torch.get_num_threads() == before
