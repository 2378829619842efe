"""The BM25 retriever over a real index of 400 SciFact documents: both backends, same answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from braid.engine.bm25 import BATCH_PATH_MIN_QUERIES, BM25Retriever
from braid.fusion.errors import BraidError
from braid.indexing.config import BM25Config
from braid.indexing.docstore import DocStore
from braid.indexing.layout import DOCSTORE_NAME
from braid.indexing.readers import read_queries


@pytest.fixture(scope="module")
def docstore(scifact_slice_index: Path) -> Iterator[DocStore]:
    store = DocStore(scifact_slice_index / DOCSTORE_NAME)
    yield store
    store.close()


def _open(index: Path, docstore: DocStore, backend: str, config: BM25Config = BM25Config()) -> BM25Retriever:
    return BM25Retriever(index / "bm25", config, doc_ids=docstore.ids, backend=backend)


@pytest.fixture(scope="module")
def matrix(scifact_slice_index: Path, docstore: DocStore) -> Iterator[BM25Retriever]:
    retriever = _open(scifact_slice_index, docstore, "matrix")
    yield retriever
    retriever.close()


@pytest.fixture(scope="module")
def lucene(scifact_slice_index: Path, docstore: DocStore) -> Iterator[BM25Retriever]:
    retriever = _open(scifact_slice_index, docstore, "lucene")
    yield retriever
    retriever.close()


@pytest.fixture(scope="module")
def queries(scifact_slice: Path) -> list[str]:
    texts = [query.text for query in read_queries(scifact_slice / "queries.jsonl").values()][:120]
    # Repeated terms become boosted clauses in Anserini; they need their own weights.
    return texts + ["cancer cancer cells", "vitamin D vitamin D vitamin D deficiency"]


def test_matrix_backend_equals_lucene_exactly(matrix: BM25Retriever, lucene: BM25Retriever, queries: list[str]) -> None:
    expected = lucene.search(queries, depth=100)
    assert len(queries) >= BATCH_PATH_MIN_QUERIES  # the lucene side takes its SearchCollection path
    assert matrix.search(queries, depth=100) == expected
    assert sum(len(ranking) for ranking in expected) > 5000


def test_lucene_batch_path_equals_its_per_query_path(lucene: BM25Retriever, queries: list[str]) -> None:
    assert lucene.search(queries, depth=50) == [lucene.search([query], depth=50)[0] for query in queries]


def test_one_query_at_a_time_equals_the_batch(matrix: BM25Retriever, queries: list[str]) -> None:
    chosen = queries[:20] + queries[-2:]  # with the boosted ones: each batch stacks only the rows it uses
    batch = matrix.search(chosen, depth=30)
    assert batch == [matrix.search([query], depth=30)[0] for query in chosen]


def test_rankings_are_sorted_and_bounded(matrix: BM25Retriever, queries: list[str]) -> None:
    for ranking in matrix.search(queries, depth=25):
        assert len(ranking) <= 25
        scores = [score for _, score in ranking]
        assert scores == sorted(scores, reverse=True)
        assert len({doc for doc, _ in ranking}) == len(ranking)


@pytest.mark.parametrize("query", ["AND (x* OR y:z)~2 \\", 'title:"cancer" AND -"cells"^3', "[unbalanced {brackets", "?*"])
def test_lucene_syntax_is_searched_as_plain_words(matrix: BM25Retriever, lucene: BM25Retriever, query: str) -> None:
    (ranking,) = matrix.search([query], depth=10)
    assert lucene.search([query], depth=10) == [ranking]
    # The same characters inside a batch take Anserini's SearchCollection path; it must not fail either.
    assert lucene.search([query] * BATCH_PATH_MIN_QUERIES, depth=10) == [ranking] * BATCH_PATH_MIN_QUERIES


def test_words_around_syntax_still_match(matrix: BM25Retriever) -> None:
    plain = matrix.search(["vitamin D"], depth=5)[0]
    noisy = matrix.search(['vitamin AND (D*) OR "~2"'], depth=5)[0]
    assert plain and {doc for doc, _ in plain} & {doc for doc, _ in noisy}


def test_empty_stopword_and_unknown_queries_return_no_hits(matrix: BM25Retriever, lucene: BM25Retriever) -> None:
    for retriever in (matrix, lucene):
        assert retriever.search(["", "   \t\n", "the of and", "zzzyqxw"], depth=10) == [[], [], [], []]
        assert retriever.search(["cancer"], depth=0) == [[]]


def test_overridden_parameters_agree_across_backends(scifact_slice_index: Path, docstore: DocStore, matrix: BM25Retriever, queries: list[str]) -> None:
    config = BM25Config(k1=1.2, b=0.75)
    tuned_matrix = _open(scifact_slice_index, docstore, "matrix", config)
    tuned_lucene = _open(scifact_slice_index, docstore, "lucene", config)
    try:
        tuned = tuned_matrix.search(queries[:40], depth=20)
        assert tuned == tuned_lucene.search(queries[:40], depth=20)
        assert tuned != matrix.search(queries[:40], depth=20)
    finally:
        tuned_matrix.close()
        tuned_lucene.close()


def test_bad_backend_and_parameters_are_refused(scifact_slice_index: Path) -> None:
    with pytest.raises(BraidError, match="unknown bm25 backend 'faiss'; choose from matrix, lucene"):
        BM25Retriever(scifact_slice_index / "bm25", backend="faiss")
    with pytest.raises(BraidError, match="needs the index's doc ids"):
        BM25Retriever(scifact_slice_index / "bm25")
    with pytest.raises(BraidError, match="b must be between 0 and 1"):
        BM25Config(b=1.5)
    with pytest.raises(BraidError, match="unknown bm25 parameter"):
        BM25Config.from_dict({"k1": 1.0, "k3": 2})
