"""`braid eval`: score an index on a dataset split with BEIR/trec_eval conventions."""

from __future__ import annotations

import json
import time
from typing import Any

import click

from braid.cli.options import data_dir_option, filter_option, fusion_options, open_engine, read_filter, retrievers_option, search_overrides, shard_ray_option
from braid.fusion.types import EVAL_DEPTH


@click.command("eval")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("data")
@click.option("--split", default="test", show_default=True, help="Qrels split to evaluate.")
@click.option("--depth", type=click.IntRange(min=1), default=EVAL_DEPTH, show_default=True, help="Hits retrieved per query.")
@click.option("--run", "run_path", type=click.Path(dir_okay=False), default=None, help="Also write a TREC run file.")
@click.option("--keep-self-hits", is_flag=True, help="Keep hits whose doc id equals the query id (BEIR drops them).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
@filter_option
@retrievers_option
@search_overrides
@fusion_options
@shard_ray_option
@data_dir_option
def eval_command(
    index_dir: str,
    data: str,
    split: str,
    depth: int,
    run_path: str | None,
    keep_self_hits: bool,
    as_json: bool,
    filter_text: str | None,
    retrievers: str | None,
    data_dir: str | None,
    **overrides: Any,
) -> None:
    """Evaluate INDEX_DIR on the judged queries of DATA's --split (with --filter: over matching documents only)."""
    from braid.engine.retriever import retriever_settings
    from braid.eval.datasets import resolve_dataset
    from braid.eval.metrics import DEFAULT_METRICS, evaluate
    from braid.eval.runs import write_trec_run

    filter_json = read_filter(filter_text)
    dataset = resolve_dataset(data, data_dir)
    split_data = dataset.load_split(split)
    with open_engine(index_dir, retrievers, **overrides) as engine:
        applied = engine.apply_filter(filter_json) if filter_json is not None else None
        started = time.perf_counter()
        run = engine.run(split_data.queries, depth=depth, filter=filter_json)
        seconds = time.perf_counter() - started
        settings = {name: retriever_settings(retriever) for name, retriever in engine.retrievers.items()}
        fusion = engine.fusion.applied(list(engine.retrievers)) if len(engine.retrievers) > 1 else None
    if run_path:
        write_trec_run(run, run_path, tag="braid-" + "+".join(settings))
    result = evaluate(run, split_data.qrels, DEFAULT_METRICS, drop_self_hits=not keep_self_hits)
    report = {
        "dataset": dataset.name,
        "split": split,
        "queries": result.num_queries,
        "depth": depth,
        "retrievers": settings,
        "fusion": fusion,
        "filter": applied.to_dict() if applied else None,
        "metrics": result.means,
        "search_seconds": round(seconds, 3),
        "queries_per_second": round(len(split_data.queries) / seconds, 1) if seconds > 0 else None,
    }
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{dataset.name} / {split}: {result.num_queries} queries, depth {depth}, retrievers {json.dumps(settings)}")
    if fusion:
        click.echo(f"fusion: {json.dumps(fusion)}")
    if applied is not None:
        click.echo(applied.describe())
    for name, value in result.means.items():
        click.echo(f"  {name:<12} {value:.4f}")
    click.echo(f"  searched in {seconds:.2f} s ({report['queries_per_second']} q/s)")
