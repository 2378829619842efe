"""Per-query weights from unsupervised signals of each retriever's list: how far its top score
stands out (dispersion) and how much its top list agrees with the other retrievers'.

Measured by `python -m braid.eval.bench_label_free` and not braid's default: dispersion helped on
SciFact (nDCG@10 0.7354 vs 0.7330 with equal weights) and hurt on NFCorpus (0.3511 vs 0.3568);
agreement fell below dense alone on NFCorpus R@100 (README, "Fusion without labels").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, get_args

import numpy as np

from braid.fusion.prior import equal_weights
from braid.fusion.types import Ranking

QuerySignal = Literal["dispersion", "agreement"]
QUERY_SIGNALS: tuple[QuerySignal, ...] = get_args(QuerySignal)
SIGNAL_DEPTH = 100  # the head of a list whose score spread `dispersion` reads
AGREEMENT_DEPTH = 10  # the top lists `agreement` compares


def dispersion(ranking: Ranking, depth: int = SIGNAL_DEPTH) -> float:
    """How many standard deviations the top score lies above the mean of the list's first `depth`
    scores: a retriever sure of its best hit sets it apart (0 for fewer than two hits or a flat list)."""
    scores = np.array([score for _, score in ranking[:depth]], dtype=np.float64)
    if len(scores) < 2 or scores.std() == 0:
        return 0.0
    return float((scores[0] - scores.mean()) / scores.std())


def agreement(rankings: Mapping[str, Ranking], depth: int = AGREEMENT_DEPTH) -> dict[str, float]:
    """Per retriever: the mean share of its top `depth` documents that each other retriever's top
    `depth` also holds (a list the others corroborate is more likely right)."""
    tops = {name: {doc for doc, _ in ranking[:depth]} for name, ranking in rankings.items()}
    result = {}
    for name, top in tops.items():
        others = [other for other in tops if other != name]
        result[name] = float(np.mean([len(top & tops[other]) / depth for other in others])) if others else 1.0
    return result


def query_weights(rankings: Mapping[str, Ranking], signal: str) -> dict[str, float]:
    """Weights proportional to `signal` per list, summing to 1; equal weights when every signal is 0."""
    if signal not in QUERY_SIGNALS:
        raise ValueError(f"unknown query signal {signal!r}; choose from {', '.join(QUERY_SIGNALS)}")
    names = list(rankings)
    values = agreement(rankings) if signal == "agreement" else {name: dispersion(ranking) for name, ranking in rankings.items()}
    clipped = {name: max(0.0, values[name]) for name in names}
    total = sum(clipped.values())
    if total <= 0:
        return equal_weights(names)
    return {name: value / total for name, value in clipped.items()}
