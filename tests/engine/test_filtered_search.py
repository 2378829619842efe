"""Filtered search on a SciFact slice with synthetic metadata (a function of each id, so the test
knows what each filter keeps): BM25 and SPLADE return exactly the unfiltered lists restricted to
matching documents; dense (both plans) and fused keep recall@10 >= 0.99 against the exact filtered
answer and return k hits whenever k documents match; after writes, filters equal a rebuild."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from braid.engine import Engine, build_index
from braid.engine.writer import IndexWriter, MergePolicy
from braid.eval.synthetic_metadata import metadata_of, write_side_file
from braid.fusion.errors import BraidError
from braid.indexing.config import DenseConfig
from braid.indexing.readers import Document, read_corpus, write_corpus

# Selectivities 50%, 10%, 3% (fewer than k documents of the slice), 1% (one document of it).
SELECTIVE = [{"range": {"bucket": {"lt": 500}}}, {"range": {"bucket": {"lt": 100}}}, {"range": {"bucket": {"lt": 30}}}, {"range": {"bucket": {"lt": 10}}}]
COMBINED = {"and": [{"terms": {"category": ["c1", "c2"]}}, {"range": {"published": {"gte": "2000-01-01"}}}]}
FILTERS = [*SELECTIVE, COMBINED]


@pytest.fixture(scope="module")
def index(scifact_small: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 200-document slice with a metadata side file (its vectors come from the shared cache)."""
    folder = tmp_path_factory.mktemp("filtered")
    side = write_side_file((document.doc_id for document in read_corpus(scifact_small / "corpus.jsonl")), folder / "metadata.jsonl")
    build_index(scifact_small / "corpus.jsonl", folder / "index", ["bm25", "splade", "dense"], progress=False, metadata=side)
    return folder / "index"


