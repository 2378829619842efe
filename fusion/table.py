"""One query's lists side by side: every candidate document once, each retriever's rank and score
for it (rank 0 where that retriever did not return it). Fusion methods are array arithmetic on it.

Candidates are integer keys (the engine's document ordinals), so building a table and ranking it
touch no string; lists of string ids get keys by first appearance (`from_rankings`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from braid.fusion.types import Contribution, FusedHit, OrdinalRanking, Ranking


@dataclass(frozen=True)
class CandidateTable:
    names: list[str]  # retrievers, one column each
    ordinals: np.ndarray  # every candidate once, in order of first appearance: its key (a document ordinal)
    ranks: np.ndarray  # candidates x retrievers, 1-based; 0 = not returned by that retriever
    scores: np.ndarray  # candidates x retrievers, raw scores; NaN where rank is 0
    doc_ids: list[str] = field(default_factory=list)  # a table made from string ids: each candidate's id

    @classmethod
    def from_ordinals(cls, lists: Mapping[str, OrdinalRanking], slots: np.ndarray | None = None) -> CandidateTable:
        """From (ordinals, scores) lists, best first. A doc listed twice by one retriever keeps its
        first (best) place. `slots` (optional): -1 for every ordinal, left as found; with it, rows
        are numbered without sorting (see _from_slots)."""
        names = list(lists)
        lengths = [len(ordinals) for ordinals, _ in lists.values()]
        total = sum(lengths)
        if total == 0:
            return cls(names, np.empty(0, dtype=np.int64), np.zeros((0, len(names)), dtype=np.int64), np.full((0, len(names)), np.nan))
        if slots is not None:
            table = cls._from_slots(names, lists, slots)
            if table is not None:
                return table
        keys = np.concatenate([np.asarray(ordinals, dtype=np.int64) for ordinals, _ in lists.values()])
        score_values = np.concatenate([np.asarray(scores, dtype=np.float64) for _, scores in lists.values()])
        columns = np.repeat(np.arange(len(names)), lengths)
        # One stable sort groups each candidate's entries in list order: its first entry is its
        # first appearance, and a repeat within one list sits right after the entry it repeats.
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.ones(total, dtype=bool)
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=starts[1:])
        # Rows are numbered by first appearance: count first appearances along the concatenation.
        first = np.zeros(total, dtype=bool)
        first[order[starts]] = True
        row_at = np.cumsum(first) - 1
        sorted_columns = columns[order]
        keep = starts.copy()
        keep[1:] |= sorted_columns[1:] != sorted_columns[:-1]
        entries = order[keep]
        rows = row_at[order[starts]][np.cumsum(starts)[keep] - 1]
        offsets = np.cumsum(lengths) - lengths
        rank_values = entries - offsets[columns[entries]] + 1
        ranks = np.zeros((int(row_at[-1]) + 1, len(names)), dtype=np.int64)
        scores = np.full(ranks.shape, np.nan)
        ranks[rows, columns[entries]] = rank_values
        scores[rows, columns[entries]] = score_values[entries]
        return cls(names, keys[first], ranks, scores)

    @classmethod
    def _from_slots(cls, names: list[str], lists: Mapping[str, OrdinalRanking], slots: np.ndarray) -> CandidateTable | None:
        """Rows by first appearance through a lookup array (slots[ordinal] = row), in time linear
        in the lists; None when a list repeats a doc (then the sorting path keeps its first place)."""
        fresh_parts: list[np.ndarray] = []
        rows_by_column: list[np.ndarray] = []
        count = 0
        try:
            for ordinals, _ in lists.values():
                ordinals = np.asarray(ordinals, dtype=np.int64)
                fresh = ordinals[slots[ordinals] < 0]
                slots[fresh] = np.arange(count, count + len(fresh))
                fresh_parts.append(fresh)
                count += len(fresh)
                rows_by_column.append(slots[ordinals])
        finally:
            for fresh in fresh_parts:
                slots[fresh] = -1
        # Filled a retriever at a time, each retriever's cells contiguous (the table holds the
        # transposes): SciFact's test batch at depth 1000 built its tables in 59 us a query, 70
        # filling candidates x retrievers arrays a column at a time (AMD EPYC, 2026-12-05).
        ranks_by_retriever = np.zeros((len(names), count), dtype=np.int64)
        scores_by_retriever = np.full(ranks_by_retriever.shape, np.nan)
        for column, (rows, (_, values)) in enumerate(zip(rows_by_column, lists.values())):
            ranks_by_retriever[column][rows] = np.arange(1, len(rows) + 1)
            scores_by_retriever[column][rows] = values
        # A doc listed twice by one retriever lands twice on one cell, so fewer cells are filled than entries.
        if np.count_nonzero(ranks_by_retriever) != sum(len(rows) for rows in rows_by_column):
            return None
        return cls(names, np.concatenate(fresh_parts), ranks_by_retriever.T, scores_by_retriever.T)

    @classmethod
    def from_rankings(cls, rankings: Mapping[str, Ranking]) -> CandidateTable:
        """From (doc id, score) lists: ids are keyed by first appearance, so keys are row numbers."""
        position: dict[str, int] = {}
        lists = {
            name: (
                np.fromiter((position.setdefault(doc_id, len(position)) for doc_id, _ in ranking), dtype=np.int64, count=len(ranking)),
                np.fromiter((score for _, score in ranking), dtype=np.float64, count=len(ranking)),
            )
            for name, ranking in rankings.items()
        }
        table = cls.from_ordinals(lists)
        return cls(table.names, table.ordinals, table.ranks, table.scores, list(position))

    @cached_property
    def returned(self) -> np.ndarray:
        """retrievers x candidates: whether each retriever returned each candidate, one contiguous
        row per retriever (fusion reads the table a retriever at a time)."""
        return np.ascontiguousarray(self.ranks.T > 0)

    def found(self, column: int) -> np.ndarray:
        return self.returned[column]

    def absent(self, column: int) -> np.ndarray:
        """Keys of the candidates this retriever did not return, in row order (what `exact` fills in)."""
        return self.ordinals[~self.returned[column]]


def contenders(fused: np.ndarray, count: int) -> np.ndarray:
    """Rows that can be among the `count` best: everything tied with the count-th stays in."""
    if count >= len(fused):
        return np.arange(len(fused))
    place = len(fused) - count  # the count-th best is the place-th smallest (counted from 0)
    kth = np.partition(fused, place)[place]
    return np.flatnonzero(fused >= kth)


def top_rows(fused: np.ndarray, tie_keys: np.ndarray, k: int | None) -> np.ndarray:
    """Rows of the k best fused scores, ties broken by ascending `tie_keys` (each row's rank in doc
    id order: deterministic, like trec_eval)."""
    count = len(fused) if k is None else min(k, len(fused))
    if count <= 0:
        return np.empty(0, dtype=np.int64)
    candidates = contenders(fused, count)
    values = -fused[candidates]
    order = np.argsort(values)
    ordered = values[order]
    tied = ordered[1:] == ordered[:-1]
    if tied.any():  # ties: common under RRF, and wherever a corpus holds duplicate documents
        order = _ties_by_key(order, tied, values, tie_keys[candidates])
    return candidates[order[:count]]


def _ties_by_key(order: np.ndarray, tied: np.ndarray, values: np.ndarray, tie_keys: np.ndarray) -> np.ndarray:
    """`order` (ascending `values`) with each run of equal values put in ascending `tie_keys`: only
    the rows in such runs are sorted again, by both keys, and each lands back inside its own run.
    NFCorpus at depth 1000 has ties in 321 of 323 queries (duplicate documents score alike
    everywhere), a few rows each: ranking took 111 us a query sorting every row by both keys, 34 so
    (Intel Xeon, 2026-12-04)."""
    in_run = np.zeros(len(order), dtype=bool)
    in_run[1:] = tied
    in_run[:-1] |= tied
    positions = np.flatnonzero(in_run)
    rows = order[positions]
    order[positions] = rows[np.lexsort((tie_keys[rows], values[rows]))]
    return order


def best_rows(fused: np.ndarray, doc_ids: Sequence[str], k: int | None) -> list[int]:
    """`top_rows` with ties broken by the rows' doc ids (only the contenders' ids are compared)."""
    count = len(fused) if k is None else min(k, len(fused))
    if count <= 0:
        return []
    candidates = contenders(fused, count)
    by_id = sorted(range(len(candidates)), key=lambda index: doc_ids[int(candidates[index])])
    tie_keys = np.empty(len(candidates), dtype=np.int64)
    tie_keys[by_id] = np.arange(len(candidates))
    return candidates[np.lexsort((tie_keys, -fused[candidates]))[:count]].tolist()


@dataclass(frozen=True)
class FusedRows:
    """One query fused: the best rows of its table in order, with every row's fused score and each
    retriever's part (`normalized`, and `raw` scores, NaN where unknown) to explain them."""

    table: CandidateTable
    rows: np.ndarray
    fused: np.ndarray
    normalized: np.ndarray
    raw: np.ndarray

    def ranked(self) -> tuple[np.ndarray, np.ndarray]:
        """(keys, fused scores) of the best rows, best first."""
        return self.table.ordinals[self.rows], self.fused[self.rows]

    def hits(self, doc_ids: Sequence[str], explain: bool = True) -> list[FusedHit]:
        """FusedHits for the best rows; `doc_ids[i]` is the id of the i-th best row."""
        hits = []
        names = self.table.names
        for index, row in enumerate(self.rows.tolist()):
            sources: dict[str, Contribution] = {}
            if explain:
                ranks = self.table.ranks[row].tolist()
                raw = self.raw[row].tolist()
                normalized = self.normalized[row].tolist()
                for column, name in enumerate(names):
                    score = raw[column]
                    sources[name] = Contribution(ranks[column] or None, None if score != score else score, normalized[column])
            hits.append(FusedHit(doc_ids[index], float(self.fused[row]), sources))
        return hits

    def string_hits(self, explain: bool = True) -> list[FusedHit]:
        """`hits` for a table made from string ids."""
        return self.hits([self.table.doc_ids[row] for row in self.rows.tolist()], explain)


def ranked_rows(table: CandidateTable, fused: np.ndarray, normalized: np.ndarray, raw: np.ndarray, k: int | None, tie_keys: np.ndarray | None) -> FusedRows:
    """The k best rows; `tie_keys` (per row) break ties, else the table's doc ids do."""
    rows = top_rows(fused, tie_keys, k) if tie_keys is not None else np.asarray(best_rows(fused, table.doc_ids, k), dtype=np.int64)
    return FusedRows(table, rows, fused, normalized, raw)


def fused_hits(table: CandidateTable, fused: np.ndarray, normalized: np.ndarray, raw: np.ndarray, k: int | None, explain: bool) -> list[FusedHit]:
    """FusedHits for the k best rows of a table made from string ids."""
    return ranked_rows(table, fused, normalized, raw, k, None).string_hits(explain)
