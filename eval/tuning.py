"""Tune an open engine's fusion on a labelled split: shared by `braid tune` and `braid bench`."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from braid.engine.engine import Engine
from braid.eval.datasets import Split
from braid.eval.metrics import Metric
from braid.eval.pseudo_queries import DEFAULT_PSEUDO_KIND, DEFAULT_PSEUDO_QUERIES, DEFAULT_SEED, corpus_pseudo_queries
from braid.fusion.config import FUSION_METHODS, FusionConfig
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


def pseudo_split(engine: Engine, count: int = DEFAULT_PSEUDO_QUERIES, kind: str = DEFAULT_PSEUDO_KIND, seed: int = DEFAULT_SEED) -> Split:
    """Pseudo-queries from the index's own documents as a labelled split: each query's source
    document is its one relevant answer."""
    made = corpus_pseudo_queries(engine.docstore, count, kind, seed)
    return Split(f"pseudo-{kind}", {query.query_id: query.text for query in made}, {query.query_id: {query.doc_id: 1} for query in made})


def tune_unsupervised(
    engine: Engine,
    index_name: str,
    metric: Metric,
    step: float = 0.1,
    methods: Sequence[str] = FUSION_METHODS,
    depth: int = EVAL_DEPTH,
    count: int = DEFAULT_PSEUDO_QUERIES,
    kind: str = DEFAULT_PSEUDO_KIND,
    seed: int = DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
) -> Tuning:
    """`tune_fusion` on pseudo-queries made from the corpus: no labelled query is read. What
    fusion.json records says so (`unsupervised`), so nobody mistakes it for labelled tuning."""
    split = pseudo_split(engine, count, kind, seed)
    tuning = tune_fusion(engine, index_name, split, metric, step, methods, depth, progress)
    # Pseudo-queries are easy (every retriever finds a document by its own words), so many settings
    # tie at the top; a tie, or a gain below one query's worth, goes to the setting nearest the default.
    winner = nearest_default(tuning.points, tuning.tuned_on["retrievers"], 1.0 / max(1, len(split.queries)))
    tuned_on = {
        **tuning.tuned_on,
        "value": round(winner.value, 4),
        "unsupervised": {"pseudo_queries": len(split.queries), "kind": kind, "seed": seed, "best_value": round(tuning.winner.value, 4)},
    }
    return Tuning(tuning.points, winner, tuned_on)


def nearest_default(points: Sequence[SweepPoint], names: Sequence[str], tolerance: float) -> SweepPoint:
    """Of the settings within `tolerance` of the best, the one closest to the label-free default:
    same method, normalization and missing policy first, then the smallest L1 distance of weights."""
    default = FusionConfig()
    target = default.weights_for(names)
    top = best(points).value
    close = [point for point in points if point.value >= top - tolerance]

    def distance(point: SweepPoint) -> tuple[int, float]:
        config = point.config
        different = (config.method, config.norm, config.missing) != (default.method, default.norm, default.missing)
        return int(different), sum(abs(config.weights_for(names)[name] - target[name]) for name in names)

    return min(close, key=distance)


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
