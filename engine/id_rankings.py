"""(doc id, score) lists from rankings by ordinal: where a batch's results become Python objects."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from braid.fusion.types import OrdinalRanking, Ranking


def id_rankings(ids: np.ndarray, ranked: Iterable[OrdinalRanking]) -> list[Ranking]:
    """Each (ordinals, scores) ranking as (doc id, score) pairs; `ids` is the object array of doc ids.

    Pausing Python's cycle collector while the pairs are built (they cannot form cycles) looks
    faster and is not: the collection is only deferred to the next allocations (SciFact test batch
    at depth 1000, fused, per query: 0.098 ms building + 0.056 after, against 0.133 with it running;
    Intel Xeon, 2026-12-05)."""
    return [list(zip(ids[positions].tolist(), scores.tolist())) for positions, scores in ranked]
