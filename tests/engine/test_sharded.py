"""A sharded index searches as the index it was split from: BM25 and SPLADE lists and scores
equal, dense exact lists equal, fused lists equal, filters and exact scores across shards.
(The shards here live in this process; tests/engine/test_ray_shards.py runs them as Ray actors.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from braid.engine import Engine
from braid.engine.build import build_index
from braid.engine.shard_split import split_index
from braid.engine.writer import IndexWriter
from braid.eval.synthetic_metadata import selectivity_filter, write_side_file
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.indexing.readers import read_corpus
from braid.indexing.shards import ShardLayout, shard_of

QUERIES = [
    "vitamin D deficiency and bone health",
    "gene expression in cancer cells",
    "the the the",  # stopwords only: every retriever gives nothing or little
    "mitochondria",
    "antibiotic resistance of bacteria in hospitals",
    "protein",  # matches many documents: ties at the cut
]


@pytest.fixture(scope="module", params=[2, 4])
def sharded(request: pytest.FixtureRequest, three_way_small_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("shards") / f"scifact-small-{request.param}"
    split_index(three_way_small_index, out, request.param, progress=False)
    return out


def _lists(path: Path, name: str, depth: int, **options: object) -> list[list[tuple[str, float]]]:
    with Engine.open(path, [name], options={name: dict(options)} if options else None) as engine:
        return list(engine.retrieve(QUERIES, depth)[name])


def test_layout_assigns_each_document_to_its_hash(sharded: Path, three_way_small_index: Path) -> None:
    layout = ShardLayout.read(sharded)
    assert layout.doc_count == 200 and len(layout.shards) in (2, 4)
    for number, folder in enumerate(layout.folders(sharded)):
        with Engine.open(folder, ["bm25"]) as shard:
            ids = shard.docstore.ids()
        assert len(ids) == layout.docs[number]
        assert {shard_of(doc_id, len(layout.shards)) for doc_id in ids} == {number}


@pytest.mark.parametrize("name", ["bm25", "splade"])
@pytest.mark.parametrize("depth", [10, 1000])
def test_sparse_lists_and_scores_equal_one_index(sharded: Path, three_way_small_index: Path, name: str, depth: int) -> None:
    assert _lists(sharded, name, depth) == _lists(three_way_small_index, name, depth)


def test_dense_exact_lists_equal_one_index(sharded: Path, three_way_small_index: Path) -> None:
    assert _lists(sharded, "dense", 100, exact=True) == _lists(three_way_small_index, "dense", 100, exact=True)


def test_dense_hnsw_finds_what_exact_search_finds(sharded: Path, three_way_small_index: Path) -> None:
    found, exact = _lists(sharded, "dense", 10), _lists(three_way_small_index, "dense", 10, exact=True)
    recall = np.mean([len({doc for doc, _ in mine} & {doc for doc, _ in truth}) / len(truth) for mine, truth in zip(found, exact) if truth])
    assert recall >= 0.99


@pytest.mark.parametrize("fusion", [FusionConfig(), FusionConfig(method="rrf"), FusionConfig(norm="minmax", missing="exact")])
def test_fused_lists_equal_one_index(sharded: Path, three_way_small_index: Path, fusion: FusionConfig) -> None:
    options = {"dense": {"exact": True}}
    with Engine.open(sharded, fusion=fusion, options=options) as engine:
        mine = engine.run(dict(enumerate(QUERIES)), depth=100)  # type: ignore[arg-type]
    with Engine.open(three_way_small_index, fusion=fusion, options=options) as engine:
        theirs = engine.run(dict(enumerate(QUERIES)), depth=100)  # type: ignore[arg-type]
    assert mine == theirs


def test_filtered_hits_equal_one_index(scifact_small: Path, embedding_cache_dir: Path, tmp_path: Path) -> None:
    """Metadata and filters live in the coordinator; each shard gets its part of the mask."""
    side = write_side_file((document.doc_id for document in read_corpus(scifact_small / "corpus.jsonl")), tmp_path / "metadata.jsonl")
    build_index(scifact_small / "corpus.jsonl", tmp_path / "index", ["bm25", "splade"], progress=False, metadata=side)
    split_index(tmp_path / "index", tmp_path / "shards", 3, progress=False)
    for filter_spec in (selectivity_filter(0.3), {"term": {"category": "c3"}}):
        with Engine.open(tmp_path / "shards") as engine:
            assert engine.manifest.metadata == {"bucket": "integer", "category": "keyword", "published": "date"}
            mine = engine.batch_search(QUERIES, k=10, filter=filter_spec)
        with Engine.open(tmp_path / "index") as engine:
            theirs = engine.batch_search(QUERIES, k=10, filter=filter_spec)
        assert mine == theirs and any(mine.values())


def test_a_sharded_index_refuses_writes_and_bad_splits(sharded: Path, three_way_small_index: Path, tmp_path: Path) -> None:
    with pytest.raises(BraidError, match="sharded index"):
        IndexWriter(sharded)
    with pytest.raises(BraidError, match="between 2 and"):
        split_index(three_way_small_index, tmp_path / "one", 1, progress=False)
    with pytest.raises(BraidError, match="would hold no document"):
        split_index(three_way_small_index, tmp_path / "many", 256, progress=False)
    assert not (tmp_path / "one").exists() and not (tmp_path / "many").exists()
    with pytest.raises(BraidError, match="not a sharded index"):
        Engine.open(three_way_small_index, ray="local")


def test_a_failing_shard_fails_the_search_unless_partial_results_are_accepted(sharded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from braid.engine.shard_answers import ShardAnswers
    from braid.engine.shard_group import ShardError
    from braid.engine.shard_searcher import ShardSearcher

    layout = ShardLayout.read(sharded)
    with Engine.open(sharded, ["bm25"]) as bm25:
        bm25_whole = bm25.search(QUERIES[0], k=200)
    with Engine.open(sharded) as engine:
        real_search = ShardSearcher.search

        def broken(self: ShardSearcher, *args: object) -> object:
            if self.number == 1:
                raise BraidError("disk read error")
            return real_search(self, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(ShardSearcher, "search", broken)
        with pytest.raises(ShardError, match="shard 1 .*disk read error"):
            engine.search(QUERIES[0], k=20)
        answers = ShardAnswers(len(layout.shards))
        partial = engine.search(QUERIES[0], k=20, partial=answers)
        with Engine.open(sharded, ["bm25"]) as bm25:  # one retriever: the whole list without shard 1's documents
            kept = [hit.doc_id for hit in bm25_whole if shard_of(hit.doc_id, len(layout.shards)) != 1]
            assert [hit.doc_id for hit in bm25.search(QUERIES[0], k=20, partial=ShardAnswers(len(layout.shards)))] == kept[:20]
    assert answers.answered == [number for number in range(len(layout.shards)) if number != 1]
    assert list(answers.missing) == [1] and "disk read error" in answers.missing[1]
    assert partial and all(shard_of(hit.doc_id, len(layout.shards)) != 1 for hit in partial)
