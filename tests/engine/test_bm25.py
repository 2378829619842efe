"""The BM25 retriever over a real Lucene index of 400 SciFact documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.engine.bm25 import BATCH_PATH_MIN_QUERIES, BM25Retriever
from braid.engine.config import BM25Config
from braid.engine.errors import BraidError
from braid.indexing.readers import read_queries


@pytest.fixture(scope="module")
def retriever(scifact_slice_index: Path) -> BM25Retriever:
    opened = BM25Retriever(scifact_slice_index / "bm25")
    yield opened
    opened.close()


def test_batch_path_equals_per_query_path(retriever: BM25Retriever, scifact_slice: Path) -> None:
    queries = [query.text for query in read_queries(scifact_slice / "queries.jsonl").values()][:100]
    assert len(queries) >= BATCH_PATH_MIN_QUERIES
    batch = retriever.search(queries, depth=50)
    one_by_one = [retriever.search([query], depth=50)[0] for query in queries]
    assert batch == one_by_one
    assert all(len(ranking) <= 50 for ranking in batch) and any(batch)
    for ranking in batch:
        scores = [score for _, score in ranking]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", ['AND (x* OR y:z)~2 \\', 'title:"cancer" AND -"cells"^3', "[unbalanced {brackets", "?*"])
def test_lucene_syntax_is_searched_as_plain_words(retriever: BM25Retriever, query: str) -> None:
    (ranking,) = retriever.search([query], depth=10)
    assert isinstance(ranking, list)
    # The same characters inside a batch take the SearchCollection path; it must not fail either.
    batch = retriever.search([query] * BATCH_PATH_MIN_QUERIES, depth=10)
    assert batch == [ranking] * BATCH_PATH_MIN_QUERIES


def test_words_around_syntax_still_match(retriever: BM25Retriever) -> None:
    plain = retriever.search(["vitamin D"], depth=5)[0]
    noisy = retriever.search(['vitamin AND (D*) OR "~2"'], depth=5)[0]
    assert plain and {doc for doc, _ in plain} & {doc for doc, _ in noisy}


def test_empty_and_whitespace_queries_return_no_hits(retriever: BM25Retriever) -> None:
    assert retriever.search(["", "   \t\n"], depth=10) == [[], []]
    assert retriever.search(["cancer"], depth=0) == [[]]


def test_parameters_change_scores(scifact_slice_index: Path, retriever: BM25Retriever) -> None:
    other = BM25Retriever(scifact_slice_index / "bm25", BM25Config(k1=1.2, b=0.75))
    try:
        default_hits = retriever.search(["blood pressure in older adults"], depth=5)[0]
        other_hits = other.search(["blood pressure in older adults"], depth=5)[0]
        assert [score for _, score in default_hits] != [score for _, score in other_hits]
    finally:
        other.close()


def test_invalid_parameters_are_refused() -> None:
    with pytest.raises(BraidError, match="b must be between 0 and 1"):
        BM25Config(b=1.5)
    with pytest.raises(BraidError, match="unknown bm25 parameter"):
        BM25Config.from_dict({"k1": 1.0, "k3": 2})
