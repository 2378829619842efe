"""Building the SPLADE sub-index: manifest, cache reuse, pruning, refusal of non-SPLADE models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from braid.engine import BraidError, Engine
from braid.engine.build import build_index
from braid.indexing.config import SpladeConfig
from braid.indexing.impact_matrix import ImpactMatrix
from braid.indexing.manifest import Manifest
from braid.indexing.sparse_encoder import SpladeEncoder


def test_manifest_records_model_and_quantization(splade_small_index: Path) -> None:
    entry = Manifest.read(splade_small_index).retrievers["splade"]
    assert entry.params["model"] == "rasyosef/splade-tiny"
    assert entry.params["scale"] == 100.0 and entry.params["doc_top_terms"] == 0
    assert entry.params["precision"] in ("float32", "bfloat16")  # what ran, never "auto"
    assert entry.details["model_path"].endswith("cognition/model")
    stored = ImpactMatrix.load(splade_small_index / "splade")
    assert stored.impacts.shape == (30522, 200)
    assert np.array_equal(stored.impacts.data, np.rint(stored.impacts.data)) and stored.impacts.data.min() >= 1
    assert (splade_small_index / "splade" / "lucene").is_dir()


def test_rebuilding_reuses_cached_vectors_and_pruning_caps_terms(
    splade_small_index: Path, scifact_small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the corpus was encoded again")

    monkeypatch.setattr(SpladeEncoder, "encode_documents", refuse)
    pruned = build_index(
        scifact_small / "corpus.jsonl", tmp_path / "pruned", retrievers=["splade"], configs={"splade": SpladeConfig(doc_top_terms=32)}, progress=False
    )
    assert pruned.retrievers["splade"].details["vectors"] == "cache"
    impacts = ImpactMatrix.load(tmp_path / "pruned" / "splade").impacts.tocsc()
    assert np.diff(impacts.indptr).max() <= 32
    full = ImpactMatrix.load(splade_small_index / "splade").impacts.tocsc()
    # Each kept impact is the unpruned document's impact for that token.
    for doc in range(0, 200, 37):
        kept = dict(zip(impacts.indices[impacts.indptr[doc] : impacts.indptr[doc + 1]], impacts.data[impacts.indptr[doc] : impacts.indptr[doc + 1]]))
        whole = dict(zip(full.indices[full.indptr[doc] : full.indptr[doc + 1]], full.data[full.indptr[doc] : full.indptr[doc + 1]]))
        assert all(whole[token] == value for token, value in kept.items())
        assert min(kept.values()) >= sorted(whole.values(), reverse=True)[min(31, len(whole) - 1)]
    with (
        Engine.open(tmp_path / "pruned", ["splade"]) as matrix,
        Engine.open(tmp_path / "pruned", ["splade"], options={"splade": {"backend": "lucene"}}) as lucene,
    ):
        assert matrix.search("vitamin D deficiency", k=20) == lucene.search("vitamin D deficiency", k=20)


def test_a_dense_model_as_sparse_model_fails_and_leaves_nothing(scifact_small: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    with pytest.raises(BraidError, match="not a SPLADE model"):
        build_index(
            scifact_small / "corpus.jsonl",
            tmp_path / "bad",
            retrievers=["splade"],
            configs={"splade": SpladeConfig(model="sentence-transformers/all-MiniLM-L6-v2")},
            progress=False,
        )
    assert not (tmp_path / "bad").exists()
    assert not [entry for entry in tmp_path.iterdir() if entry.name.startswith(".")]


def test_an_index_without_lucenes_impact_index_searches_the_same(
    splade_small_index: Path, scifact_small: Path, tmp_path: Path, embedding_cache_dir: Path
) -> None:
    out = tmp_path / "matrix-only"
    manifest = build_index(scifact_small / "corpus.jsonl", out, retrievers=["splade"], configs={"splade": SpladeConfig(lucene_index=False)}, progress=False)
    assert manifest.retrievers["splade"].details["lucene_index"] is None and not (out / "splade" / "lucene").exists()
    assert (ImpactMatrix.load(out / "splade").impacts != ImpactMatrix.load(splade_small_index / "splade").impacts).nnz == 0
    queries = ["vitamin D deficiency", "statins and breast cancer survival"]
    with Engine.open(out) as without, Engine.open(splade_small_index) as with_lucene:
        assert without.retrieve(queries, 50) == with_lucene.retrieve(queries, 50)
    with pytest.raises(BraidError, match="without Lucene's impact index"):
        Engine.open(out, options={"splade": {"backend": "lucene"}})
