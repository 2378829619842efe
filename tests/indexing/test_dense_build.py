"""Building the dense sub-index: manifest, cache reuse, empty documents."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from braid.engine.build import build_index
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.manifest import Manifest


def test_manifest_records_the_model_and_hnsw_settings(hybrid_small_index: Path) -> None:
    entry = Manifest.read(hybrid_small_index).retrievers["dense"]
    assert entry.params["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert entry.params["dimension"] == 384
    assert (entry.params["hnsw_m"], entry.params["ef_construction"], entry.params["ef_search"]) == (16, 200, 200)
    assert entry.params["normalize"] is True and entry.params["max_seq_length"] == 256
    assert entry.params["precision"] in ("float32", "bfloat16")  # what ran, never "auto"
    vectors = np.load(hybrid_small_index / "dense" / "embeddings.npy")
    assert vectors.shape == (200, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert (hybrid_small_index / "dense" / "hnsw.bin").is_file()


def test_rebuilding_an_unchanged_corpus_reuses_the_cached_vectors(
    hybrid_small_index: Path, scifact_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the corpus was encoded again")

    monkeypatch.setattr(DenseEncoder, "encode_documents", refuse)
    again = build_index(scifact_small / "corpus.jsonl", tmp_path / "again", retrievers=["dense"], progress=False)
    assert again.retrievers["dense"].details["vectors"] == "cache"
    assert np.array_equal(np.load(tmp_path / "again" / "dense" / "embeddings.npy"), np.load(hybrid_small_index / "dense" / "embeddings.npy"))


def test_changed_settings_or_corpus_miss_the_cache(scifact_small: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    lines = (scifact_small / "corpus.jsonl").read_text().splitlines()[:20]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(lines) + "\n")
    first = build_index(corpus, tmp_path / "a", retrievers=["dense"], progress=False)
    corpus.write_text("\n".join(lines[:19]) + "\n")
    second = build_index(corpus, tmp_path / "b", retrievers=["dense"], progress=False)
    assert first.retrievers["dense"].details["vectors"] == second.retrievers["dense"].details["vectors"] == "encoded"


def test_empty_documents_get_a_vector_and_keep_ids_aligned(tmp_path: Path, embedding_cache_dir: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    rows = [
        {"_id": "a", "title": "Vitamin D", "text": "Vitamin D and bone health."},
        {"_id": "empty", "title": "", "text": ""},
        {"_id": "c", "title": "", "text": "Statins lower cholesterol."},
    ]
    corpus.write_text("".join(json.dumps(row) + "\n" for row in rows))
    build_index(corpus, tmp_path / "index", retrievers=["dense"], progress=False)
    vectors = np.load(tmp_path / "index" / "dense" / "embeddings.npy")
    assert vectors.shape == (3, 384) and np.isfinite(vectors).all()
    from braid.engine import Engine

    with Engine.open(tmp_path / "index") as engine:
        hits = engine.search("cholesterol lowering drugs", k=3)
    assert [hit.doc_id for hit in hits][0] == "c" and {hit.doc_id for hit in hits} == {"a", "empty", "c"}
