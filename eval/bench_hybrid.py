"""Benchmark: hybrid search latency and throughput, and fusion methods side by side.

    python -m braid.eval.bench_hybrid INDEX_DIR --dataset scifact --out results/hybrid_scifact.json

INDEX_DIR holds bm25, splade and dense. Measures single-query latency (p50/p99) of each retriever
alone and of the fused search run each way (every way `auto` chooses among, and what it chose), batch queries/s
at evaluation depth, then tunes each fusion family on the training split and scores it on test.
Writes JSON and a PNG of the latencies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from braid.engine.engine import Engine
from braid.engine.execution import candidates
from braid.engine.retriever import Retriever
from braid.eval.datasets import resolve_dataset
from braid.eval.metrics import DEFAULT_METRICS, Metric, evaluate
from braid.eval.report import machine, write_json
from braid.eval.suite.measure import engine_latency, latency_ratios
from braid.eval.suite.run import plan
from braid.eval.tuning import tune_fusion
from braid.fusion.tune import best
from braid.fusion.types import EVAL_DEPTH, SEARCH_DEPTH


def bench_latency(engine: Engine, queries: list[str], depth: int) -> dict[str, Any]:
    """Single-query latency of each retriever alone and of the fused search run each way (braid.engine.execution),
    `auto` being what the engine chose on this host; ratios of each to the serial sum and the slowest retriever."""

    def alone(retriever: Retriever) -> Callable[[str], object]:
        return lambda query: retriever.search([query], depth)

    def hybrid(view: Engine) -> Callable[[str], object]:
        return lambda query: view.search(query, k=10, depth=depth)

    chosen = engine.calibrate()
    methods: dict[str, Callable[[str], object]] = {name: alone(retriever) for name, retriever in engine.retrievers.items()}
    for way in candidates(engine.retrievers):
        methods[f"hybrid_{way}"] = hybrid(engine.view(execution=way))
    methods["hybrid_auto"] = hybrid(engine.view(execution="auto"))
    rows: dict[str, Any] = dict(engine_latency(engine, methods, queries))
    alone_p50 = [rows[name]["p50_ms"] for name in engine.retrievers]
    for name in [name for name in methods if name.startswith("hybrid_")]:
        rows[name].update(latency_ratios(rows[name]["p50_ms"], alone_p50))
    rows["auto_chose"] = chosen.to_dict()
    return rows


def bench_throughput(engine: Engine, queries: dict[str, str]) -> dict[str, Any]:
    engine.run(dict(list(queries.items())[:20]))
    engine.forget_queries()
    started = time.perf_counter()
    engine.run(queries)
    seconds = time.perf_counter() - started
    return {"queries": len(queries), "depth": EVAL_DEPTH, "seconds": round(seconds, 2), "queries_per_second": round(len(queries) / seconds, 1)}


def bench_methods(engine: Engine, dataset: Any, tuning_split: str, metric: str) -> list[dict[str, Any]]:
    """Each fusion family's best setting on the tuning split, scored on test: CC per normalization
    (and missing policy) and RRF, side by side with every single retriever."""
    points = tune_fusion(engine, dataset.name, dataset.load_split(tuning_split), Metric.parse(metric)).points
    test = dataset.load_split("test")
    test_ids = list(test.queries)
    test_lists = engine.retrieve([test.queries[q] for q in test_ids], EVAL_DEPTH)
    rows: list[dict[str, Any]] = []
    for name, rankings in test_lists.items():
        scores = evaluate(dict(zip(test_ids, rankings)), test.qrels, DEFAULT_METRICS).means
        rows.append({"setting": f"{name} alone", "test": {k: round(v, 4) for k, v in scores.items()}})
    families: dict[str, Any] = {}
    for point in points:
        config = point.config
        family = f"cc {config.norm}/{config.missing}" if config.method == "cc" else "rrf"
        families.setdefault(family, []).append(point)
    for family, members in families.items():
        winner = best(members)
        scores = evaluate(engine.view(fusion=winner.config).run(test.queries), test.qrels, DEFAULT_METRICS).means
        rows.append(
            {
                "setting": family,
                "config": winner.config.to_dict(),
                f"{tuning_split}_{metric}": round(winner.value, 4),
                "test": {k: round(v, 4) for k, v in scores.items()},
            }
        )
        click.echo(f"{family}: {tuning_split} {winner.value:.4f}, test {scores['ndcg@10']:.4f}", err=True)
    return rows


def plot(latencies: dict[str, Any], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Timed rows only: "auto_chose" holds auto's probe medians per way under the same key.
    names = [name for name, row in latencies.items() if isinstance(row, dict) and isinstance(row.get("p50_ms"), float)]
    figure, axes = plt.subplots(figsize=(8, 3.5))
    colors = {"hybrid_auto": "#c52"}
    axes.bar(names, [latencies[name]["p50_ms"] for name in names], color=[colors.get(name, "#2a7" if name.startswith("hybrid_") else "#888") for name in names])
    axes.tick_params(axis="x", labelrotation=20)
    axes.set_ylabel("single-query latency p50, ms")
    axes.set_title(title)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


@click.command()
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--dataset", "dataset_name", default="scifact", show_default=True)
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--depth", default=SEARCH_DEPTH, show_default=True, help="Candidates per retriever for the latency runs.")
@click.option("--metric", default="ndcg@10", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="results/hybrid_scifact.json", show_default=True)
def main(index_dir: str, dataset_name: str, data_dir: str | None, depth: int, metric: str, out: str) -> None:
    """Latency (each retriever, hybrid parallel and serial), batch q/s, fusion methods tuned then tested."""
    dataset = resolve_dataset(dataset_name, data_dir)
    test = dataset.load_split("test")
    queries = list(test.queries.values())
    with Engine.open(index_dir) as engine:
        default_fusion = engine.fusion
        latencies = bench_latency(engine, queries, depth)
        click.echo(f"latency: {latencies}", err=True)
        throughput = bench_throughput(engine, test.queries)
        click.echo(f"throughput: {throughput}", err=True)
        tuning_split = plan(dataset).tuning_split
        if tuning_split is None:
            raise click.ClickException(f"dataset {dataset.name} has no labelled split besides the one scored; nothing to tune on")
        methods = bench_methods(engine, dataset, tuning_split, metric)
    report = {
        "benchmark": "hybrid search",
        "dataset": dataset.name,
        "index": str(Path(index_dir).absolute()),
        "fusion_used_for_speed": default_fusion.to_dict(),
        "machine": machine(),
        "single_query_latency": {"depth": depth, **latencies},
        "batch": throughput,
        "fusion_methods": methods,
    }
    write_json(report, out)
    plot(latencies, Path(out).with_suffix(".png"), f"{dataset.name}: one query, depth {depth} per retriever")
    click.echo(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
