"""Run a whole benchmark: for each dataset, build or reuse its index, tune fusion on the labelled
non-test split, run every method, time it, test significance, and write tables, runs and plots."""

from __future__ import annotations

import datetime
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from braid.engine.engine import Engine
from braid.eval.datasets import Dataset, resolve_dataset
from braid.eval.latency_floor import BENCH_QUERIES, applies, host_floor
from braid.eval.metrics import Metric
from braid.eval.report import machine, write_json
from braid.eval.significance import RANDOMIZATION_ROUNDS
from braid.eval.suite.indexes import ensure_index
from braid.eval.suite.measure import LATENCY_BLOCK, LATENCY_DEPTH, add_significance, measure_latency, run_methods
from braid.eval.suite.methods import Method, label_free_method, standard_methods, tuned_method
from braid.eval.suite.plots import plot_effectiveness_vs_latency
from braid.eval.suite.tables import markdown
from braid.eval.sweep_plot import plot_sweep
from braid.eval.tuning import tune_fusion
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.fusion.types import EVAL_DEPTH
from braid.indexing.config import BENCH_TIMED_RUNS, DEFAULT_DENSE_QUERY_ENCODER, DEFAULT_PRECISION
from braid.indexing.tuned_fusion import write_tuned

BEIR_METRICS: tuple[str, ...] = ("ndcg@10", "recall@100", "mrr@10", "map")
# MS MARCO passage: MRR@10 and Recall@1000 are the numbers everyone reports.
MSMARCO_METRICS: tuple[str, ...] = ("mrr@10", "recall@1000", "ndcg@10", "recall@100", "map")


@dataclass(frozen=True)
class BenchSettings:
    datasets: list[str]
    out: Path
    index_root: Path
    retrievers: list[str]
    data_dir: str | None = None
    rebuild: bool = False
    latency_queries: int = 300
    tune_step: float = 0.1
    command: str = "braid bench"
    precision: str = DEFAULT_PRECISION  # of the dense and SPLADE encodings
    filter: str | None = None  # every method searches only the documents this filter keeps
    dense_query_encoder: str = DEFAULT_DENSE_QUERY_ENCODER  # the index's model, or int8 (a search-time option)
    timed_runs: int = BENCH_TIMED_RUNS  # batch runs per method, the fastest reported


@dataclass(frozen=True)
class DatasetPlan:
    """Which split is scored, which (if any) tunes fusion, and the metrics reported."""

    dataset: Dataset
    eval_split: str
    tuning_split: str | None
    metrics: tuple[str, ...]

    @property
    def headline(self) -> str:
        return self.metrics[0]


def plan(dataset: Dataset) -> DatasetPlan:
    splits = dataset.splits()
    if dataset.layout == "msmarco":
        evaluated = next((name for name in ("dev.small", "dev", "test") if name in splits), None)
        metrics = MSMARCO_METRICS
    else:
        evaluated = "test" if "test" in splits else None
        metrics = BEIR_METRICS
    if evaluated is None:
        raise BraidError(f"dataset {dataset.name!r} at {dataset.root} has no split to score (found: {', '.join(splits) or 'none'})")
    # BEIR's dev split exists to tune on (NFCorpus); else train (SciFact). MS MARCO's dev.small is
    # drawn from dev, so only train may tune there.
    candidates = ("train",) if dataset.layout == "msmarco" else ("dev", "train")
    tuning = next((name for name in candidates if name in splits and name != evaluated), None)
    return DatasetPlan(dataset, evaluated, tuning, metrics)


def run_bench(settings: BenchSettings) -> dict[str, Any]:
    """Everything `braid bench` writes under settings.out; returns bench.json's content."""
    plans = [plan(resolve_dataset(name, settings.data_dir)) for name in settings.datasets]
    fused = len(settings.retrievers) > 1
    # Per dataset: the index, each method's run, tuning and the tuned run when possible, latency.
    steps = sum(2 + len(standard_methods(settings.retrievers)) + (1 if fused else 0) + (2 if fused and p.tuning_split else 0) for p in plans)
    reports = []
    started = time.perf_counter()
    with tqdm(total=steps, desc="braid bench", unit=" step", file=sys.stderr, dynamic_ncols=True) as bar:
        for dataset_plan in plans:
            reports.append(_bench_dataset(dataset_plan, settings, bar))
    bench = {
        "benchmark": "braid bench",
        "command": settings.command,
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "eval_depth": EVAL_DEPTH,
        "latency_depth": LATENCY_DEPTH,
        "latency_block": LATENCY_BLOCK,
        "timed_runs": settings.timed_runs,
        "randomization_rounds": RANDOMIZATION_ROUNDS,
        "seconds": round(time.perf_counter() - started, 1),
        "bench_process_peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "datasets": reports,
        "execution": "; ".join(f"{report['dataset']} {execution_way(report['execution'])}" for report in reports),
    }
    write_json(bench, settings.out / "bench.json")
    (settings.out / "bench.md").write_text(markdown(bench), encoding="utf-8")
    plot_effectiveness_vs_latency(reports, settings.out / "effectiveness_vs_latency.png")
    return bench


