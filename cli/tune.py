"""`braid tune`: learn fusion settings on labelled queries (or, with --unsupervised, on pseudo-queries
made from the corpus) and store them in the index."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from braid.cli.options import data_dir_option, open_engine, retrievers_option
from braid.eval.pseudo_queries import DEFAULT_PSEUDO_KIND, DEFAULT_PSEUDO_QUERIES, PSEUDO_KINDS
from braid.fusion.config import FUSION_METHODS
from braid.fusion.types import EVAL_DEPTH


@click.command("tune")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("data", required=False)
@click.option(
    "--unsupervised",
    is_flag=True,
    help="No labels: tune on pseudo-queries made from the index's own documents (each query's source document is its answer). "
    "Near-ties go to the setting nearest the label-free default. Measured in the README (Fusion without labels).",
)
@click.option(
    "--pseudo-queries", "pseudo_count", type=click.IntRange(min=1), default=DEFAULT_PSEUDO_QUERIES, show_default=True, help="With --unsupervised: how many."
)
@click.option(
    "--pseudo-kind",
    type=click.Choice(PSEUDO_KINDS),
    default=DEFAULT_PSEUDO_KIND,
    show_default=True,
    help="With --unsupervised: a title, a sentence or a keyphrase per document.",
)
@click.option("--split", default="train", show_default=True, help="Labelled split to tune on (never the one you report).")
@click.option("--metric", default="ndcg@10", show_default=True, help="What to maximise.")
@click.option("--step", type=click.FloatRange(min=0.01, max=0.5), default=0.1, show_default=True, help="Weight grid step over the simplex.")
@click.option("--methods", default=",".join(FUSION_METHODS), show_default=True, help="Fusion methods to search.")
@click.option("--depth", type=click.IntRange(min=1), default=EVAL_DEPTH, show_default=True, help="Hits per retriever.")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False), default=None, help="PNG of the sweep (default: INDEX_DIR/fusion_sweep.png).")
@click.option("--no-save", is_flag=True, help="Print the result without storing it in the index.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@retrievers_option
@data_dir_option
def tune_command(
    index_dir: str,
    data: str | None,
    unsupervised: bool,
    pseudo_count: int,
    pseudo_kind: str,
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
    """Search fusion weights, normalizations and RRF k on DATA's --split (or, with --unsupervised and
    no DATA, on pseudo-queries from INDEX_DIR's documents); store the best in INDEX_DIR."""
    from braid.eval.datasets import resolve_dataset
    from braid.eval.metrics import Metric
    from braid.eval.sweep_plot import plot_sweep
    from braid.eval.tuning import leaders, tune_fusion, tune_unsupervised
    from braid.fusion.config import FusionConfig
    from braid.fusion.errors import BraidError
    from braid.indexing.tuned_fusion import write_tuned

    parsed_metric = Metric.parse(metric)
    chosen_methods = [name.strip() for name in methods.split(",") if name.strip()]
    for name in chosen_methods:
        if name not in FUSION_METHODS:
            raise BraidError(f"unknown fusion method {name!r} in --methods; choose from {', '.join(FUSION_METHODS)}")
    if unsupervised and data is not None:
        raise BraidError(f"--unsupervised makes its queries from the index and reads no DATA; drop {data!r} (or drop --unsupervised to tune on its labels)")
    if not unsupervised and data is None:
        raise BraidError("missing DATA: give a dataset with labelled queries, or --unsupervised to tune on pseudo-queries from the index")
    labelled = None if data is None else resolve_dataset(data, data_dir)
    split_data = None if labelled is None else labelled.load_split(split)
    name = Path(index_dir).resolve().name if labelled is None else labelled.name
    say = (lambda line: None) if as_json else click.echo
    with open_engine(index_dir, retrievers, fusion_config=FusionConfig(missing="exact")) as engine:
        if split_data is None:
            tuning = tune_unsupervised(engine, name, parsed_metric, step, chosen_methods, depth, pseudo_count, pseudo_kind, progress=say)
        else:
            tuning = tune_fusion(engine, name, split_data, parsed_metric, step, chosen_methods, depth, progress=say)
    names, winner, tuned_on = tuning.tuned_on["retrievers"], tuning.winner, tuning.tuned_on
    tuned_split = tuned_on["split"]
    plot_file = Path(plot_path) if plot_path else Path(index_dir) / "fusion_sweep.png"
    plot_sweep(tuning.points, names, parsed_metric.name, plot_file, f"{name} {tuned_split}: {parsed_metric.name} by fusion setting")
    if not no_save:
        write_tuned(index_dir, winner.config, tuned_on)
    report: dict[str, Any] = {"best": winner.config.to_dict(), **tuned_on, "plot": str(plot_file), "saved": not no_save, "leaders": leaders(tuning.points)}
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"best per setting family ({parsed_metric.name} on {tuned_split}):")
    for row in report["leaders"]:
        click.echo(f"  {row['family']:<20} {row['value']:.4f}  weights {row['weights']}")
    click.echo(f"single retrievers: {json.dumps(tuned_on['single_retrievers'])}")
    click.echo(f"winner: {json.dumps(winner.config.to_dict())}  {parsed_metric.name} {winner.value:.4f}")
    click.echo(f"{'saved to ' + str(Path(index_dir) / 'fusion.json') if not no_save else 'not saved (--no-save)'}; plot: {plot_file}")
