"""Dense retrieval over 200 real SciFact documents with the packaged all-MiniLM-L6-v2."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from braid.engine import BraidError, Engine
from braid.engine.retriever import retriever_settings
from braid.indexing.models import resolve_model
from braid.indexing.readers import read_queries


@pytest.fixture(scope="module")
def queries(scifact_small: Path) -> list[str]:
    return [query.text for query in read_queries(scifact_small / "queries.jsonl").values()][:100]


def test_hnsw_recall_at_10_against_exact_search(hybrid_small_index: Path, queries: list[str]) -> None:
    with (
        Engine.open(hybrid_small_index, retrievers=["dense"]) as approximate,
        Engine.open(hybrid_small_index, retrievers=["dense"], options={"dense": {"exact": True}}) as exact,
    ):
        found = approximate.retrievers["dense"].search(queries, depth=10)
        truth = exact.retrievers["dense"].search(queries, depth=10)
    recall = np.mean([len({d for d, _ in a} & {d for d, _ in b}) / 10 for a, b in zip(found, truth)])
    assert recall >= 0.99
    for ranking in truth:
        scores = [score for _, score in ranking]
        assert scores == sorted(scores, reverse=True) and -1.0 <= scores[-1] <= scores[0] <= 1.0 + 1e-5


def test_hnsw_scores_are_cosine_similarities(hybrid_small_index: Path, queries: list[str]) -> None:
    with Engine.open(hybrid_small_index, retrievers=["dense"]) as engine:
        retriever = engine.retrievers["dense"]
        vectors = np.load(hybrid_small_index / "dense" / "embeddings.npy")
        ids = engine.docstore.ids()
        (ranking,) = retriever.search(queries[:1], depth=5)
        query = retriever.encode(queries[:1])[0]
        for doc_id, score in ranking:
            assert score == pytest.approx(float(vectors[ids.index(doc_id)] @ query), abs=1e-5)


def test_dense_search_finds_the_judged_document(hybrid_small_index: Path, scifact_small: Path) -> None:
    from braid.eval.datasets import resolve_dataset
    from braid.eval.metrics import evaluate

    split = resolve_dataset(str(scifact_small)).load_split("test")
    with Engine.open(hybrid_small_index, retrievers=["dense"]) as engine:
        result = evaluate(engine.run(split.queries, depth=100), split.qrels)
    assert result.means["ndcg@10"] > 0.6  # a 200-doc slice is easy; a broken encoder scores near 0


def test_model_of_another_dimension_is_refused(hybrid_small_index: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(hybrid_small_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["retrievers"]["dense"]["params"]["dimension"] = 768
    (copy / "manifest.json").write_text(json.dumps(manifest))
    with Engine.open(copy, retrievers=["dense"]) as engine, pytest.raises(BraidError, match="768"):
        engine.search("vitamin D", k=3)


def test_unknown_model_offline_names_what_is_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(BraidError, match=r"model 'acme/no-such-model' cannot be loaded: offline.*available locally: .*all-MiniLM-L6-v2"):
        resolve_model("acme/no-such-model")
    assert Path(resolve_model("sentence-transformers/all-MiniLM-L6-v2"), "config.json").is_file()
    assert resolve_model("all-MiniLM-L6-v2") == resolve_model("sentence-transformers/all-MiniLM-L6-v2")


def test_auto_precision_is_resolved_from_the_cpu() -> None:
    from braid.indexing.config import DenseConfig, cpu_has_native_bf16

    expected = "bfloat16" if cpu_has_native_bf16() else "float32"
    assert DenseConfig().with_concrete_precision().precision == expected
    assert DenseConfig(precision="float32").with_concrete_precision().precision == "float32"
    with pytest.raises(BraidError, match="precision 'fp8'"):
        DenseConfig(precision="fp8")


@pytest.mark.skipif("not __import__('braid.indexing.config', fromlist=['x']).cpu_has_native_bf16()", reason="bfloat16 is emulated on this CPU")
def test_bfloat16_vectors_agree_with_float32(scifact_small: Path) -> None:
    from braid.indexing.config import DenseConfig
    from braid.indexing.dense_encoder import DenseEncoder
    from braid.indexing.readers import read_corpus
    from braid.indexing.text_chunks import encoder_text

    texts = [encoder_text(document) for document in read_corpus(scifact_small / "corpus.jsonl")][:48]
    full = DenseEncoder(DenseConfig(precision="float32")).encode_documents(texts)
    half = DenseEncoder(DenseConfig(precision="bfloat16")).encode_documents(texts)
    assert np.allclose(np.linalg.norm(half, axis=1), 1.0, atol=1e-5)
    assert float((full * half).sum(axis=1).min()) > 0.999


def test_single_query_trace_equals_the_eager_batch(queries: list[str]) -> None:
    from braid.indexing.config import DenseConfig
    from braid.indexing.dense_encoder import DenseEncoder

    encoder = DenseEncoder(DenseConfig(precision="float32"))
    batch = encoder.encode_queries(queries[:12])
    one_by_one = np.vstack([encoder.encode_queries([query]) for query in queries[:12]])
    assert encoder._trace._traced is not None  # the single-text path really ran traced
    assert np.abs(batch - one_by_one).max() < 1e-5


def test_int8_query_encoder_keeps_the_rankings_of_the_model(hybrid_small_index: Path, scifact_small: Path, embedding_cache_dir: Path) -> None:
    from braid.eval.datasets import resolve_dataset
    from braid.eval.metrics import evaluate

    split = resolve_dataset(str(scifact_small)).load_split("test")
    with (
        Engine.open(hybrid_small_index, retrievers=["dense"]) as model,
        Engine.open(hybrid_small_index, retrievers=["dense"], options={"dense": {"query_encoder": "int8"}}) as int8,
    ):
        assert retriever_settings(int8.retrievers["dense"])["query_encoder"] == "int8"
        assert retriever_settings(model.retrievers["dense"])["query_encoder"] == "model"
        ours, theirs = int8.run(split.queries, depth=100), model.run(split.queries, depth=100)
    overlap = np.mean([len({doc for doc, _ in ours[query][:10]} & {doc for doc, _ in theirs[query][:10]}) / 10 for query in split.queries])
    assert overlap >= 0.9, overlap
    quality = {name: evaluate(run, split.qrels).means["ndcg@10"] for name, run in {"int8": ours, "model": theirs}.items()}
    assert abs(quality["int8"] - quality["model"]) < 0.02, quality


def test_unknown_query_encoder_is_refused(hybrid_small_index: Path) -> None:
    with pytest.raises(BraidError, match="^dense query_encoder must be one of model, int8, got 'fp16'$"):
        Engine.open(hybrid_small_index, retrievers=["dense"], options={"dense": {"query_encoder": "fp16"}})


def test_exact_scores_of_a_batch_equal_those_asked_one_query_at_a_time(hybrid_small_index: Path, queries: list[str]) -> None:
    """A batch asking for most documents is scored by one product over every vector, a single query
    by gathering its rows: both sum in float64, so they give the same float32 values."""
    rng = np.random.default_rng(7)
    with Engine.open(hybrid_small_index, retrievers=["dense"]) as engine:
        retriever = engine.retrievers["dense"]
        documents = len(engine.docstore.ids())
        wanted = [rng.choice(documents, size=documents // 2, replace=False) for _ in queries[:30]]
        together = retriever.score_ordinals(queries[:30], wanted)
        alone = [retriever.score_ordinals([query], [rows])[0] for query, rows in zip(queries[:30], wanted)]
    for batch, single in zip(together, alone):
        np.testing.assert_array_equal(batch, single)
