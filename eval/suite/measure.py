"""Run every method of a benchmark over one dataset's evaluation queries and score it."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from braid.engine.engine import Engine
from braid.eval.datasets import Split
from braid.eval.latency import interleaved_latency
from braid.eval.metrics import evaluate
from braid.eval.runs import write_trec_run
from braid.eval.significance import compare
from braid.eval.suite.methods import Method
from braid.fusion.types import EVAL_DEPTH, SEARCH_DEPTH
from braid.indexing.config import BENCH_TIMED_RUNS

LATENCY_DEPTH = SEARCH_DEPTH  # candidates per retriever for the single-query timings (interactive search)
LATENCY_BLOCK = 5  # queries per turn of each method in the single-query timings (after one untimed)
_WARM_UP_QUERIES = 8  # untimed, before the timed runs: a batch (more than the engine's few queries)


@dataclass
class MethodResult:
    method: Method
    metrics: dict[str, float]
    per_query: dict[str, dict[str, float]]
    queries_per_second: float
    run_file: str
    latency: dict[str, float] = field(default_factory=dict)
    significance: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Fused methods, per query of the timed run: all that follows retrieval (the missing documents'
    # exact scores, fusion, the ranked lists), and of it the exact scores alone.
    fusion_ms: float | None = None
    exact_ms: float | None = None
    # What its retrievers allow searched one after the other, from their own runs in this bench:
    # 1 / sum(1 / q/s alone). Fusion worth its cost keeps q/s near it (threads can beat it).
    serial_bound: float | None = None

    @property
    def bound_ratio(self) -> float | None:
        return round(self.queries_per_second / self.serial_bound, 3) if self.serial_bound else None

    def row(self) -> dict[str, Any]:
        """The method's line in bench.json."""
        fusion = self.method.fusion.to_dict() if self.method.fusion and not self.method.is_single else None
        return {
            "method": self.method.name,
            "retrievers": list(self.method.retrievers),
            "fusion": fusion,
            "note": self.method.note,
            "metrics": {name: round(value, 4) for name, value in self.metrics.items()},
            "queries_per_second": self.queries_per_second,
            "serial_bound_qps": self.serial_bound,
            "serial_bound_ratio": self.bound_ratio,
            "fusion_ms_per_query": self.fusion_ms,
            "exact_ms_per_query": self.exact_ms,
            "latency_ms": self.latency,
            "significance": self.significance,
            "run_file": self.run_file,
        }


def run_methods(
    engine: Engine,
    methods: Sequence[Method],
    split: Split,
    metrics: Sequence[str],
    runs_dir: Path,
    on_done: Callable[[str], None],
    filter: str | None = None,
    timed_runs: int = BENCH_TIMED_RUNS,
) -> list[MethodResult]:
    """Each method's full run at evaluation depth, timed cold (query vectors encoded afresh); fused
    methods also get their fusion time and their retrievers' serial bound (see MethodResult).

    A few queries run through every retriever and fusion first, untimed: what a process does once
    (doc id order, thread pools, BLAS threads starting) would otherwise be charged to whichever
    method came first (SciFact: the first fused run's fusion 0.65-0.83 ms per query, the next 0.48-0.57).
    Each method's batch then runs `timed_runs` times and the fastest counts (see _fastest_run)."""
    results = []
    engine.run(dict(list(split.queries.items())[:_WARM_UP_QUERIES]), depth=EVAL_DEPTH, filter=filter)
    for method in methods:
        run, seconds, timings = _fastest_run(engine, engine.view(method.retrievers, method.fusion), split, filter, timed_runs)
        run_file = runs_dir / f"{method.name}.trec"
        write_trec_run(run, run_file, tag=f"braid-{method.name}")
        evaluation = evaluate(run, split.qrels, metrics)
        rate = round(len(split.queries) / seconds, 1) if seconds > 0 else 0.0
        result = MethodResult(method, evaluation.means, evaluation.per_query, rate, str(run_file))
        if not method.is_single and split.queries:
            result.fusion_ms = round(timings.get("fusion", 0.0) / len(split.queries), 3)
            result.exact_ms = round(timings.get("exact", 0.0) / len(split.queries), 3)
        results.append(result)
        on_done(method.name)
    add_serial_bounds(results)
    return results


