"""Readers stream real files and reject bad input with the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.fusion.errors import DataError
from braid.indexing.readers import Document, count_lines, read_corpus, read_queries


def _write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def test_reads_real_scifact_corpus_and_queries(scifact_dir: Path) -> None:
    documents = list(read_corpus(scifact_dir / "corpus.jsonl"))
    assert len(documents) == 5183
    assert all(isinstance(doc, Document) and doc.doc_id for doc in documents)
    assert len(read_queries(scifact_dir / "queries.jsonl")) == 1109


def test_corpus_is_streamed_not_loaded(tmp_path: Path) -> None:
    """The first document arrives before a later bad line is even read."""
    path = _write(tmp_path / "corpus.jsonl", '{"_id": "a", "text": "first"}\n{not json\n')
    stream = read_corpus(path)
    assert next(stream) == Document("a", "", "first")
    with pytest.raises(DataError):
        next(stream)


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ('{"_id": "a", "text": "x"}\n{"_id": "b", "text": \n', 2, "malformed JSON"),
        ('{"_id": "a", "text": "x"}\n\n{"title": "no id", "text": "y"}\n', 3, "missing field '_id'"),
        ('{"_id": "a", "text": "x"}\n{"_id": "a", "text": "y"}\n', 2, "document id 'a' appears twice"),
        ('{"_id": "a b", "text": "x"}\n', 1, "white space"),
        ('{"_id": "", "text": "x"}\n', 1, "empty document id"),
        ('["a", "b"]\n', 1, "expected a JSON object"),
        ('{"_id": "a", "text": 3.5, "title": ["t"]}\n', 1, "field 'title' must be a string"),
    ],
)
def test_bad_jsonl_corpus_names_file_and_line(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = _write(tmp_path / "corpus.jsonl", content)
    with pytest.raises(DataError, match=message) as caught:
        list(read_corpus(path))
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{path}:{line}: ")


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "corpus.jsonl", b'{"_id": "a", "text": "ok"}\n{"_id": "b", "text": "caf\xe9"}\n')
    with pytest.raises(DataError, match="not UTF-8") as caught:
        list(read_corpus(path))
    assert caught.value.line == 2


def test_empty_title_and_text_are_allowed(tmp_path: Path) -> None:
    path = _write(tmp_path / "corpus.jsonl", '{"_id": "a", "title": "", "text": ""}\n{"id": "b", "contents": "plain jsonl"}\n')
    assert list(read_corpus(path)) == [Document("a", "", ""), Document("b", "", "plain jsonl")]


def test_msmarco_tsv_corpus_and_queries(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "collection.tsv", "0\tThe presence of communication\n1\tsecond passage\n")
    assert [doc.doc_id for doc in read_corpus(corpus)] == ["0", "1"]
    queries = _write(tmp_path / "queries.dev.tsv", "100\twhat is a query\n")
    assert read_queries(queries)["100"].text == "what is a query"
    bad = _write(tmp_path / "bad.tsv", "0\tok\nno tab here\n")
    with pytest.raises(DataError, match="expected 'id<TAB>text'") as caught:
        list(read_corpus(bad))
    assert caught.value.line == 2


def test_a_three_column_tsv_corpus_is_id_title_text_and_more_columns_are_refused(tmp_path: Path) -> None:
    corpus = _write(tmp_path / "collection.tsv", "0\tA title\tthe text\n1\tjust text\n")
    assert list(read_corpus(corpus)) == [Document("0", "A title", "the text"), Document("1", "", "just text")]
    bad = _write(tmp_path / "wide.tsv", "0\ta\tb\tc\n")
    with pytest.raises(DataError, match="found 4 column") as caught:
        list(read_corpus(bad))
    assert caught.value.line == 1


def test_a_lone_surrogate_escape_is_a_data_error_with_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "corpus.jsonl", '{"_id": "a", "text": "fine"}\n{"_id": "b", "text": "bad \\ud800 surrogate"}\n')
    with pytest.raises(DataError, match="field 'text' holds an unpaired UTF-16 surrogate") as caught:
        list(read_corpus(path))
    assert caught.value.line == 2


def test_duplicate_query_id_names_the_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "queries.jsonl", '{"_id": "1", "text": "a"}\n{"_id": "1", "text": "b"}\n')
    with pytest.raises(DataError, match="query id '1' appears twice") as caught:
        read_queries(path)
    assert caught.value.line == 2


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="cannot read"):
        list(read_corpus(tmp_path / "nope.jsonl"))


def test_write_corpus_is_read_back_unchanged(tmp_path: Path) -> None:
    from braid.indexing.readers import Document, read_corpus, write_corpus

    documents = [Document("a/1", 'Title, with "quotes"', "Text\twith a tab and ünïcode"), Document("2", "", "")]
    assert list(read_corpus(write_corpus(tmp_path / "corpus.jsonl", documents))) == documents


def test_count_lines_gives_a_progress_total(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(f'{{"_id": "d{number}", "text": "x"}}\n' for number in range(2500)), encoding="utf-8")
    assert count_lines(corpus) == 2500 == len(list(read_corpus(corpus)))
    assert count_lines(tmp_path / "missing.jsonl") is None
