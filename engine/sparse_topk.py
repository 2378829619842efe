"""Score a batch of sparse queries against a sparse term x doc weight matrix; keep each query's top k."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from braid.engine.id_rankings import id_rankings
from braid.engine.retriever import OrdinalRanking, Ranking, Scorer

# Queries per sparse product: bounds the (queries x docs) candidate matrix held at once. A chunk
# spans at most _CELLS_PER_CHUNK query x doc cells, so a million documents take 33 queries at a
# time (a few hundred MB of candidates at worst) where SciFact takes 1024.
_ROWS_PER_CHUNK = 1024
_CELLS_PER_CHUNK = 2**25


# Matched documents above which ranking first keeps only the contenders for the top `depth`.
_CONTENDERS_FROM = 4096
_CONTENDERS_PER_DEPTH = 4
_SAMPLE_STEP = 64
# Relative margin below the depth-th sum: float32 rounding moves a value by at most 2**-24 of it.
_ROUNDING_MARGIN = 1e-6
# Raw sums a search keeps for fusion's exact scores (KeptSums), in cells (12-16 bytes each): all of
# SciFact's 300 test queries take ~1.5M for BM25 and SPLADE; a million-document corpus keeps a few
# queries and multiplies the rest again.
_KEPT_CELLS = 2**23


def rows_per_chunk(docs: int) -> int:
    return max(1, min(_ROWS_PER_CHUNK, _CELLS_PER_CHUNK // max(1, docs)))


def _rows(matrix: sp.csr_matrix, start: int, count: int) -> sp.csr_matrix:
    """Rows start..start+count of a CSR matrix; the matrix itself when that is all of it (slicing
    copies: for one query that was a tenth of a millisecond)."""
    return matrix if start == 0 and count >= matrix.shape[0] else matrix[start : start + count]


def top_k(columns: np.ndarray, scores: np.ndarray, k: int, tie_rank: np.ndarray) -> np.ndarray:
    """Positions of the best k entries: score descending, then ascending `tie_rank` (doc id order)."""
    if scores.dtype == np.float32 and len(scores) and scores.min() >= 0:
        # Non-negative float32 bit patterns sort like the floats: one unique int64 key per entry
        # (score bits high, reversed doc-id rank low) orders by score, then doc id, in one sort.
        keys = (scores.view(np.uint32).astype(np.int64) << 32) | (0xFFFFFFFF - tie_rank[columns])
        if len(keys) > k:
            best = np.argpartition(-keys, k - 1)[:k]
            return best[np.argsort(-keys[best])]
        return np.argsort(-keys)
    if len(scores) > k:
        kth_best = np.partition(scores, len(scores) - k)[len(scores) - k]
        (candidates,) = np.nonzero(scores >= kth_best)  # every entry tied with the k-th stays in the race
    else:
        candidates = np.arange(len(scores))
    order = np.lexsort((tie_rank[columns[candidates]], -scores[candidates]))
    return candidates[order[:k]]


def contenders(sums: np.ndarray, depth: int) -> np.ndarray | None:
    """Positions of the raw sums that can still rank in the top `depth` once `to_scores` rounds
    them (a monotone rounding to float32): at least the depth-th largest, less a margin wider than
    float32's rounding step, so every sum that could round to a tie stays in. None: too few to
    bother. At a million documents this cut a BM25 query's ranking work from ~11 ms to ~2."""
    if len(sums) <= max(_CONTENDERS_FROM, _CONTENDERS_PER_DEPTH * depth):
        return None
    # A floor from every _SAMPLE_STEP-th sum keeps ~4 x depth + 1,000 sums; when at least `depth`
    # are above it, the depth-th largest is among them (else: select over all the sums).
    sample = sums[::_SAMPLE_STEP]
    rank = min(len(sample), (_CONTENDERS_PER_DEPTH * depth) // _SAMPLE_STEP + 16)
    floor = np.partition(sample, len(sample) - rank)[len(sample) - rank]
    above = np.flatnonzero(sums >= floor)
    pool = sums[above] if len(above) >= depth else sums
    kth = np.partition(pool, len(pool) - depth)[len(pool) - depth]
    return np.flatnonzero(sums >= kth - abs(kth) * _ROUNDING_MARGIN)


def rank_matrix(
    query_weights: sp.csr_matrix,
    term_doc_weights: sp.csr_matrix,
    depth: int,
    tie_rank: np.ndarray,
    to_scores: Callable[[np.ndarray], np.ndarray],
    to_reported: Callable[[np.ndarray, np.ndarray], np.ndarray],
    allowed: np.ndarray | None = None,
    keep: KeptSums | None = None,
) -> list[OrdinalRanking]:
    """(columns, reported scores) for each row of `query_weights @ term_doc_weights`, best first
    (a query matches docs it scores): `search_matrix` without the doc ids. `keep` receives each
    row's raw sums, as far as its budget allows (exact scores for fusion, see KeptSums).

    `to_scores` turns raw double sums into the scores that rank (e.g. Lucene's float32).
    `to_reported(scores, starts)` maps all queries' ranked scores at once, concatenated with each
    query's first position flagged in `starts`, to the values returned. `allowed` (a filter: one
    bool per column) drops other documents before ranking, so a list is the unfiltered one
    restricted to them, scored with the statistics of the whole corpus.
    """
    columns_by_query: list[np.ndarray] = []
    ranked_scores: list[np.ndarray] = []
    chunk = rows_per_chunk(term_doc_weights.shape[1])
    for start in range(0, query_weights.shape[0], chunk):
        sums = (_rows(query_weights, start, chunk) @ term_doc_weights).tocsr()
        for row in range(sums.shape[0]):
            begin, end = sums.indptr[row], sums.indptr[row + 1]
            columns, sums_here = sums.indices[begin:end], sums.data[begin:end]
            if keep is not None:
                keep.add(columns, sums_here)
            if allowed is not None:
                kept = allowed[columns]
                columns, sums_here = columns[kept], sums_here[kept]
            near_top = contenders(sums_here, depth)
            if near_top is not None:
                columns, sums_here = columns[near_top], sums_here[near_top]
            scores = to_scores(sums_here)
            best = top_k(columns, scores, depth, tie_rank)
            columns_by_query.append(columns[best].astype(np.int64))
            ranked_scores.append(scores[best])
    lengths = np.array([len(columns) for columns in columns_by_query], dtype=np.int64)
    starts = np.zeros(int(lengths.sum()), dtype=bool)
    starts[(np.cumsum(lengths) - lengths)[lengths > 0]] = True
    reported = np.asarray(to_reported(np.concatenate(ranked_scores) if ranked_scores else np.empty(0), starts), dtype=np.float64)
    return list(zip(columns_by_query, np.split(reported, np.cumsum(lengths)[:-1]) if len(lengths) else []))


def rank_matrix_scored(
    query_weights: sp.csr_matrix,
    term_doc_weights: sp.csr_matrix,
    depth: int,
    tie_rank: np.ndarray,
    to_scores: Callable[[np.ndarray], np.ndarray],
    to_reported: Callable[[np.ndarray, np.ndarray], np.ndarray],
    to_exact: Callable[[np.ndarray], np.ndarray],
    allowed: np.ndarray | None = None,
) -> tuple[list[OrdinalRanking], Scorer]:
    """`rank_matrix`, and a Scorer of other columns for the same rows (`to_exact` of their sums):
    the sums ranking computed are kept (KeptSums) and gathered, rows past its budget multiplied again."""
    kept = KeptSums(term_doc_weights.shape[1])
    lists = rank_matrix(query_weights, term_doc_weights, depth, tie_rank, to_scores, to_reported, allowed, kept)

    def scorer(wanted: Sequence[np.ndarray]) -> list[np.ndarray]:
        again = lambda rows: sums_at(query_weights[rows], term_doc_weights, [wanted[row] for row in rows])  # noqa: E731
        return [to_exact(sums) for sums in kept.at(wanted, again)]

    return lists, scorer


def search_matrix(
    query_weights: sp.csr_matrix,
    term_doc_weights: sp.csr_matrix,
    depth: int,
    doc_ids: Sequence[str] | np.ndarray,
    tie_rank: np.ndarray,
    to_scores: Callable[[np.ndarray], np.ndarray],
    to_reported: Callable[[np.ndarray, np.ndarray], np.ndarray],
    allowed: np.ndarray | None = None,
) -> list[Ranking]:
    """Rankings of (doc id, score) for each row of `query_weights @ term_doc_weights`: see rank_matrix."""
    ranked = rank_matrix(query_weights, term_doc_weights, depth, tie_rank, to_scores, to_reported, allowed)
    id_array = np.asarray(doc_ids, dtype=object)  # free when callers pass their cached object array (a 1M list took 15 ms)
    return id_rankings(id_array, ranked)


def sums_at(query_weights: sp.csr_matrix, term_doc_weights: sp.csr_matrix, wanted: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Entries of `query_weights @ term_doc_weights` at each row's `wanted` columns (0 where the
    query matches nothing): exact scores for fusion, the same sums search ranks, gathered in bulk."""
    found: list[np.ndarray] = []
    chunk = rows_per_chunk(term_doc_weights.shape[1])
    scratch: np.ndarray | None = None
    for start in range(0, query_weights.shape[0], chunk):
        sums = (_rows(query_weights, start, chunk) @ term_doc_weights).tocsr()
        if scratch is None:
            scratch = np.zeros(sums.shape[1], dtype=sums.dtype)
        for row in range(sums.shape[0]):
            columns = sums.indices[sums.indptr[row] : sums.indptr[row + 1]]
            scratch[columns] = sums.data[sums.indptr[row] : sums.indptr[row + 1]]
            found.append(scratch[wanted[start + row]])
            scratch[columns] = 0
    return found


class KeptSums:
    """The raw sums of the rows a search ranked, so that the exact scores fusion asks for next
    (documents this retriever did not return) are gathered instead of multiplied again: the same
    values `sums_at` computes. Rows past `budget` cells are not kept and are multiplied again.

    A row that matched at least half the documents is kept dense (a sum per document, 0 where it
    matched nothing; no larger than its columns and sums), so that fusion gathers from it directly
    instead of spreading it over a scratch row and clearing it again: SciFact's BM25 and SPLADE
    queries match nearly every document, and their exact scores at depth 1000 took 25 and 37 us a
    query spread, 15 and 7 gathered (AMD EPYC, 2026-12-05)."""

    def __init__(self, docs: int, budget: int | None = None) -> None:
        self.docs = docs
        self.budget = _KEPT_CELLS if budget is None else budget
        self.cells = 0
        self.rows: list[np.ndarray | tuple[np.ndarray, np.ndarray] | None] = []

    def add(self, columns: np.ndarray, sums: np.ndarray) -> None:
        if self.cells + len(columns) > self.budget:
            self.rows.append(None)
            return
        self.cells += len(columns)
        if 2 * len(columns) >= self.docs:
            dense = np.zeros(self.docs, dtype=sums.dtype)
            dense[columns] = sums
            self.rows.append(dense)
        else:
            self.rows.append((columns.copy(), sums.copy()))

    def at(self, wanted: Sequence[np.ndarray], recompute: Callable[[list[int]], list[np.ndarray]]) -> list[np.ndarray]:
        """Row i's sums at `wanted[i]` (0 where it matched nothing); `recompute(rows)` gives those
        of rows not kept, as `sums_at` would."""
        found: list[np.ndarray] = []
        scratch: np.ndarray | None = None
        for kept, columns in zip(self.rows, wanted):
            if kept is None:
                found.append(np.empty(0))
            elif isinstance(kept, np.ndarray):
                found.append(kept[columns])
            else:
                if scratch is None:
                    scratch = np.zeros(self.docs, dtype=kept[1].dtype)
                scratch[kept[0]] = kept[1]
                found.append(scratch[columns])
                scratch[kept[0]] = 0
        missing = [row for row, kept in enumerate(self.rows) if kept is None]
        for row, values in zip(missing, recompute(missing) if missing else []):
            found[row] = values
        return found


def doc_id_order(doc_ids: Sequence[str]) -> np.ndarray:
    """Rank of each doc id in ascending string order (Anserini's tie-break)."""
    ranks = np.empty(len(doc_ids), dtype=np.int64)
    ranks[np.array(sorted(range(len(doc_ids)), key=doc_ids.__getitem__), dtype=np.int64)] = np.arange(len(doc_ids))
    return ranks


def doc_positions(doc_ids: Sequence[str]) -> dict[str, int]:
    """Doc id -> its ordinal (column) in the index's order, for `ordinals`."""
    return {doc: ordinal for ordinal, doc in enumerate(doc_ids)}


def ordinals(wanted: Sequence[str], position: dict[str, int]) -> np.ndarray:
    """Column of each wanted doc id (the index's order)."""
    return np.fromiter((position[doc] for doc in wanted), dtype=np.int64, count=len(wanted))
