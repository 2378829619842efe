"""One query's lists side by side: every candidate document once, each retriever's rank and score
for it (rank 0 where that retriever did not return it). Fusion methods are array arithmetic on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from braid.fusion.types import Contribution, FusedHit, Ranking


@dataclass(frozen=True)
class CandidateTable:
    names: list[str]  # retrievers, one column each
    doc_ids: list[str]  # every candidate once, in order of first appearance
    ranks: np.ndarray  # candidates x retrievers, 1-based; 0 = not returned by that retriever
    scores: np.ndarray  # candidates x retrievers, raw scores; NaN where rank is 0

    @classmethod
    def from_rankings(cls, rankings: Mapping[str, Ranking]) -> CandidateTable:
        """A doc listed twice by one retriever keeps its first (best) place."""
        names = list(rankings)
        position: dict[str, int] = {}
        rows = np.fromiter((position.setdefault(doc_id, len(position)) for ranking in rankings.values() for doc_id, _ in ranking), dtype=np.int64)
        lengths = [len(ranking) for ranking in rankings.values()]
        columns = np.repeat(np.arange(len(names)), lengths)
        rank_values = np.concatenate([np.arange(1, length + 1) for length in lengths]) if rows.size else np.empty(0, dtype=np.int64)
        score_values = np.fromiter((score for ranking in rankings.values() for _, score in ranking), dtype=np.float64, count=rows.size)
        # np.unique's first index per (row, column) keeps each doc's first place in a list.
        _, first = np.unique(rows * len(names) + columns, return_index=True)
        ranks = np.zeros((len(position), len(names)), dtype=np.int64)
        scores = np.full((len(position), len(names)), np.nan)
        ranks[rows[first], columns[first]] = rank_values[first]
        scores[rows[first], columns[first]] = score_values[first]
        return cls(names, list(position), ranks, scores)

    def found(self, column: int) -> np.ndarray:
        return self.ranks[:, column] > 0


def best_rows(fused: np.ndarray, doc_ids: list[str], k: int | None) -> list[int]:
    """Rows of the k best fused scores, ties broken by doc id (deterministic, like trec_eval)."""
    count = len(fused) if k is None else min(k, len(fused))
    if count == 0:
        return []
    if count < len(fused):
        kth = np.partition(-fused, count - 1)[count - 1]
        candidates = np.flatnonzero(-fused <= kth)  # everything tied with the k-th stays in
    else:
        candidates = np.arange(len(fused))
    return sorted(candidates.tolist(), key=lambda row: (-fused[row], doc_ids[row]))[:count]


def fused_hits(table: CandidateTable, fused: np.ndarray, normalized: np.ndarray, raw: np.ndarray, k: int | None, explain: bool) -> list[FusedHit]:
    """FusedHits for the k best rows; `normalized` / `raw` give each retriever's explained part."""
    hits = []
    for row in best_rows(fused, table.doc_ids, k):
        sources: dict[str, Contribution] = {}
        if explain:
            for column, name in enumerate(table.names):
                rank = int(table.ranks[row, column])
                score = raw[row, column]
                sources[name] = Contribution(rank or None, None if np.isnan(score) else float(score), float(normalized[row, column]))
        hits.append(FusedHit(table.doc_ids[row], float(fused[row]), sources))
    return hits
