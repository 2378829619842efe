"""The term matrix written in bounded memory (many sorted runs merged term block by term block)
equals the one written from a single run, array for array."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from braid.indexing.analysis import LuceneAnalyzer
from braid.indexing.bm25 import bm25_contents
from braid.indexing.readers import read_corpus
from braid.indexing.term_docs import TermDocs, TermDocWriter


@pytest.fixture(scope="module")
def token_lists(scifact_slice: Path) -> list[list[str]]:
    analyzer = LuceneAnalyzer.shared()
    return [analyzer.tokens(bm25_contents(document)) for document in read_corpus(scifact_slice / "corpus.jsonl")] + [[]]  # and an empty document


@pytest.mark.parametrize("flush_postings", [1000, 9973, 20_000])
def test_many_runs_merge_to_the_single_run_matrix(token_lists: list[list[str]], tmp_path: Path, flush_postings: int) -> None:
    whole, spilled = tmp_path / "whole", tmp_path / "spilled"
    whole.mkdir()
    spilled.mkdir()
    one, many = TermDocWriter(), TermDocWriter(spill=spilled / "_postings", flush_postings=flush_postings)
    for tokens in token_lists:
        one.add(tokens)
        many.add(tokens)
    assert many.save(spilled) == one.save(whole)
    assert sorted(path.name for path in spilled.iterdir()) == ["term_docs.npz", "vocabulary.json"]  # runs removed
    expected, found = TermDocs.load(whole), TermDocs.load(spilled)
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(found.frequencies, name), getattr(expected.frequencies, name)), name
        assert getattr(found.frequencies, name).dtype == np.int32
    assert np.array_equal(found.doc_lengths, expected.doc_lengths) and found.vocabulary == expected.vocabulary
    assert (found.doc_count, found.total_terms) == (expected.doc_count, expected.total_terms) == (len(token_lists) - 1, sum(map(len, token_lists)))
    assert found.frequencies.has_sorted_indices and found.frequencies.nnz > 20_000  # more than one block of the merge


def test_each_term_row_counts_its_tokens(token_lists: list[list[str]], tmp_path: Path) -> None:
    """Independent of the writer: the matrix's column sums are the documents' token counts."""
    writer = TermDocWriter(spill=tmp_path / "_postings", flush_postings=1000)
    for tokens in token_lists:
        writer.add(tokens)
    writer.save(tmp_path)
    matrix = TermDocs.load(tmp_path)
    assert np.asarray(matrix.frequencies.sum(axis=0)).ravel().tolist() == [len(tokens) for tokens in token_lists]
    first = token_lists[0]
    row = matrix.vocabulary[first[0]]
    assert matrix.frequencies[row, 0] == first.count(first[0])
