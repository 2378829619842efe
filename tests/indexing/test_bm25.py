"""The BM25 build's self-check: braid's term matrix against what Lucene states about its index."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from braid.fusion.errors import BraidError
from braid.indexing import bm25
from braid.indexing.build_context import BuildContext
from braid.indexing.config import BM25Config
from braid.indexing.readers import read_corpus

MATRIX = {"doc_count": 200, "total_terms": 32250, "vocabulary": 5100, "postings": 19710}


def _lucene(unique_terms: int, total_terms: int = 32250) -> dict[str, int]:
    return {"documents": 200, "non_empty_documents": 200, "total_terms": total_terms, "unique_terms": unique_terms}


def test_unique_terms_lucene_cannot_state_are_not_a_disagreement() -> None:
    bm25.check_term_matrix(MATRIX, _lucene(unique_terms=-1))  # several segments: Lucene says -1
    bm25.check_term_matrix(MATRIX, _lucene(unique_terms=5100))


def test_stated_statistics_are_still_checked() -> None:
    with pytest.raises(BraidError, match="'vocabulary': 5099"):
        bm25.check_term_matrix(MATRIX, _lucene(unique_terms=5099))
    with pytest.raises(BraidError, match="'total_terms': 32249"):
        bm25.check_term_matrix(MATRIX, _lucene(unique_terms=-1, total_terms=32249))


def test_index_of_several_lucene_segments_builds(scifact_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Many small staged files over two indexing threads: Lucene writes more than one segment.
    monkeypatch.setattr(bm25, "_SHARD_SIZE", 2)
    builder = bm25.BM25Builder(tmp_path, BM25Config(), threads=2)
    for document in itertools.islice(read_corpus(scifact_dir / "corpus.jsonl"), 200):
        builder.add(document)
    entry = builder.finish(BuildContext(tmp_path, tmp_path / "docs.sqlite", scifact_dir / "corpus.jsonl", "unused", 200, False))
    segments = list((tmp_path / "bm25" / "lucene").glob("_*.si"))  # one .si file per segment
    assert len(segments) > 1 and builder._lucene_stats()["unique_terms"] == -1, "precondition: a multi-segment index"
    assert entry.details["indexed_docs"] == 200 and entry.details["term_matrix"]["doc_count"] == 200


@pytest.mark.parametrize("texts", [["", ""], ["the of and", "a an"]])
def test_a_corpus_without_an_indexable_word_is_a_data_error_naming_it(tmp_path: Path, texts: list[str]) -> None:
    import json

    from braid.engine.build import build_index
    from braid.fusion.errors import DataError

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"_id": str(i), "title": "", "text": text}) + "\n" for i, text in enumerate(texts)), encoding="utf-8")
    with pytest.raises(DataError, match=f"{corpus}: no document has an indexable word"):
        build_index(corpus, tmp_path / "index", ["bm25"], progress=False)
    assert not (tmp_path / "index").exists()
