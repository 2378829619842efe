"""Float SPLADE weights to Lucene's integer impacts, the same way for documents and queries."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

# Weights rounded per step (a million documents hold ~200M).
_QUANTIZED_AT_ONCE = 1 << 24
# Tokens without a letter or digit (punctuation, symbols) carry no topical meaning.
_HAS_WORD_CHARACTER = re.compile(r"[^\W_]")
# Function words of English queries. The tiny model still gives them weight (measured in the README).
_QUERY_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most
    my myself no nor not now of off on once only or other our ours ourselves out over own same she should
    so some such than that the their theirs them themselves then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves""".split()
)


def quantize(weights: sp.csr_matrix, scale: float, top_terms: int = 0, copy: bool = True) -> sp.csr_matrix:
    """round(weight * scale) as float32 integers, zeros dropped; `top_terms` > 0 keeps each row's
    heaviest terms (ties broken by vocabulary index, so the result does not depend on input order).
    `copy=False` quantizes a float32 CSR matrix the caller no longer needs in place."""
    weights = sp.csr_matrix(weights, dtype=np.float32, copy=copy)
    if top_terms > 0:
        weights = _keep_top_terms(weights, top_terms)
    for start in range(0, weights.nnz, _QUANTIZED_AT_ONCE):  # bounded float64 temporaries
        block = weights.data[start : start + _QUANTIZED_AT_ONCE]
        block[:] = np.rint(block.astype(np.float64) * scale)
    weights.eliminate_zeros()
    weights.sort_indices()
    return weights


def _keep_top_terms(weights: sp.csr_matrix, top_terms: int) -> sp.csr_matrix:
    weights.sort_indices()
    keep = np.ones(weights.nnz, dtype=bool)
    for row in range(weights.shape[0]):
        begin, end = weights.indptr[row], weights.indptr[row + 1]
        if end - begin > top_terms:
            order = np.lexsort((weights.indices[begin:end], -weights.data[begin:end]))
            drop = np.ones(end - begin, dtype=bool)
            drop[order[:top_terms]] = False
            keep[begin:end][drop] = False
    weights.data[~keep] = 0
    weights.eliminate_zeros()
    return weights


def is_stopword_token(token: str) -> bool:
    """A stopword, punctuation or a special token ([CLS], [unused0], ...)."""
    return token.lower() in _QUERY_STOPWORDS or not _HAS_WORD_CHARACTER.search(token) or (token.startswith("[") and token.endswith("]"))


def stopword_columns(vocabulary: Sequence[str]) -> np.ndarray:
    """Vocabulary indices of every token `is_stopword_token` matches."""
    return np.asarray([index for index, token in enumerate(vocabulary) if is_stopword_token(token)], dtype=np.int64)


def drop_columns(weights: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    weights = weights.copy()
    dropped = np.zeros(weights.shape[1], dtype=bool)
    dropped[columns] = True  # a lookup table: np.isin sorts both arrays on every call (~0.4 ms per query)
    weights.data[dropped[weights.indices]] = 0
    weights.eliminate_zeros()
    return weights


def clear_rows(weights: sp.csr_matrix, rows: Sequence[bool]) -> sp.csr_matrix:
    """Empty the rows flagged True (queries with nothing to search for)."""
    keep = sp.diags(np.logical_not(np.asarray(rows, dtype=bool)).astype(weights.dtype))
    cleared = (keep @ weights).tocsr()
    cleared.eliminate_zeros()
    return cleared
