"""What fusion consumes and produces: ranked lists in, fused hits that explain themselves out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# One retriever's answer to one query: (doc id, score), best first.
Ranking = list[tuple[str, float]]
# The same answer by document ordinal (the index's column order): (ordinals, scores) arrays, best
# first. The engine's fused search works on these; doc ids appear only in what it returns.
OrdinalRanking = tuple[np.ndarray, np.ndarray]

# Candidates per retriever before fusion: evaluation (run files, metrics, tuning) needs deep lists,
# interactive search does not.
EVAL_DEPTH = 1000
SEARCH_DEPTH = 100


def trec_order(ranking: Ranking) -> list[tuple[str, float]]:
    """Sort hits as trec_eval does: score descending, then doc id descending."""
    by_doc_desc = sorted(ranking, key=lambda hit: hit[0], reverse=True)
    return sorted(by_doc_desc, key=lambda hit: hit[1], reverse=True)


@dataclass(frozen=True, slots=True)
class Contribution:
    """One retriever's part in a fused hit: the document's `rank` and raw `score` in that retriever's
    list, and `normalized`, what entered the fused score (convex combination: the normalized score,
    before weighting; RRF: weight / (k + rank); one retriever searched alone: its raw score).

    When the retriever did not return the document, `rank` is None and, under the convex
    combination's missing-document policy:
    - `min`: `score` is None; `normalized` is the lowest normalized score of the documents that
      list did return (0 if it returned none);
    - `zero`: `score` is None; `normalized` is 0;
    - `exact`: `score` is the retriever's own score for the document (`exact_scores`; 0 when it is
      not there), and `normalized` is that score normalized with the list's own statistics.
    Under RRF `score` is None and `normalized` 0."""

    rank: int | None
    score: float | None
    normalized: float

    def to_dict(self) -> dict[str, float | int | None]:
        return {"rank": self.rank, "score": self.score, "normalized": self.normalized}


@dataclass(frozen=True, slots=True)
class FusedHit:
    doc_id: str
    score: float
    sources: dict[str, Contribution]
