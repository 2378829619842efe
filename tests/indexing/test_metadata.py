"""Metadata in: where readers find it, the types columns get, conflicts named by file and line, and
the columns written per segment read back as the values given."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from braid.fusion.errors import BraidError, DataError
from braid.indexing.metadata import DATE, FLOAT, INTEGER, KEYWORD, KEYWORDS, column_type, flatten, merge_schemas, parse_date
from braid.indexing.metadata_columns import KeywordColumn, KeywordsColumn, MetadataColumns, MetadataColumnsWriter, NumberColumn
from braid.indexing.readers import Document, read_corpus, write_corpus


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def test_beir_metadata_and_extra_fields_are_read_flat(tmp_path: Path) -> None:
    corpus = _jsonl(
        tmp_path / "corpus.jsonl",
        [
            {"_id": "a", "title": "T", "text": "x", "metadata": {"journal": {"name": "Cell", "issn": None}, "tags": []}, "year": 2001},
            {"_id": "b", "title": "T", "text": "y"},
        ],
    )
    documents = list(read_corpus(corpus))
    assert documents[0].metadata == {"journal.name": "Cell", "year": 2001}  # null and [] are missing
    assert documents[1].metadata is None


def test_write_corpus_keeps_metadata(tmp_path: Path) -> None:
    documents = [Document("a", "T", "x", {"journal.name": "Cell", "tags": ["p", "q"], "open": True}), Document("b", "", "y")]
    assert list(read_corpus(write_corpus(tmp_path / "c.jsonl", documents))) == documents


def test_a_field_of_two_families_is_an_error_naming_both_lines(tmp_path: Path) -> None:
    corpus = _jsonl(tmp_path / "corpus.jsonl", [{"_id": "a", "text": "x", "year": 2001}, {"_id": "b", "text": "y"}, {"_id": "c", "text": "z", "year": "2001"}])
    with pytest.raises(DataError, match=r"corpus.jsonl:3: field 'year' holds a string here but a number at line 1"):
        list(read_corpus(corpus))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([1, 2], "field 'ids' holds a list with numbers; lists may hold strings only"),
        ([{"a": 1}], "field 'ids' holds a list with objects"),
        (float("nan"), "field 'ids' holds nan, which is not a finite number"),
    ],
)
def test_values_metadata_cannot_hold_are_named(tmp_path: Path, value: object, message: str) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"_id": "a", "text": "x", "ids": value}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"corpus.jsonl:1: " + message.replace("[", r"\[")):
        list(read_corpus(corpus))


def test_a_side_file_adds_fields_by_id_and_names_unknown_ids(tmp_path: Path) -> None:
    corpus = tmp_path / "collection.tsv"
    corpus.write_text("a\tfirst text\nb\tsecond text\n", encoding="utf-8")
    side = _jsonl(tmp_path / "meta.jsonl", [{"id": "b", "year": 2010, "lab": {"city": "Oslo"}}])
    documents = list(read_corpus(corpus, side))
    assert [document.metadata for document in documents] == [None, {"year": 2010, "lab.city": "Oslo"}]
    _jsonl(side, [{"id": "b", "year": 2010}, {"id": "zz", "year": 1}])
    with pytest.raises(DataError, match=r"meta.jsonl:2: document id 'zz' is not in the corpus"):
        list(read_corpus(corpus, side))
    _jsonl(side, [{"id": "b", "year": "soon"}, {"id": "a", "year": 1}])
    with pytest.raises(DataError, match=r"meta.jsonl:2: field 'year' holds a number here but a string at line 1"):
        list(read_corpus(corpus, side))


def test_a_field_given_by_the_corpus_and_the_side_file_is_an_error(tmp_path: Path) -> None:
    corpus = _jsonl(tmp_path / "corpus.jsonl", [{"_id": "a", "text": "x", "year": 2001}])
    side = _jsonl(tmp_path / "meta.jsonl", [{"_id": "a", "year": 2002}])
    with pytest.raises(DataError, match=r"corpus.jsonl:1: field 'year' of document 'a' is also given by .*meta.jsonl:1"):
        list(read_corpus(corpus, side))


def test_types_are_inferred_over_the_whole_column() -> None:
    assert column_type([1, 2]) == INTEGER
    assert column_type([1, 2.5]) == FLOAT
    assert column_type(["2015-01-01", "2016-02-29T10:00:00Z"]) == DATE
    assert column_type(["2015-01-01", "soon"]) == KEYWORD
    assert column_type(["a", ["b", "c"]]) == KEYWORDS
    assert column_type(["2015-01-01"], declared=KEYWORD) == KEYWORD  # an index's keyword field stays one
    assert column_type([3], declared=FLOAT) == FLOAT


def test_iso_dates_parse_to_utc_microseconds() -> None:
    assert parse_date("1970-01-02") == 86_400_000_000
    assert parse_date("1970-01-01T01:00:00+01:00") == 0
    assert parse_date("1970-01-01 00:00:00.5Z") == 500_000
    for not_a_date in ("2015", "20150101", "2015-13-01", "yesterday"):
        assert parse_date(not_a_date) is None


def test_schemas_widen_within_a_family_and_refuse_across() -> None:
    assert merge_schemas({"y": INTEGER, "t": KEYWORD}, {"y": FLOAT, "t": KEYWORDS, "n": DATE}) == {"n": DATE, "t": KEYWORDS, "y": FLOAT}
    with pytest.raises(BraidError, match="field 'y' holds integers in one segment and ISO 8601 dates in another"):
        merge_schemas({"y": INTEGER}, {"y": DATE})


def test_nested_names_may_not_hold_dots() -> None:
    with pytest.raises(BraidError, match=r"field name 'a\.b\.c' must be a non-empty string without '\.'"):
        flatten({"a": {"b.c": 1}})


def test_columns_read_back_as_written(tmp_path: Path) -> None:
    writer = MetadataColumnsWriter()
    rows = [
        {"year": 2001, "tag": "x", "tags": ["p", "q"], "open": True, "at": "2020-05-01"},
        None,
        {"year": 1999.5, "tag": "y", "tags": "q", "open": False, "at": "2021-01-01T00:00:00Z"},
    ]
    for number, metadata in enumerate(rows):
        writer.add(str(number), metadata)
    schema = writer.finish(tmp_path)
    assert schema == {"at": DATE, "open": "boolean", "tag": KEYWORD, "tags": KEYWORDS, "year": FLOAT}
    columns = MetadataColumns.load(tmp_path, 3)
    assert columns.schema == schema
    year = columns.columns["year"]
    assert isinstance(year, NumberColumn) and np.isnan(year.values[1]) and year.values[[0, 2]].tolist() == [2001.0, 1999.5]
    tag = columns.columns["tag"]
    assert isinstance(tag, KeywordColumn) and tag.equals_any(["y", "nope"]).tolist() == [False, False, True]
    tags = columns.columns["tags"]
    assert isinstance(tags, KeywordsColumn) and tags.equals_any(["q"]).tolist() == [True, False, True]
    assert tags.present().tolist() == [True, False, True]
    assert MetadataColumns.load(tmp_path / "none", 3).columns == {}


def test_new_documents_must_fit_the_index_types(tmp_path: Path) -> None:
    writer = MetadataColumnsWriter({"year": INTEGER, "at": DATE})
    writer.add("a", {"year": 2.5, "at": "2020-01-01"})
    assert writer.finish(tmp_path) == {"at": DATE, "year": FLOAT}
    with pytest.raises(BraidError, match="document 'b': field 'year' holds a string, but the index holds integers in it"):
        MetadataColumnsWriter({"year": INTEGER}).add("b", {"year": "x"})
    dates = MetadataColumnsWriter({"at": DATE})
    dates.add("c", {"at": "later"})
    with pytest.raises(BraidError, match="document 'c': field 'at' holds 'later', which is not an ISO 8601 date"):
        dates.finish(tmp_path)
    mixed = MetadataColumnsWriter()
    mixed.add("d", {"n": 1})
    with pytest.raises(BraidError, match="document 'e': field 'n' holds true/false, but a number in document 'd'"):
        mixed.add("e", {"n": True})
