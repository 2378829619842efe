"""Pseudo-queries from real SciFact documents: where each comes from, its id, its answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from braid.eval.pseudo_queries import corpus_pseudo_queries, pseudo_queries, word_frequencies
from braid.fusion.errors import BraidError
from braid.indexing.readers import Document


class Store:
    def __init__(self, documents: list[Document]) -> None:
        self.documents = {document.doc_id: document for document in documents}

    def ids(self) -> list[str]:
        return list(self.documents)

    def get(self, doc_id: str) -> Document | None:
        return self.documents.get(doc_id)


@pytest.fixture(scope="module")
def documents(scifact_dir: Path) -> list[Document]:
    with (scifact_dir / "corpus.jsonl").open(encoding="utf-8") as corpus:
        rows = [json.loads(line) for _, line in zip(range(60), corpus)]
    return [Document(row["_id"], row["title"], row["text"]) for row in rows]


def test_each_kind_comes_from_its_document(documents: list[Document]) -> None:
    by_id = {document.doc_id: document for document in documents}
    titles = list(pseudo_queries(documents, "title"))
    assert [query.text for query in titles[:2]] == [" ".join(documents[0].title.split()), " ".join(documents[1].title.split())]
    for query in pseudo_queries(documents, "sentence"):
        assert query.text in " ".join(by_id[query.doc_id].text.split()) and 6 <= len(query.text.split()) <= 30
    frequency = word_frequencies(documents)
    for query in pseudo_queries(documents, "keyphrase", frequency.__getitem__):
        source = by_id[query.doc_id]
        assert len(query.text.split()) == 5 and all(word in f"{source.title} {source.text}".lower() for word in query.text.split())
    assert all(query.query_id == f"pseudo-title-{query.doc_id}" != query.doc_id for query in titles)


def test_keyphrase_takes_the_rarest_words_in_text_order() -> None:
    document = Document("d1", "Zinc and vitamin", "Vitamin helps. Zinc matters greatly.")
    counts = {"zinc": 1, "vitamin": 5, "helps": 9, "matters": 2, "greatly": 3}
    (query,) = pseudo_queries([document], "keyphrase", counts.__getitem__)
    assert query.text == "zinc vitamin helps matters greatly"  # five words: all of them, first-seen order
    first_two = list(pseudo_queries([Document("d2", "", "alpha beta gamma delta epsilon zeta")], "keyphrase", lambda word: len(word)))
    assert first_two[0].text == "alpha beta gamma delta zeta"  # "epsilon" (7 letters) is the commonest here


def test_corpus_sampling_is_seeded_and_skips_documents_without_a_query(documents: list[Document]) -> None:
    untitled = [Document(document.doc_id, "" if number % 2 else document.title, document.text) for number, document in enumerate(documents)]
    store = Store(untitled)
    first = corpus_pseudo_queries(store, 10, "title")
    assert first == corpus_pseudo_queries(store, 10, "title") and len(first) == 10
    assert all(store.documents[query.doc_id].title for query in first)
    assert len(corpus_pseudo_queries(store, 1000, "title")) == 30
    with pytest.raises(BraidError, match="no document of this index gives a title pseudo-query"):
        corpus_pseudo_queries(Store([Document("x", "", "text")]), 5, "title")
    with pytest.raises(BraidError, match="unknown pseudo-query kind 'abstract'"):
        corpus_pseudo_queries(store, 5, "abstract")