@pytest.fixture(scope="module")
def queries(scifact_small: Path) -> list[str]:
    with (scifact_small / "queries.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle][:30]


def matches(engine: Engine, query: Any) -> set[str]:
    applied = engine.apply_filter(query)
    return {doc for doc, keep in zip(engine.docstore.ids(), applied.allowed.tolist()) if keep}


def test_the_index_keeps_typed_metadata(index: Path) -> None:
    with Engine.open(index, ["bm25"]) as engine:
        assert engine.manifest.metadata == {"bucket": "integer", "category": "keyword", "published": "date"}
        assert engine.docstore.get("4983") == Document("4983", *_title_text(engine, "4983"), metadata_of("4983"))
        kept = [len(matches(engine, query)) for query in SELECTIVE]
    assert kept == [109, 14, 2, 1]


def _title_text(engine: Engine, doc_id: str) -> tuple[str, str]:
    document = engine.docstore.get(doc_id)
    assert document is not None
    return document.title, document.text


@pytest.mark.parametrize("retriever", ["bm25", "splade"])
def test_sparse_lists_are_the_unfiltered_lists_restricted(index: Path, queries: list[str], retriever: str) -> None:
    with Engine.open(index, [retriever]) as engine:
        everything = engine.retrieve(queries, 1000)[retriever]
        for query in FILTERS:
            kept = matches(engine, query)
            found = engine.retrieve(queries, 1000, filter=query)[retriever]
            for full, filtered in zip(everything, found):
                restricted = [(doc, score) for doc, score in full if doc in kept]
                assert [doc for doc, _ in filtered] == [doc for doc, _ in restricted], query
                # Anserini nudges tied scores apart by rank, which moves when neighbours drop out.
                assert [score for _, score in filtered] == pytest.approx([score for _, score in restricted], abs=1e-4)


def recall_at_10(found: Sequence[Sequence[str]], exact: Sequence[Sequence[str]]) -> float:
    pairs = [(set(got[:10]), set(want[:10])) for got, want in zip(found, exact) if want]
    return sum(len(got & want) / len(want) for got, want in pairs) / len(pairs)


@pytest.mark.parametrize("plan", ["auto", "hnsw"])
def test_dense_keeps_recall_and_returns_k_hits(index: Path, queries: list[str], plan: str) -> None:
    with (
        Engine.open(index, ["dense"], options={"dense": {"filter_search": plan}}) as engine,
        Engine.open(index, ["dense"], options={"dense": {"exact": True}}) as exact,
    ):
        for query in FILTERS:
            kept = matches(engine, query)
            found = [[doc for doc, _ in ranking] for ranking in engine.retrieve(queries, 10, filter=query)["dense"]]
            truth = [[doc for doc, _ in ranking] for ranking in exact.retrieve(queries, 10, filter=query)["dense"]]
            assert all(len(ranking) == min(10, len(kept)) and set(ranking) <= kept for ranking in found), query
            assert recall_at_10(found, truth) >= 0.99, query


def test_fused_hits_all_match_and_keep_recall(index: Path, queries: list[str]) -> None:
    with Engine.open(index) as engine, Engine.open(index, options={"dense": {"exact": True}}) as exact:
        for query in FILTERS:
            kept = matches(engine, query)
            found = [[hit.doc_id for hit in hits] for hits in engine.batch_search(queries, k=10, filter=query).values()]
            truth = [[hit.doc_id for hit in hits] for hits in exact.batch_search(queries, k=10, filter=query).values()]
            assert all(len(hits) == min(10, len(kept)) and set(hits) <= kept for hits in found), query
            assert recall_at_10(found, truth) >= 0.99, query
            assert all(
                set(hit.sources) <= {"bm25", "splade", "dense"} for hits in engine.batch_search(queries[:2], k=10, filter=query).values() for hit in hits
            )


def test_a_filter_matching_nothing_gives_no_hits(index: Path) -> None:
    with Engine.open(index) as engine:
        nothing = {"term": {"category": "no-such-category"}}
        assert engine.search("stem cells", k=10, filter=nothing) == []
        assert engine.apply_filter(nothing).describe() == f"filter applied: 0 of {engine.manifest.doc_count} documents match"


def test_lucene_backends_refuse_filters(index: Path) -> None:
    with Engine.open(index, ["bm25"], options={"bm25": {"backend": "lucene"}}) as engine:
        with pytest.raises(BraidError, match="the bm25 lucene backend cannot filter"):
            engine.search("stem cells", filter=SELECTIVE[0])


def test_filters_after_writes_equal_a_rebuild(scifact_dir: Path, embedding_cache_dir: Path, tmp_path: Path) -> None:
    """Adds, an update that moves documents between categories, deletes, then a compaction."""
    corpus = read_corpus(scifact_dir / "corpus.jsonl")
    documents = [Document(doc.doc_id, doc.title, doc.text, metadata_of(doc.doc_id)) for doc in (next(corpus) for _ in range(56))]
    retrievers, configs = ["bm25", "dense"], {"dense": DenseConfig(precision="float32", batch_size=1)}  # vectors independent of batching
    build_index(write_corpus(tmp_path / "base.jsonl", documents[:40]), tmp_path / "live", retrievers, configs, progress=False)
    moved = [Document(doc.doc_id, doc.title, doc.text, {**(doc.metadata or {}), "category": "c-moved"}) for doc in documents[5:10]]
    with IndexWriter(tmp_path / "live", MergePolicy(max_segments=100, max_deleted_fraction=1.0)) as writer:
        writer.add(documents[40:] + moved)
        writer.delete([doc.doc_id for doc in documents[20:25]])
    assert writer.last_report is not None and writer.last_report.replaced == 5  # a metadata change is a change
    survivors = {doc.doc_id: doc for doc in documents if not 20 <= documents.index(doc) < 25}
    survivors.update({doc.doc_id: doc for doc in moved})
    build_index(write_corpus(tmp_path / "survivors.jsonl", survivors.values()), tmp_path / "rebuilt", retrievers, configs, progress=False)
    filters = [*FILTERS, {"term": {"category": "c-moved"}}, {"not": {"term": {"category": "c-moved"}}}]
    queries = ["stem cells and cancer", "vitamin D", "brain white matter development"]

    def answers(path: Path) -> list[list[list[tuple[str, float]]]]:
        with Engine.open(path, options={"dense": {"exact": True}}) as engine:
            return [[[(hit.doc_id, hit.score) for hit in hits] for hits in engine.batch_search(queries, k=10, filter=query).values()] for query in filters]

    def same(found: list[list[list[tuple[str, float]]]], expected: list[list[list[tuple[str, float]]]]) -> None:
        assert [[[doc for doc, _ in hits] for hits in per_filter] for per_filter in found] == [
            [[doc for doc, _ in hits] for hits in per_filter] for per_filter in expected
        ]
        scores = [score for per_filter in found for hits in per_filter for _, score in hits]
        assert scores == pytest.approx([score for per_filter in expected for hits in per_filter for _, score in hits], abs=1e-5)

    expected = answers(tmp_path / "rebuilt")
    same(answers(tmp_path / "live"), expected)
    with IndexWriter(tmp_path / "live") as writer:
        writer.compact()
    same(answers(tmp_path / "live"), expected)
    assert all(len(hits) == 5 for hits in expected[-2])  # the moved documents are found by their new category
