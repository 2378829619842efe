"""Building a real (small) index: manifest contents, and nothing left behind on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from braid.engine.build import build_index
from braid.fusion.errors import BraidError, DataError
from braid.indexing.docstore import DocStore
from braid.indexing.layout import DOCSTORE_NAME
from braid.indexing.manifest import FORMAT_VERSION, Manifest


def test_manifest_records_how_the_index_was_built(scifact_slice_index: Path, scifact_slice: Path) -> None:
    raw = json.loads((scifact_slice_index / "manifest.json").read_text())
    assert raw["format_version"] == FORMAT_VERSION
    assert raw["corpus"]["doc_count"] == 400
    assert raw["corpus"]["fingerprint"].startswith("sha256:") and len(raw["corpus"]["fingerprint"]) == 71
    assert raw["retrievers"]["bm25"]["params"] == {"k1": 0.9, "b": 0.4}
    assert raw["retrievers"]["bm25"]["details"]["indexed_docs"] == 400
    assert sorted(p.name for p in scifact_slice_index.iterdir()) == ["bm25", DOCSTORE_NAME, "manifest.json"]
    assert Manifest.read(scifact_slice_index).corpus_source == str((scifact_slice / "corpus.jsonl").absolute())


def test_docstore_holds_every_document_in_order(scifact_slice_index: Path, scifact_slice: Path) -> None:
    from braid.indexing.readers import read_corpus

    store = DocStore(scifact_slice_index / DOCSTORE_NAME)
    try:
        assert list(store) == list(read_corpus(scifact_slice / "corpus.jsonl"))
        first = next(iter(store))
        assert store.get(first.doc_id) == first and store.get("no-such-doc") is None
        assert store.titles([first.doc_id, "no-such-doc"]) == {first.doc_id: first.title}
    finally:
        store.close()


def test_same_documents_give_the_same_fingerprint(scifact_slice_index: Path, scifact_slice: Path, tmp_path: Path) -> None:
    reserialized = tmp_path / "corpus.jsonl"
    lines = (scifact_slice / "corpus.jsonl").read_text().splitlines()
    reserialized.write_text("\n".join(json.dumps(json.loads(line), indent=None, separators=(",", ":")) for line in lines) + "\n")
    again = build_index(reserialized, tmp_path / "again", ["bm25"], progress=False)
    assert again.corpus_fingerprint == Manifest.read(scifact_slice_index).corpus_fingerprint


def test_bad_line_late_in_the_corpus_leaves_no_index(scifact_slice: Path, tmp_path: Path) -> None:
    lines = (scifact_slice / "corpus.jsonl").read_text().splitlines()[:250]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(lines + [lines[10]]) + "\n")
    with pytest.raises(DataError, match=r"corpus\.jsonl:251: document id .* appears twice"):
        build_index(corpus, tmp_path / "index", ["bm25"], progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.jsonl"]


def test_empty_corpus_and_unknown_retriever_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(DataError, match="no documents"):
        build_index(empty, tmp_path / "index", ["bm25"], progress=False)
    with pytest.raises(BraidError, match="unknown retriever 'colbert'; choose from bm25"):
        build_index(empty, tmp_path / "index", retrievers=["colbert"], progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.jsonl"]


def test_documents_with_empty_text_keep_their_place(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"_id": "a", "title": "", "text": ""}\n{"_id": "b", "title": "", "text": "apples and pears"}\n')
    manifest = build_index(corpus, tmp_path / "index", ["bm25"], progress=False)
    assert manifest.doc_count == 2
    # Lucene skips a blank document (it can match nothing); the docstore still has it.
    assert manifest.retrievers["bm25"].details["indexed_docs"] == 1
