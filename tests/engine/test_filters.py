"""The filter language on hand-built metadata: every operator, nesting, dates, lists and missing
fields against a plain-Python oracle over the same documents (also for random filters), and every
malformed filter named by the path of its bad part."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from braid.engine.filters import FilterError, matching, parse_filter
from braid.indexing.metadata import parse_date
from braid.indexing.metadata_columns import MetadataColumns, MetadataColumnsWriter

TAGS = ["red", "green", "blue", "teal"]


def _documents() -> list[dict[str, Any]]:
    """60 documents; each field missing in some of them."""
    chooser = random.Random(7)
    documents = []
    for number in range(60):
        fields: dict[str, Any] = {}
        if number % 7:
            fields["year"] = 1990 + chooser.randrange(30)
        if number % 5:
            fields["score"] = round(chooser.uniform(-2, 2), 2)
        if number % 3:
            fields["tag"] = chooser.choice(TAGS)
        if number % 4:
            fields["tags"] = chooser.sample(TAGS, chooser.randrange(1, 3))
        if number % 6:
            fields["open"] = chooser.random() < 0.5
        if number % 8:
            fields["at"] = f"20{chooser.randrange(10, 24)}-0{chooser.randrange(1, 10)}-1{chooser.randrange(10)}"
        documents.append(fields)
    return documents


DOCUMENTS = _documents()
YEAR, OTHER_YEAR, AT = DOCUMENTS[1]["year"], DOCUMENTS[2]["year"], DOCUMENTS[1]["at"]  # values some documents hold


@pytest.fixture(scope="module")
def columns(tmp_path_factory: pytest.TempPathFactory) -> tuple[MetadataColumns, dict[str, str]]:
    folder = tmp_path_factory.mktemp("columns")
    writer = MetadataColumnsWriter()
    for number, fields in enumerate(DOCUMENTS):
        writer.add(str(number), fields)
    schema = writer.finish(folder)
    return MetadataColumns.load(folder, len(DOCUMENTS)), schema


def _comparable(field: str, value: Any) -> Any:
    return parse_date(value) if field == "at" else value


def oracle(query: dict[str, Any], document: dict[str, Any]) -> bool:
    """The filter's meaning, written out plainly over one document's metadata."""
    ((operator, body),) = query.items()
    if operator == "and":
        return all(oracle(part, document) for part in body)
    if operator == "or":
        return any(oracle(part, document) for part in body)
    if operator == "not":
        return not oracle(body, document)
    if operator == "exists":
        return body["field"] in document
    ((field, argument),) = body.items()
    if field not in document:
        return False
    held = document[field]
    values = held if isinstance(held, list) else [held]
    if operator in ("term", "terms"):
        wanted = argument if operator == "terms" else [argument]
        return any(_comparable(field, value) == _comparable(field, want) and type(value) is not bool or value is want for value in values for want in wanted)
    value = _comparable(field, held)
    checks = {"gt": value.__gt__, "gte": value.__ge__, "lt": value.__lt__, "lte": value.__le__}
    return all(checks[bound](_comparable(field, limit)) for bound, limit in argument.items())


def _check(query: dict[str, Any], prepared: tuple[MetadataColumns, dict[str, str]]) -> None:
    table, schema = prepared
    expected = [oracle(query, document) for document in DOCUMENTS]
    assert matching(parse_filter(query, schema), table).tolist() == expected, query


EXAMPLES = [
    {"term": {"tag": "red"}},
    {"term": {"tags": "teal"}},
    {"terms": {"tag": ["red", "blue", "not-a-tag"]}},
    {"terms": {"tags": ["green", "blue"]}},
    {"term": {"year": YEAR}},
    {"terms": {"year": [OTHER_YEAR, float(YEAR)]}},
    {"term": {"open": True}},
    {"term": {"open": False}},
    {"term": {"at": AT}},
    {"range": {"year": {"gte": 2000, "lt": 2010}}},
    {"range": {"score": {"gt": -0.5}}},
    {"range": {"score": {"lte": 0}}},
    {"range": {"at": {"gte": "2015-01-01", "lt": "2020-01-01T00:00:00Z"}}},
    {"exists": {"field": "tags"}},
    {"not": {"exists": {"field": "year"}}},
    {"not": {"term": {"tag": "red"}}},  # includes documents without a tag
    {"and": [{"term": {"open": True}}, {"or": [{"range": {"year": {"lt": 1995}}}, {"term": {"tags": "red"}}]}]},
    {"or": [{"not": {"exists": {"field": "score"}}}, {"range": {"score": {"gte": 1.5}}}]},
    {"term": {"tag": "nothing-has-this"}},
]


@pytest.mark.parametrize("query", EXAMPLES, ids=[str(number) for number in range(len(EXAMPLES))])
def test_each_operator_matches_the_oracle(query: dict[str, Any], columns: tuple[MetadataColumns, dict[str, str]]) -> None:
    _check(query, columns)


def test_examples_are_not_trivial(columns: tuple[MetadataColumns, dict[str, str]]) -> None:
    """Every example but the last keeps some documents and drops others, so equality means something."""
    for query in EXAMPLES[:-1]:
        kept = sum(oracle(query, document) for document in DOCUMENTS)
        assert 0 < kept < len(DOCUMENTS), query


def _leaves() -> st.SearchStrategy[dict[str, Any]]:
    years = st.integers(1985, 2025)
    scores = st.floats(-2.5, 2.5, allow_nan=False).map(lambda value: round(value, 2))
    dates = st.builds(lambda year, month: f"{year}-{month:02d}-15", st.integers(2008, 2025), st.integers(1, 12))
    bounds = st.sampled_from([("gt", "lt"), ("gte", "lte"), ("gt", "lte"), ("gte", "lt")])

    def ranged(field: str, values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
        def make(pair: tuple[str, str], low: Any, high: Any, which: int) -> dict[str, Any]:
            chosen = {pair[0]: low, pair[1]: high} if which == 2 else {pair[which]: low if which == 0 else high}
            return {"range": {field: chosen}}

        return st.builds(make, bounds, values, values, st.integers(0, 2))

    return st.one_of(
        st.builds(lambda tag: {"term": {"tag": tag}}, st.sampled_from(TAGS)),
        st.builds(lambda tag: {"term": {"tags": tag}}, st.sampled_from(TAGS)),
        st.builds(lambda tags: {"terms": {"tags": tags}}, st.lists(st.sampled_from(TAGS), min_size=1, max_size=3)),
        st.builds(lambda year: {"term": {"year": year}}, years),
        st.builds(lambda flag: {"term": {"open": flag}}, st.booleans()),
        st.builds(lambda field: {"exists": {"field": field}}, st.sampled_from(["year", "score", "tag", "tags", "open", "at"])),
        ranged("year", years),
        ranged("score", scores),
        ranged("at", dates),
    )


FILTERS = st.recursive(
    _leaves(),
    lambda inner: st.one_of(
        st.builds(lambda parts: {"and": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda parts: {"or": parts}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda part: {"not": part}, inner),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=FILTERS)
def test_random_filters_match_the_oracle(query: dict[str, Any], columns: tuple[MetadataColumns, dict[str, str]]) -> None:
    _check(query, columns)


SCHEMA = {"year": "integer", "tag": "keyword", "tags": "keywords", "open": "boolean", "at": "date", "score": "float"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "filter: not JSON"),
        ([], "filter: expected an object with one key"),
        ({"term": {"tag": "x"}, "exists": {"field": "tag"}}, "filter: expected an object with one key"),
        ({"match": {"tag": "x"}}, "filter: unknown operator 'match'"),
        ({"term": {"yr": 1}}, "filter.term: unknown field 'yr'; the index's fields: at, open, score, tag, tags, year"),
        ({"and": [{"term": {"tag": "x"}}, {"term": {"year": "2001"}}]}, 'filter.and\\[1\\].term.year: expected a number, got "2001"'),
        ({"term": {"year": True}}, "filter.term.year: expected a number, got true"),
        ({"term": {"tag": 3}}, "filter.term.tag: expected a string, got 3"),
        ({"term": {"open": "yes"}}, 'filter.term.open: expected true or false, got "yes"'),
        ({"terms": {"tag": "x"}}, "filter.terms.tag: expected a non-empty list of values"),
        ({"terms": {"tag": ["x", 1]}}, "filter.terms.tag\\[1\\]: expected a string, got 1"),
        ({"range": {"tag": {"gt": "a"}}}, "filter.range.tag: range needs a number or date field; 'tag' holds strings"),
        ({"range": {"year": {"from": 1}}}, "filter.range.year: expected bounds from gt, gte, lt, lte"),
        ({"range": {"year": {"gt": 1, "gte": 2}}}, "filter.range.year: give at most one lower bound"),
        ({"range": {"at": {"gte": "2015"}}}, "filter.range.at.gte: expected an ISO 8601 date"),
        ({"exists": {"name": "tag"}}, 'filter.exists: expected {"field": NAME}'),
        ({"or": []}, "filter.or: expected a non-empty list of filters"),
        ({"not": {"term": {"nope": 1}}}, "filter.not.term: unknown field 'nope'"),
    ],
)
def test_malformed_filters_name_their_bad_part(raw: Any, message: str) -> None:
    with pytest.raises(FilterError, match="^" + message):
        parse_filter(raw, SCHEMA)


def test_the_path_keeps_dotted_field_names_whole() -> None:
    """A nested field is one name ("journal.name"): the path says so, where the text cannot."""
    with pytest.raises(FilterError) as raised:
        parse_filter({"and": [{"exists": {"field": "journal.name"}}, {"term": {"journal.name": 3}}]}, {"journal.name": "keyword"})
    assert raised.value.path == ("filter", "and", 1, "term", "journal.name")
    assert raised.value.where == "filter.and[1].term.journal.name" and raised.value.reason.startswith("expected a string")


def test_an_index_without_metadata_says_so() -> None:
    with pytest.raises(FilterError, match="unknown field 'year'; the index's fields: none: the index was built without metadata"):
        parse_filter({"term": {"year": 2001}}, {})


def test_a_segment_without_the_field_matches_nothing_but_not(tmp_path: Path) -> None:
    empty = MetadataColumns(4, {})
    assert not matching(parse_filter({"term": {"year": 2001}}, SCHEMA), empty).any()
    assert matching(parse_filter({"not": {"exists": {"field": "year"}}}, SCHEMA), empty).tolist() == [True] * 4
    assert isinstance(matching(parse_filter({"exists": {"field": "tag"}}, SCHEMA), empty), np.ndarray)