def _bench_dataset(dataset_plan: DatasetPlan, settings: BenchSettings, bar: tqdm) -> dict[str, Any]:
    dataset = dataset_plan.dataset
    folder = settings.out / dataset.name
    index_dir = settings.index_root / dataset.name

    def step(label: str) -> None:
        bar.set_description(f"{dataset.name}: {label}")

    step("index (build or reuse)")
    record = ensure_index(dataset.require_corpus(), index_dir, settings.retrievers, folder, settings.rebuild, settings.precision)
    bar.update(1)
    split = dataset.load_split(dataset_plan.eval_split)
    methods: list[Method] = standard_methods(settings.retrievers)
    if len(settings.retrievers) > 1:
        methods.append(label_free_method(settings.retrievers))  # what an index without fusion.json searches with
    tuning_report = None
    options = {"dense": {"query_encoder": settings.dense_query_encoder}} if "dense" in settings.retrievers else {}
    with Engine.open(index_dir, settings.retrievers, fusion=FusionConfig(), options=options) as engine:
        if len(settings.retrievers) > 1 and dataset_plan.tuning_split:
            step(f"tune fusion on {dataset_plan.tuning_split}")
            tuning = tune_fusion(
                engine, dataset.name, dataset.load_split(dataset_plan.tuning_split),
                Metric.parse(dataset_plan.headline), settings.tune_step, filter=settings.filter,
            )  # fmt: skip
            write_tuned(index_dir, tuning.winner.config, tuning.tuned_on)
            sweep_png = folder / "fusion_sweep.png"
            plot_sweep(tuning.points, settings.retrievers, dataset_plan.headline, sweep_png, f"{dataset.name} {dataset_plan.tuning_split}: fusion sweep")
            tuning_report = {**tuning.tuned_on, "best": tuning.winner.config.to_dict(), "plot": str(sweep_png)}
            methods.append(tuned_method(settings.retrievers, tuning.winner.config, dataset_plan.tuning_split))
            bar.update(1)

        def done(name: str) -> None:
            bar.update(1)
            step(f"ran {name}")

        applied = engine.apply_filter(settings.filter).to_dict() if settings.filter is not None else None
        step(f"run {methods[0].name}")
        results = run_methods(engine, methods, split, dataset_plan.metrics, folder / "runs", done, settings.filter, settings.timed_runs)
        step("single-query latency")
        latency_queries = list(split.queries.values())[: settings.latency_queries]
        measure_latency(engine, results, latency_queries, settings.filter)
        execution = engine.describe_execution()
        floor = None
        if settings.filter is None and applies(engine):
            step("latency floor")
            floor = host_floor(engine, latency_queries[:BENCH_QUERIES])
        bar.update(1)
    best_single = add_significance(results, dataset_plan.headline)
    per_query = {result.method.name: result.per_query for result in results}
    write_json(per_query, folder / "per_query.json")
    return {
        "dataset": dataset.name,
        "split": dataset_plan.eval_split,
        "queries": len(split.queries),
        "metrics": list(dataset_plan.metrics),
        "headline_metric": dataset_plan.headline,
        "best_single": best_single,
        "index": record.to_dict(),
        "tuning": tuning_report,
        "filter": applied,
        "execution": execution,
        "latency_floor": floor,
        "methods": [result.row() for result in results],
        "per_query_file": str(folder / "per_query.json"),
    }


def execution_way(described: dict[str, Any]) -> str:
    """How one query's retrievers ran: the setting, or what auto chose."""
    chosen = described.get("chosen")
    return f"{chosen['strategy']} (auto)" if chosen else described["setting"]