def _fastest_run(engine: Engine, view: Engine, split: Split, filter: str | None, runs: int) -> tuple[dict[str, Any], float, dict[str, float]]:
    """(run, seconds) of the fastest of `runs` cold runs, each after a full garbage collection, and
    each timing (fusion, exact scores, ...) the fastest it took in any of them: timeit's rule, per
    quantity. A collection of the whole heap, owed by earlier methods (one batch run creates ~300,000
    (doc id, score) tuples and the bench keeps every run), could land in any timed window (one such
    bench gave RRF's fusion 0.67 ms per query where its runs take 0.43); on a shared 2-core VM a
    neighbour's burst does the same to fusion, ~15% of a run, inside the fastest run (SciFact,
    2026-12-05: cc-zscore 0.71 ms per query in the fastest run, 0.50 alone)."""
    fastest: tuple[dict[str, Any], float] | None = None
    best: dict[str, float] = {}
    for _ in range(runs):
        engine.forget_queries()
        gc.collect()
        timings: dict[str, float] = {}
        started = time.perf_counter()
        run = view.run(split.queries, depth=EVAL_DEPTH, filter=filter, timings=timings)
        seconds = time.perf_counter() - started
        if fastest is None or seconds < fastest[1]:
            fastest = (run, seconds)
        best = {key: min(value, best.get(key, value)) for key, value in timings.items()}
    assert fastest is not None
    return fastest[0], fastest[1], best


def add_serial_bounds(results: Sequence[MethodResult]) -> None:
    """Each fused method's serial bound, from the single retrievers' q/s measured in the same run."""
    alone = {result.method.retrievers[0]: result.queries_per_second for result in results if result.method.is_single}
    for result in results:
        if result.method.is_single or not all(alone.get(name, 0) > 0 for name in result.method.retrievers):
            continue
        result.serial_bound = round(1 / sum(1 / alone[name] for name in result.method.retrievers), 1)


def engine_latency(engine: Engine, methods: Mapping[str, Callable[[str], object]], queries: Sequence[str]) -> dict[str, dict[str, float]]:
    """p50/p99 of methods searching `engine` (or its views), taking turns every LATENCY_BLOCK
    queries, each turn ending the engine's retriever threads, so that each turn starts as a process
    running only its method would (see interleaved_latency and braid.engine.all_cores)."""
    return interleaved_latency(methods, queries, engine.forget_queries, block=LATENCY_BLOCK, end_turn=lambda _: engine.release_threads())


def measure_latency(engine: Engine, results: Sequence[MethodResult], queries: Sequence[str], filter: str | None = None) -> None:
    """Single-query p50/p99 of every method (see engine_latency)."""
    views = {result.method.name: engine.view(result.method.retrievers, result.method.fusion) for result in results}
    timed = engine_latency(engine, {name: interactive_search(view, filter) for name, view in views.items()}, queries)
    alone = {result.method.retrievers[0]: timed[result.method.name]["p50_ms"] for result in results if result.method.is_single}
    for result in results:
        result.latency = {**timed[result.method.name], "depth": LATENCY_DEPTH, "queries": len(queries)}
        if not result.method.is_single and all(alone.get(name, 0) > 0 for name in result.method.retrievers):
            result.latency.update(latency_ratios(result.latency["p50_ms"], [alone[name] for name in result.method.retrievers]))


def interactive_search(view: Engine, filter: str | None = None, timings: dict[str, float] | None = None) -> Callable[[str], object]:
    """One interactive search of `view` (top 10, LATENCY_DEPTH candidates): what the single-query
    timings time. With `timings`, each search stores its parts' milliseconds there (see Engine.search)."""
    return lambda query: view.search(query, k=10, depth=LATENCY_DEPTH, filter=filter, timings=timings)


def latency_ratios(p50_ms: float, alone_p50_ms: Sequence[float]) -> dict[str, float]:
    """A fused search's single-query p50 against its retrievers' own p50s in the same run: over their
    sum (what running them one after another costs, fusion aside) and over the slowest (what perfect overlap costs)."""
    return {"p50_over_serial_sum": round(p50_ms / sum(alone_p50_ms), 3), "p50_over_slowest": round(p50_ms / max(alone_p50_ms), 3)}


def add_significance(results: Sequence[MethodResult], metric: str, baseline: str = "bm25") -> str | None:
    """Paired tests of every method against `baseline` and against the best single retriever (by
    mean `metric`); returns the best single retriever's name."""
    by_name = {result.method.name: result for result in results}
    singles = [result for result in results if result.method.is_single]
    best_single = max(singles, key=lambda result: result.metrics[metric]).method.name if singles else None
    references = {f"vs_{baseline}": baseline, "vs_best_single": best_single}
    for result in results:
        for label, reference in references.items():
            if reference is None or reference not in by_name or reference == result.method.name:
                continue
            mine = {query: scores[metric] for query, scores in result.per_query.items()}
            theirs = {query: scores[metric] for query, scores in by_name[reference].per_query.items()}
            result.significance[label] = {"against": reference, "metric": metric, **compare(mine, theirs).to_dict()}
    return best_single
