"""Writes to a built index: after every commit, search equals a fresh build of the surviving corpus."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from braid.engine import Engine, build_index
from braid.engine.writer import IndexWriter, MergePolicy
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.indexing.config import DenseConfig, SpladeConfig
from braid.indexing.manifest import Manifest
from braid.indexing.readers import Document, read_corpus, write_corpus

# One document per batch: a vector then depends on its document alone, so an index written in
# pieces and a fresh build hold bit-identical vectors (batching changes float sums otherwise).
ONE_AT_A_TIME = {"dense": DenseConfig(precision="float32", batch_size=1), "splade": SpladeConfig(precision="float32", batch_size=1)}
NO_MERGES = MergePolicy(max_segments=100, max_deleted_fraction=1.0)


def build(folder: Path, name: str, documents: Sequence[Document], retrievers: Sequence[str]) -> Path:
    corpus = write_corpus(folder / f"{name}.jsonl", documents)
    configs = {kind: config for kind, config in ONE_AT_A_TIME.items() if kind in retrievers}
    build_index(corpus, folder / name, retrievers, configs, progress=False)
    return folder / name


@pytest.fixture(scope="module")
def documents(scifact_dir: Path) -> list[Document]:
    corpus = read_corpus(scifact_dir / "corpus.jsonl")
    return [next(corpus) for _ in range(140)]


@pytest.fixture(scope="module")
def queries(scifact_dir: Path) -> list[str]:
    with (scifact_dir / "queries.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle][:40]


def lists(index: Path, retriever: str, queries: Sequence[str], **options: object) -> list[list[tuple[str, float]]]:
    with Engine.open(index, [retriever], options={retriever: options} if options else None) as engine:
        return engine.retrieve(queries, 100)[retriever]


def fused(index: Path, queries: Sequence[str], fusion: FusionConfig) -> list[list[tuple[str, float]]]:
    with Engine.open(index, fusion=fusion, options={"dense": {"exact": True}}) as engine:
        return [[(hit.doc_id, hit.score) for hit in hits] for hits in engine.search_fused(queries, 20, 100, explain=False)]


def test_adds_updates_and_deletes_equal_a_fresh_build(documents: list[Document], queries: list[str], embedding_cache_dir: Path, tmp_path: Path) -> None:
    retrievers = ["bm25", "splade", "dense"]
    index = build(tmp_path, "live", documents[:50], retrievers)
    updated = [Document(doc.doc_id, doc.title, f"{doc.text[:200]} revised") for doc in documents[3:8]]
    with IndexWriter(index, NO_MERGES) as writer:
        writer.add(documents[50:70] + updated)
        writer.delete([doc.doc_id for doc in documents[20:28]] + ["no-such-doc"])
    report = writer.last_report
    assert report is not None
    assert (report.added, report.replaced, report.deleted, report.unknown, report.encoded) == (20, 5, 8, ["no-such-doc"], 25)
    with IndexWriter(index, NO_MERGES) as writer:  # a second segment, deleting from the first two
        writer.add(documents[70:78])
        writer.delete([documents[0].doc_id, documents[55].doc_id])
    survivors = {doc.doc_id: doc for doc in documents[:78]}
    for doc in documents[20:28] + [documents[0], documents[55]]:
        survivors.pop(doc.doc_id)
    survivors.update({doc.doc_id: doc for doc in updated})
    fresh = build(tmp_path, "fresh", list(survivors.values()), retrievers)
    manifest = Manifest.read(index)
    assert (manifest.generation, len(manifest.segments), manifest.doc_count) == (3, 3, len(survivors))

    for retriever in ("bm25", "splade"):
        assert lists(index, retriever, queries) == lists(fresh, retriever, queries), retriever
    exact = lists(index, "dense", queries, exact=True)
    assert exact == lists(fresh, "dense", queries, exact=True)
    approximate = lists(index, "dense", queries)
    found = sum(len({doc for doc, _ in hits[:10]} & {doc for doc, _ in truth[:10]}) for hits, truth in zip(approximate, exact))
    assert found / (10 * len(queries)) >= 0.99
    assert all(doc in survivors for hits in approximate for doc, _ in hits)
    for fusion in (FusionConfig(method="cc", norm="zscore", missing="exact"), FusionConfig(method="rrf")):
        assert fused(index, queries, fusion) == fused(fresh, queries, fusion)

    with pytest.raises(BraidError, match="run `braid compact INDEX` first"):
        lists(index, "bm25", queries, backend="lucene")
    writer = IndexWriter(index)
    try:
        assert writer.compact().segments == 1
    finally:
        writer.close()
    assert Manifest.read(index).segments[0].deleted is None
    assert lists(index, "bm25", queries, backend="lucene") == lists(fresh, "bm25", queries)
    assert lists(index, "splade", queries, backend="lucene") == lists(fresh, "splade", queries)
    assert lists(index, "dense", queries, exact=True) == exact
    assert not (index / "docs.sqlite").exists(), "the first segment's files go once compaction replaced them"


@pytest.fixture
def bm25_index(documents: list[Document], tmp_path: Path) -> Path:
    return build(tmp_path, "index", documents[:60], ["bm25"])


def test_a_batch_that_changes_nothing_makes_no_generation(bm25_index: Path, documents: list[Document]) -> None:
    with IndexWriter(bm25_index) as writer:
        writer.add(documents[:5])  # the same title and text again
    assert writer.last_report is not None and writer.last_report.unchanged == 5 and writer.last_report.encoded == 0
    assert Manifest.read(bm25_index).generation == 1
    with IndexWriter(bm25_index) as writer:
        pass
    assert Manifest.read(bm25_index).generation == 1


def test_bad_batches_are_refused_and_leave_the_index_as_it_was(bm25_index: Path, documents: list[Document], tmp_path: Path) -> None:
    before = (bm25_index / "manifest.json").read_bytes()
    with pytest.raises(BraidError, match="appears twice in this batch"):
        with IndexWriter(bm25_index) as writer:
            writer.add([documents[70], documents[70]])
    with pytest.raises(BraidError, match="empty or holds white space"):
        with IndexWriter(bm25_index) as writer:
            writer.add([Document("a b", "", "text")])
    with pytest.raises(BraidError, match="would delete every document"):
        with IndexWriter(bm25_index) as writer:
            writer.delete(doc.doc_id for doc in documents[:60])
    with pytest.raises(BraidError, match="is not a braid index"):
        IndexWriter(tmp_path / "missing")
    assert (bm25_index / "manifest.json").read_bytes() == before


def test_a_second_writer_is_refused_with_the_holders_pid(bm25_index: Path) -> None:
    import os

    with IndexWriter(bm25_index):
        with pytest.raises(BraidError, match=f"another writer \\(pid {os.getpid()}\\)"):
            IndexWriter(bm25_index)
    IndexWriter(bm25_index).close()  # released on leaving the block


def test_an_open_engine_keeps_its_generation_until_refresh(bm25_index: Path, documents: list[Document]) -> None:
    with Engine.open(bm25_index) as engine:
        query = documents[65].title
        assert documents[65].doc_id not in [hit.doc_id for hit in engine.search(query, k=5)]
        with IndexWriter(bm25_index, MergePolicy(max_segments=1)) as writer:  # adds, then compacts away the first segment
            writer.add(documents[60:70])
        assert writer.last_report is not None and writer.last_report.compacted
        # The old generation's files are leased by this engine: still there, still searched.
        assert (bm25_index / "docs.sqlite").exists()
        assert documents[65].doc_id not in [hit.doc_id for hit in engine.search(query, k=5)]
        assert engine.refresh() and not engine.refresh()
        assert engine.search(query, k=1)[0].doc_id == documents[65].doc_id
        assert engine.manifest.doc_count == 70
    with IndexWriter(bm25_index):  # the next writer removes what no reader holds any more
        pass
    assert not (bm25_index / "docs.sqlite").exists()


def test_the_merge_policy_compacts_when_deletions_pile_up(bm25_index: Path, documents: list[Document]) -> None:
    with IndexWriter(bm25_index, MergePolicy(max_deleted_fraction=0.1)) as writer:
        writer.delete(doc.doc_id for doc in documents[:5])
    assert writer.last_report is not None and not writer.last_report.compacted
    with IndexWriter(bm25_index, MergePolicy(max_deleted_fraction=0.1)) as writer:
        writer.delete(doc.doc_id for doc in documents[5:7])
    assert writer.last_report is not None and writer.last_report.compacted
    manifest = Manifest.read(bm25_index)
    assert (len(manifest.segments), manifest.deleted_docs, manifest.doc_count) == (1, 0, 53)


def test_ids_with_path_characters_are_only_keys(bm25_index: Path, tmp_path: Path) -> None:
    """An id such as "../../x" names a document, never a file: nothing is written outside the index."""
    outside = sorted(path.name for path in tmp_path.iterdir())
    strange = [Document("../../escape", "Escape", "path traversal attempt"), Document("a/b\\c", "Slashes", "slashes in an id")]
    with IndexWriter(bm25_index) as writer:
        writer.add(strange)
    assert sorted(path.name for path in tmp_path.iterdir()) == outside
    with Engine.open(bm25_index) as engine:
        assert engine.docstore.get("../../escape") == strange[0]
        assert engine.search("path traversal attempt", k=1)[0].doc_id == "../../escape"
    with IndexWriter(bm25_index) as writer:
        writer.delete(["../../escape", "a/b\\c"])
    assert writer.last_report is not None and writer.last_report.deleted == 2


def test_an_index_of_format_1_opens_as_one_segment_and_takes_writes(bm25_index: Path, documents: list[Document]) -> None:
    """Indexes built before writes existed (no generation, no segments in the manifest)."""
    manifest = json.loads((bm25_index / "manifest.json").read_text(encoding="utf-8"))
    for key in ("generation", "segments"):
        del manifest[key]
    manifest["format_version"] = 1
    (bm25_index / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with Engine.open(bm25_index) as engine:
        assert engine.manifest.generation == 1 and len(engine.docstore.ids()) == 60
        before = engine.search(documents[5].title, k=3)
    with IndexWriter(bm25_index) as writer:
        writer.delete([documents[59].doc_id])
    upgraded = Manifest.read(bm25_index)
    assert (upgraded.format_version, upgraded.generation, upgraded.doc_count) == (2, 2, 59)
    with Engine.open(bm25_index) as engine:
        assert engine.search(documents[5].title, k=1)[0].doc_id == before[0].doc_id
