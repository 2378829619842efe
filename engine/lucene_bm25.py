"""Lucene's BM25 arithmetic in numpy, so a term-document matrix scores exactly as Lucene does.

Lucene stores each document's length in one byte (SmallFloat: 4 significant bits) and computes
every step of a term's score in float32; clause scores are summed in double and returned as a
float. Anserini then orders hits by (score, doc id), rounds scores to 1e-4 and nudges each tie down
by 1e-6 so that trec_eval keeps its order (trec_eval itself breaks ties by doc id, descending). Published numbers depend on each of these steps, so they
are reproduced here bit for bit rather than approximated.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

F32 = np.float32
# Lucene's SmallFloat.intToByte4 keeps small lengths exact; 24 is 255 - longToInt4(Integer.MAX_VALUE).
_NUM_FREE_VALUES = 24


def _int4_to_long(code: int) -> int:
    bits, shift = code & 0x07, (code >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


def _length_table() -> np.ndarray:
    """Decoded length for each of the 256 norm bytes (Lucene's BM25Similarity.LENGTH_TABLE)."""
    return np.array(
        [code if code < _NUM_FREE_VALUES else _NUM_FREE_VALUES + _int4_to_long(code - _NUM_FREE_VALUES) for code in range(256)],
        dtype=np.int64,
    )


LENGTH_TABLE = _length_table()


def encode_lengths(lengths: np.ndarray) -> np.ndarray:
    """Norm byte per document: the largest code whose decoded length does not exceed the true length."""
    return (np.searchsorted(LENGTH_TABLE, np.asarray(lengths, dtype=np.int64), side="right") - 1).astype(np.uint8)


def term_weights(
    term_docs: sp.csr_matrix,
    doc_lengths: np.ndarray,
    doc_count: int,
    total_terms: int,
    k1: float,
    b: float,
    boost: float = 1.0,
    length_codes: np.ndarray | None = None,
    document_frequency: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Lucene's BM25 score of each (term, doc) pair for a query term of the given boost.

    `term_docs` holds term frequencies (terms x docs); `doc_count` and `total_terms` are Lucene's
    field statistics (documents with at least one term; the sum of all term frequencies). The
    float32 results are stored as float64 so that a sparse product sums a query's terms in double,
    as Lucene's disjunction scorers do. `length_codes` (encode_lengths of `doc_lengths`) may be
    passed when already made: a million documents take 25 ms to encode. `document_frequency` (per
    row) replaces the matrix's own counts: a shard scores with the whole corpus's (term_statistics).
    """
    avgdl = F32(total_terms / doc_count)
    lengths = LENGTH_TABLE.astype(F32)
    with np.errstate(divide="ignore"):  # b=1 makes the code of a zero-length doc infinite, as in Lucene; no term reaches it
        length_cache = F32(1) / (F32(k1) * ((F32(1) - F32(b)) + F32(b) * lengths / avgdl))
    postings = np.diff(term_docs.indptr)
    frequency_of_term = postings if document_frequency is None else document_frequency
    idf = np.log(1.0 + (doc_count - frequency_of_term + 0.5) / (frequency_of_term + 0.5)).astype(F32)
    weight = np.repeat(F32(boost) * idf, postings)
    codes = encode_lengths(doc_lengths) if length_codes is None else length_codes
    norm_inverse = length_cache[codes[term_docs.indices]]
    frequency = term_docs.data.astype(F32)
    scores = weight - weight / (F32(1) + frequency * norm_inverse)
    return sp.csr_matrix((scores.astype(np.float64), term_docs.indices, term_docs.indptr), shape=term_docs.shape)


def as_lucene_scores(sums: np.ndarray) -> np.ndarray:
    """Lucene returns the double sum of clause scores as a float."""
    return np.asarray(sums, dtype=np.float64).astype(F32)


def anserini_tie_adjust(ranked: np.ndarray, starts: np.ndarray | None = None) -> np.ndarray:
    """Anserini's final scores for ranked lists (float32, best first), several at once if `starts`
    flags the first position of each list.

    Anserini rounds each score to 1e-4, then walks the list: when a score is within 1e-4 of the
    previous (already nudged) score it counts one more tie and subtracts 1e-6 per tie so far,
    otherwise the count resets. That walk is sequential; here it is solved as a fixed point over
    all lists at once: guess where the count resets, derive the counts, check the guess, repeat.
    Each round makes at least the first wrong guess right, so it ends, normally after one or two.
    """
    count = len(ranked)
    if count == 0:
        return np.asarray(ranked, dtype=F32)
    first = np.zeros(count, dtype=bool) if starts is None else np.asarray(starts, dtype=bool).copy()
    first[0] = True
    # Anserini 1.7 rounds in double (Math.round(score * 1e4) / 1e4) and stores the result as a float;
    # rounding in float32 instead flips ~1 score in 1,000 at the 4th decimal (checked against Lucene).
    rounded = (np.floor(ranked.astype(np.float64) * 1e4 + 0.5) / 1e4).astype(F32)
    positions = np.arange(count)
    resets = first.copy()
    resets[1:] |= (rounded[:-1] - rounded[1:]) > F32(1e-4)
    for _ in range(count):
        last_reset = np.maximum.accumulate(np.where(resets, positions, 0))
        ties = (positions - last_reset).astype(F32)
        adjusted = rounded - F32(1e-6) * ties
        checked = first.copy()
        checked[1:] |= (adjusted[:-1] - rounded[1:]) > F32(1e-4)
        if np.array_equal(checked, resets):
            return adjusted
        resets = checked
    raise AssertionError("tie adjustment did not converge")  # unreachable: see the docstring


def reported_scores(adjusted: np.ndarray) -> np.ndarray:
    """The values Anserini prints in a run file (six decimals)."""
    return np.round(np.asarray(adjusted, dtype=F32).astype(np.float64), 6)


def anserini_reported(ranked: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """What ranked lists report (flagged `starts`, as for anserini_tie_adjust): Anserini's
    tie-adjusted scores, rounded as in its run files. BM25 and SPLADE lists both report these."""
    return reported_scores(anserini_tie_adjust(ranked, starts))


def reported_score(value: float) -> float:
    return round(float(value), 6)
