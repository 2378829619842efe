"""`braid tune`: learn fusion settings on labelled queries and store them in the index."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from braid.cli.options import data_dir_option, open_engine, retrievers_option


@click.command("tune")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("data")
@click.option("--split", default="train", show_default=True, help="Labelled split to tune on (never the one you report).")
@click.option("--metric", default="ndcg@10", show_default=True, help="What to maximise.")
@click.option("--step", type=click.FloatRange(min=0.01, max=0.5), default=0.1, show_default=True, help="Weight grid step over the simplex.")
@click.option("--methods", default="cc,rrf", show_default=True, help="Fusion methods to search.")
@click.option("--depth", type=click.IntRange(min=1), default=1000, show_default=True, help="Hits per retriever.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="PNG of the sweep (default: INDEX_DIR/fusion_sweep.png).")
@click.option("--no-save", is_flag=True, help="Print the result without storing it in the index.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@retrievers_option
@data_dir_option
def tune_command(
    index_dir: str,
    data: str,
    split: str,
    metric: str,
    step: float,
    methods: str,
    depth: int,
    plot_path: str | None,
    no_save: bool,
    as_json: bool,
    retrievers: str | None,
    data_dir: str | None,
) -> None:
    """Search fusion weights, normalizations and RRF k on DATA's --split; store the best in INDEX_DIR."""
    from braid.engine.errors import BraidError
    from braid.eval.metrics import Metric
    from braid.eval.sweep_plot import plot_sweep
    from braid.fusion.config import FusionConfig, write_tuned
    from braid.fusion.tune import best, labelled_queries, sweep
    from braid.indexing.datasets import resolve_dataset

    parsed_metric = Metric.parse(metric)
    chosen_methods = [name.strip() for name in methods.split(",") if name.strip()]
    for name in chosen_methods:
        if name not in ("cc", "rrf"):
            raise BraidError(f"unknown fusion method {name!r} in --methods; choose from cc, rrf")
    dataset = resolve_dataset(data, data_dir)
    split_data = dataset.load_split(split)
    query_ids = [query_id for query_id in split_data.queries if query_id in split_data.qrels]
    texts = [split_data.queries[query_id] for query_id in query_ids]
    started = time.perf_counter()
    with open_engine(index_dir, retrievers, fusion_config=FusionConfig(missing="exact")) as engine:
        names = list(engine.retrievers)
        if len(names) < 2:
            raise BraidError(f"tuning fusion needs at least two retrievers; this index (or --retrievers) gives {', '.join(names)}")
        per_retriever = engine.retrieve(texts, depth)
        exact = engine.exact_scores(texts, per_retriever) if "cc" in chosen_methods else None
    retrieved = time.perf_counter() - started
    queries = labelled_queries(query_ids, per_retriever, split_data.qrels, exact)
    say = (lambda line: None) if as_json else click.echo
    say(f"{dataset.name} / {split}: {len(queries)} labelled queries, retrievers {', '.join(names)}, retrieved in {retrieved:.1f} s")
    started = time.perf_counter()
    points = sweep(queries, names, parsed_metric, step, chosen_methods, depth, progress=say)
    winner = best(points)
    singles = {name: next((p.value for p in points if p.config.method == "cc" and p.config.weights.get(name) == 1.0), None) for name in names}
    tuned_on = {
        "dataset": dataset.name,
        "split": split,
        "metric": parsed_metric.name,
        "value": round(winner.value, 4),
        "queries": len(queries),
        "retrievers": names,
        "single_retrievers": {name: round(value, 4) for name, value in singles.items() if value is not None},
        "settings_tried": len(points),
        "sweep_seconds": round(time.perf_counter() - started, 1),
    }
    plot_file = Path(plot_path) if plot_path else Path(index_dir) / "fusion_sweep.png"
    plot_sweep(points, names, parsed_metric.name, plot_file, f"{dataset.name} {split}: {parsed_metric.name} by fusion setting")
    if not no_save:
        write_tuned(index_dir, winner.config, tuned_on)
    report: dict[str, Any] = {"best": winner.config.to_dict(), **tuned_on, "plot": str(plot_file), "saved": not no_save, "leaders": _leaders(points)}
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"best per setting family ({parsed_metric.name} on {split}):")
    for row in report["leaders"]:
        click.echo(f"  {row['family']:<20} {row['value']:.4f}  weights {row['weights']}")
    click.echo(f"single retrievers: {json.dumps(tuned_on['single_retrievers'])}")
    click.echo(f"winner: {json.dumps(winner.config.to_dict())}  {parsed_metric.name} {winner.value:.4f}")
    click.echo(f"{'saved to ' + str(Path(index_dir) / 'fusion.json') if not no_save else 'not saved (--no-save)'}; plot: {plot_file}")


def _leaders(points: list[Any]) -> list[dict[str, Any]]:
    """The best setting of each family (cc per normalization/missing policy, rrf per k)."""
    families: dict[str, Any] = {}
    for point in points:
        config = point.config
        family = f"cc {config.norm}/{config.missing}" if config.method == "cc" else f"rrf k={config.rrf_k:g}"
        if family not in families or point.value > families[family].value:
            families[family] = point
    return [
        {"family": family, "value": round(point.value, 4), "weights": ",".join(f"{k}={v:g}" for k, v in point.config.weights.items())}
        for family, point in families.items()
    ]
