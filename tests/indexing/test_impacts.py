"""Quantization to integer impacts and the query stopword filter, on hand-computed cases."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from braid.indexing.impacts import clear_rows, drop_columns, quantize, stopword_columns


def test_quantize_rounds_scaled_weights_and_drops_zeros() -> None:
    weights = sp.csr_matrix(np.array([[0.004, 0.026, 1.234, 0.0], [0.0, 0.0, 0.0, 0.0]], dtype=np.float32))
    impacts = quantize(weights, scale=100)
    assert impacts.toarray().tolist() == [[0, 3, 123, 0], [0, 0, 0, 0]]
    assert impacts.nnz == 2  # the 0.004 entry rounds to 0 and is not stored
    assert quantize(weights, scale=10).toarray().tolist() == [[0, 0, 12, 0], [0, 0, 0, 0]]


def test_top_terms_keeps_the_heaviest_and_breaks_ties_by_token_id() -> None:
    weights = sp.csr_matrix(np.array([[0.5, 0.9, 0.5, 0.1, 0.5]], dtype=np.float32))
    assert quantize(weights, scale=10, top_terms=2).toarray().tolist() == [[5, 9, 0, 0, 0]]
    assert quantize(weights, scale=10, top_terms=10).toarray().tolist() == [[5, 9, 5, 1, 5]]


def test_stopword_columns_cover_function_words_punctuation_and_special_tokens() -> None:
    vocabulary = ["[PAD]", "[unused0]", "[CLS]", "the", "of", ".", "?", "##ing", "vitamin", "d", "2", "What"]
    dropped = set(stopword_columns(vocabulary).tolist())
    assert {vocabulary[i] for i in dropped} == {"[PAD]", "[unused0]", "[CLS]", "the", "of", ".", "?", "What"}


def test_drop_columns_leaves_other_entries_untouched() -> None:
    impacts = sp.csr_matrix(np.array([[3, 0, 7, 2]], dtype=np.float32))
    assert drop_columns(impacts, np.array([2, 3])).toarray().tolist() == [[3, 0, 0, 0]]
    assert impacts.toarray().tolist() == [[3, 0, 7, 2]]


def test_clear_rows_empties_only_the_flagged_rows() -> None:
    impacts = sp.csr_matrix(np.array([[3, 0, 7], [1, 2, 0], [0, 0, 5]], dtype=np.float32))
    cleared = clear_rows(impacts, [False, True, False])
    assert cleared.toarray().tolist() == [[3, 0, 7], [0, 0, 0], [0, 0, 5]]
    assert cleared.nnz == 3
