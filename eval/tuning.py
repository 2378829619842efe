"""Tune an open engine's fusion on a labelled split: shared by `braid tune` and `braid bench`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from braid.engine.engine import Engine
from braid.eval.datasets import Split
from braid.eval.metrics import Metric
from braid.fusion.config import FUSION_METHODS
from braid.fusion.errors import BraidError
from braid.fusion.tune import SweepPoint, best, labelled_queries, sweep
from braid.fusion.types import EVAL_DEPTH


@dataclass(frozen=True)
class Tuning:
    points: list[SweepPoint]
    winner: SweepPoint
    tuned_on: dict[str, Any]  # what fusion.json records: split, metric, value, single retrievers, ...


def tune_fusion(
    engine: Engine,
    dataset_name: str,
    split: Split,
    metric: Metric,
    step: float = 0.1,
    methods: Sequence[str] = FUSION_METHODS,
    depth: int = EVAL_DEPTH,
    progress: Callable[[str], None] | None = None,
    filter: str | None = None,
) -> Tuning:
    """Every retriever's lists are fetched once (over the documents `filter` keeps); the sweep then
    costs fusion time only."""
    names = list(engine.retrievers)
    if len(names) < 2:
        raise BraidError(f"tuning fusion needs at least two retrievers; this index (or --retrievers) gives {', '.join(names)}")
    query_ids = [query_id for query_id in split.queries if query_id in split.qrels]
    texts = [split.queries[query_id] for query_id in query_ids]
    started = time.perf_counter()
    per_retriever = engine.retrieve(texts, depth, filter=filter)
    exact = engine.exact_scores(texts, per_retriever) if "cc" in methods else None
    retrieved = time.perf_counter() - started
    queries = labelled_queries(query_ids, per_retriever, split.qrels, exact)
    if progress:
        progress(f"{dataset_name} / {split.name}: {len(queries)} labelled queries, retrievers {', '.join(names)}, retrieved in {retrieved:.1f} s")
    started = time.perf_counter()
    points = sweep(queries, names, metric, step, methods, depth, progress=progress)
    winner = best(points)
    singles = {name: next((p.value for p in points if p.config.method == "cc" and p.config.weights.get(name) == 1.0), None) for name in names}
    tuned_on = {
        "dataset": dataset_name,
        "split": split.name,
        "metric": metric.name,
        "value": round(winner.value, 4),
        "queries": len(queries),
        "retrievers": names,
        "single_retrievers": {name: round(value, 4) for name, value in singles.items() if value is not None},
        "settings_tried": len(points),
        "sweep_seconds": round(time.perf_counter() - started, 1),
    }
    return Tuning(points, winner, tuned_on)


def leaders(points: Sequence[SweepPoint]) -> list[dict[str, Any]]:
    """The best setting of each family (cc per normalization/missing policy, rrf per k)."""
    families: dict[str, SweepPoint] = {}
    for point in points:
        config = point.config
        family = f"cc {config.norm}/{config.missing}" if config.method == "cc" else f"rrf k={config.rrf_k:g}"
        if family not in families or point.value > families[family].value:
            families[family] = point
    return [
        {"family": family, "value": round(point.value, 4), "weights": ",".join(f"{k}={v:g}" for k, v in point.config.weights.items())}
        for family, point in families.items()
    ]
