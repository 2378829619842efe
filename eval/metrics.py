"""Ranking metrics with trec_eval's semantics, so braid's numbers equal published ones.

trec_eval ignores the rank column: it orders a query's hits by score, descending, breaking ties by
doc id in *descending* string order. nDCG gains are the relevance grades themselves (not 2^rel - 1).
A doc counts as relevant when its grade is >= 1; grade 0 (or an unjudged doc) is non-relevant.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from braid.eval.qrels import Qrels
from braid.fusion.errors import BraidError
from braid.fusion.types import Ranking, trec_order

DEFAULT_METRICS = ("ndcg@10", "recall@100", "recall@1000", "map", "mrr@10", "p@10")

_NAME = re.compile(r"^(ndcg|recall|map|mrr|p)(?:@([1-9][0-9]*))?$")


def _relevant_flags(docs: Sequence[str], judged: Mapping[str, int]) -> list[bool]:
    return [judged.get(doc, 0) >= 1 for doc in docs]


def ndcg(docs: Sequence[str], judged: Mapping[str, int], k: int | None) -> float:
    cut = docs if k is None else docs[:k]
    dcg = sum(max(judged.get(doc, 0), 0) / math.log2(rank + 2) for rank, doc in enumerate(cut))
    ideal_gains = sorted((grade for grade in judged.values() if grade > 0), reverse=True)
    if k is not None:
        ideal_gains = ideal_gains[:k]
    idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal_gains))
    return dcg / idcg if idcg > 0 else 0.0


def recall(docs: Sequence[str], judged: Mapping[str, int], k: int | None) -> float:
    num_relevant = sum(1 for grade in judged.values() if grade >= 1)
    cut = docs if k is None else docs[:k]
    return sum(_relevant_flags(cut, judged)) / num_relevant if num_relevant else 0.0


def precision(docs: Sequence[str], judged: Mapping[str, int], k: int | None) -> float:
    """trec_eval's P_k divides by k even when fewer than k docs were retrieved."""
    cut = docs if k is None else docs[:k]
    denominator = k if k is not None else len(cut)
    return sum(_relevant_flags(cut, judged)) / denominator if denominator else 0.0


def average_precision(docs: Sequence[str], judged: Mapping[str, int], k: int | None) -> float:
    num_relevant = sum(1 for grade in judged.values() if grade >= 1)
    if not num_relevant:
        return 0.0
    cut = docs if k is None else docs[:k]
    found, total = 0, 0.0
    for rank, is_relevant in enumerate(_relevant_flags(cut, judged), start=1):
        if is_relevant:
            found += 1
            total += found / rank
    return total / num_relevant


def reciprocal_rank(docs: Sequence[str], judged: Mapping[str, int], k: int | None) -> float:
    cut = docs if k is None else docs[:k]
    for rank, is_relevant in enumerate(_relevant_flags(cut, judged), start=1):
        if is_relevant:
            return 1.0 / rank
    return 0.0


_FUNCTIONS: dict[str, Callable[[Sequence[str], Mapping[str, int], int | None], float]] = {
    "ndcg": ndcg,
    "recall": recall,
    "p": precision,
    "map": average_precision,
    "mrr": reciprocal_rank,
}


@dataclass(frozen=True)
class Metric:
    """A parsed metric name such as `ndcg@10` (cutoff k) or `map` (whole list)."""

    name: str
    family: str
    k: int | None

    @classmethod
    def parse(cls, name: str) -> Metric:
        match = _NAME.match(name.strip().lower())
        if not match:
            raise BraidError(f"unknown metric {name!r}; use ndcg@k, recall@k, p@k, map, map@k, mrr or mrr@k")
        family, k = match.group(1), match.group(2)
        if family in ("recall", "p") and k is None:
            raise BraidError(f"metric {name!r} needs a cutoff, e.g. {family}@10")
        return cls(match.group(0), family, int(k) if k else None)

    def score(self, docs: Sequence[str], judged: Mapping[str, int]) -> float:
        return _FUNCTIONS[self.family](docs, judged, self.k)


@dataclass(frozen=True)
class Evaluation:
    """Mean metrics over the judged queries, and each query's own values (for significance tests)."""

    means: dict[str, float]
    per_query: dict[str, dict[str, float]]

    @property
    def num_queries(self) -> int:
        return len(self.per_query)


def evaluate(
    run: Mapping[str, Ranking],
    qrels: Qrels,
    metrics: Sequence[str] = DEFAULT_METRICS,
    drop_self_hits: bool = True,
) -> Evaluation:
    """Score `run` against `qrels`, averaging over every query that has judgements.

    A judged query missing from the run scores 0 (trec_eval -c), so a retriever cannot gain by
    returning nothing. With `drop_self_hits`, a hit whose doc id equals the query id is removed
    first (BEIR's convention; Anserini's -removeQuery).
    """
    parsed = [Metric.parse(name) for name in metrics]
    per_query: dict[str, dict[str, float]] = {}
    for query_id, judged in qrels.items():
        ranking = run.get(query_id, [])
        docs = [doc for doc, _ in trec_order(ranking) if not (drop_self_hits and doc == query_id)]
        if len(set(docs)) != len(docs):
            raise BraidError(f"the run lists a document twice for query {query_id!r}")
        per_query[query_id] = {metric.name: metric.score(docs, judged) for metric in parsed}
    count = len(per_query)
    means = {metric.name: (sum(values[metric.name] for values in per_query.values()) / count if count else 0.0) for metric in parsed}
    return Evaluation(means, per_query)
