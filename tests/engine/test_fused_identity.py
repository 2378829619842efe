"""The engine's fused search equals fusion as it was done on string ids (tests/fusion/reference.py),
bit for bit: hits, fused scores, ranks, tie-breaks and explanations, for every normalization and
missing-document policy, RRF, pages, filters, an index with several segments and deletions, a
single retriever, and a retriever that only speaks doc ids (a plugin)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from braid.engine import Engine, build_index
from braid.engine.writer import IndexWriter, MergePolicy
from braid.eval.synthetic_metadata import metadata_of, write_side_file
from braid.fusion.config import FusionConfig
from braid.indexing.readers import Document, read_corpus, write_corpus
from tests.fusion import reference

WEIGHTS = {"bm25": 0.2, "splade": 0.3, "dense": 0.5}
CONFIGS = [
    *[
        FusionConfig(method="cc", norm=norm, missing=missing, weights=WEIGHTS)
        for norm in ("minmax", "zscore", "tmm", "none")
        for missing in ("min", "zero", "exact")
    ],
    FusionConfig(method="cc", norm="minmax", missing="exact", weights={"bm25": 1.0}),  # the others weigh 0 but explain
    FusionConfig(method="rrf"),
    FusionConfig(method="rrf", rrf_k=5, rrf_k_per_list={"dense": 20.0}, weights={"bm25": 2.0, "splade": 1.0, "dense": 0.5}),
    FusionConfig(),
]
FILTERS: list[Any] = [
    None,
    {"range": {"bucket": {"lt": 500}}},
    {"range": {"bucket": {"lt": 100}}},
    {"and": [{"terms": {"category": ["c1", "c2"]}}, {"range": {"published": {"gte": "2000-01-01"}}}]},
]


def _label(config: FusionConfig) -> str:
    return f"{config.method}-{config.norm}-{config.missing}-{','.join(f'{k}={v:g}' for k, v in config.weights.items())}"


@pytest.fixture(scope="module")
def queries(scifact_small: Path) -> list[str]:
    with (scifact_small / "queries.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle][:24]


@pytest.fixture(scope="module")
def written_index(scifact_dir: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """70 SciFact documents with synthetic metadata in two segments: 50 built, 20 added, 3 updated, 6 deleted."""
    folder = tmp_path_factory.mktemp("written")
    corpus = read_corpus(scifact_dir / "corpus.jsonl")
    documents = [next(corpus) for _ in range(70)]
    side = write_side_file((doc.doc_id for doc in documents[:50]), folder / "metadata.jsonl")
    build_index(write_corpus(folder / "base.jsonl", documents[:50]), folder / "index", ["bm25", "splade", "dense"], progress=False, metadata=side)
    with_metadata = [Document(doc.doc_id, doc.title, doc.text, metadata_of(doc.doc_id)) for doc in documents]
    updated = [Document(doc.doc_id, doc.title, f"{doc.text[:150]} revised", doc.metadata) for doc in with_metadata[3:6]]
    with IndexWriter(folder / "index", MergePolicy(max_segments=100, max_deleted_fraction=1.0)) as writer:
        writer.add(with_metadata[50:] + updated)
        writer.delete([doc.doc_id for doc in documents[20:26]])
    return folder / "index"


def _same(found: Sequence[Sequence[Any]], expected: Sequence[Sequence[Any]]) -> None:
    """Hits equal field by field (FusedHit or Hit; Contribution compares its floats exactly)."""
    assert [[hit.doc_id for hit in hits] for hits in found] == [[hit.doc_id for hit in hits] for hits in expected]
    assert [[hit.score for hit in hits] for hits in found] == [[hit.score for hit in hits] for hits in expected]
    assert [[hit.sources for hit in hits] for hits in found] == [[hit.sources for hit in hits] for hits in expected]


@pytest.mark.parametrize("config", CONFIGS, ids=_label)
def test_fused_search_and_runs_equal_the_reference(three_way_small_index: Path, queries: list[str], config: FusionConfig) -> None:
    with Engine.open(three_way_small_index, fusion=config) as engine:
        for k, depth in ((10, 20), (30, 50), (25, 10), (200, 200)):
            _same(engine.search_fused(queries, k, depth), reference.search_fused(engine, queries, k, depth))
        run = engine.run(dict(enumerate(queries)), depth=50)  # type: ignore[arg-type]
        expected = reference.search_fused(engine, queries, 50, 50, explain=False)
        assert list(run.values()) == [[(hit.doc_id, hit.score) for hit in hits] for hits in expected]


@pytest.mark.parametrize("config", [CONFIGS[4], CONFIGS[13]], ids=_label)
def test_pages_equal_the_reference(three_way_small_index: Path, queries: list[str], config: FusionConfig) -> None:
    with Engine.open(three_way_small_index, fusion=config) as engine:
        whole = reference.search_fused(engine, queries, 30, 50)
        for offset in (0, 10, 20):
            page = engine.batch_search(queries, k=10, depth=50, offset=offset)
            expected = [hits[offset : offset + 10] for hits in whole]
            _same(list(page.values()), expected)
            assert all([hit.rank for hit in hits] == list(range(offset + 1, offset + 1 + len(hits))) for hits in page.values())


@pytest.mark.parametrize("config", [CONFIGS[1], CONFIGS[5], CONFIGS[8], CONFIGS[13], CONFIGS[14]], ids=_label)
def test_filters_on_segments_with_deletions_equal_the_reference(written_index: Path, queries: list[str], config: FusionConfig) -> None:
    with Engine.open(written_index, fusion=config) as engine:
        assert len(engine.manifest.segments) == 2 and engine.manifest.deleted_docs > 0
        for query_filter in FILTERS:
            for k, depth in ((10, 15), (40, 40)):
                found = engine.search_fused(queries, k, depth, filter=query_filter)
                _same(found, reference.search_fused(engine, queries, k, depth, filter=query_filter))


def test_one_retriever_and_the_string_level_api_equal_the_reference(three_way_small_index: Path, queries: list[str]) -> None:
    config = CONFIGS[5]
    with Engine.open(three_way_small_index, fusion=config) as engine:
        single = engine.view(["splade"], FusionConfig())
        _same(single.search_fused(queries, 10, 30), reference.search_fused(single, queries, 10, 30))
        lists = engine.retrieve(queries, 40)
        assert engine.exact_scores(queries, lists) == reference.exact_scores(engine.retrievers, queries, lists)
        exact = reference.exact_scores(engine.retrievers, queries, lists)
        expected = [
            reference.fuse(config, {name: ranks[i] for name, ranks in lists.items()}, 20, {n: s[i] for n, s in exact.items()}, True)
            for i in range(len(queries))
        ]
        _same(engine.fuse(queries, lists, 20), expected)


class DocIdsOnly:
    """A retriever that answers in doc ids only, as a plugin may: the engine maps them to ordinals."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.name = inner.name

    def search(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> Any:
        return self._inner.search(queries, depth, allowed)

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        return reference.exact_score(self._inner, queries, doc_ids)

    def forget_queries(self) -> None:
        self._inner.forget_queries()

    def close(self) -> None:
        self._inner.close()


def test_a_retriever_speaking_doc_ids_only_fuses_the_same(three_way_small_index: Path, queries: list[str]) -> None:
    config = CONFIGS[5]
    with Engine.open(three_way_small_index, fusion=config) as engine:
        plain = Engine(engine.path, engine.manifest, {**engine.retrievers, "dense": DocIdsOnly(engine.retrievers["dense"])}, engine.docstore, config)
        _same(plain.search_fused(queries, 20, 30), reference.search_fused(engine, queries, 20, 30))


def test_exact_scores_past_the_kept_sums_budget_are_the_same(three_way_small_index: Path, queries: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Sparse searches keep their sums for exact scores up to a budget; rows past it are multiplied again."""
    monkeypatch.setattr("braid.engine.sparse_topk._KEPT_CELLS", 1500)  # a few queries' sums at most
    config = CONFIGS[5]
    with Engine.open(three_way_small_index, fusion=config) as engine:
        _same(engine.search_fused(queries, 30, 50), reference.search_fused(engine, queries, 30, 50))
        _same(engine.search_fused(queries[:3], 30, 50), reference.search_fused(engine, queries[:3], 30, 50))
