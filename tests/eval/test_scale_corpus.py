"""The scale corpus: deterministic, real SciFact documents first, distractors made of real sentences."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from braid.eval.scale_corpus import sentences_of, write_scale_corpus
from braid.fusion.errors import BraidError
from braid.indexing.readers import read_corpus


def test_same_size_and_seed_give_the_same_bytes_with_scifact_inside(data_root: Path, scifact_dir: Path, tmp_path: Path) -> None:
    first = write_scale_corpus(data_root, tmp_path / "a", 5_400, progress=False)
    write_scale_corpus(data_root, tmp_path / "b", 5_400, progress=False)
    other_seed = write_scale_corpus(data_root, tmp_path / "c", 5_400, seed=1, progress=False)
    assert (tmp_path / "a" / "corpus.jsonl").read_bytes() == (tmp_path / "b" / "corpus.jsonl").read_bytes()
    assert (tmp_path / "a" / "corpus.jsonl").read_bytes() != (tmp_path / "c" / "corpus.jsonl").read_bytes()
    assert first["documents"] == other_seed["documents"] == 5_400
    documents = list(read_corpus(tmp_path / "a" / "corpus.jsonl"))
    real = list(read_corpus(scifact_dir / "corpus.jsonl"))
    assert [(d.doc_id, d.title, d.text) for d in documents[: len(real)]] == [(d.doc_id, d.title, d.text) for d in real]
    assert (tmp_path / "a" / "qrels" / "test.tsv").read_bytes() == (scifact_dir / "qrels" / "test.tsv").read_bytes()
    pool = set(sentences_of([scifact_dir / "corpus.jsonl", data_root / "nfcorpus" / "corpus.jsonl"]))
    distractors = documents[len(real) :]
    assert len(distractors) == 5_400 - len(real) and all(d.doc_id.startswith("scale-") for d in distractors)
    for document in distractors[:50]:
        assert document.title in pool
        assert any(document.text.startswith(sentence) for sentence in pool)


def test_fewer_documents_than_scifact_is_refused(data_root: Path, tmp_path: Path) -> None:
    with pytest.raises(BraidError, match="at least 5,183"):
        write_scale_corpus(data_root, tmp_path / "small", 100, progress=False)
    assert not (tmp_path / "small").exists()


def test_no_partial_file_is_left(data_root: Path, tmp_path: Path) -> None:
    write_scale_corpus(data_root, tmp_path / "a", 5_200, progress=False)
    assert sorted(path.name for path in (tmp_path / "a").iterdir()) == ["corpus.jsonl", "qrels", "queries.jsonl"]
    assert json.loads((tmp_path / "a" / "corpus.jsonl").read_text(encoding="utf-8").splitlines()[-1])["_id"] == "scale-5199"
