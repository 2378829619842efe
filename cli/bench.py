"""`braid bench`: the whole comparison on one or more datasets, written as tables, runs and plots."""

from __future__ import annotations

from pathlib import Path

import click

from braid.cli.options import data_dir_option, dense_query_encoder_option, filter_option, read_filter
from braid.indexing.config import BENCH_TIMED_RUNS, DEFAULT_DENSE_QUERY_ENCODER, DEFAULT_PRECISION, DEFAULT_RETRIEVERS, PRECISIONS


@click.command("bench")
@click.option("--datasets", default="scifact,nfcorpus", show_default=True, help="Comma-separated dataset names or paths (BEIR or MS MARCO layout).")
@click.option("--out", type=click.Path(file_okay=False), default="results", show_default=True, help="Where tables, runs, per-query metrics and plots go.")
@click.option(
    "--indexes",
    "index_root",
    type=click.Path(file_okay=False),
    default="indexes",
    show_default=True,
    help="Indexes live in INDEXES/<dataset> (reused when present).",
)
@click.option("--retrievers", default=",".join(DEFAULT_RETRIEVERS), show_default=True, help="Retrievers to index, run alone and fuse.")
@click.option("--rebuild", is_flag=True, help="Build the indexes again even when they exist (encodings still come from the cache).")
@click.option("--latency-queries", type=click.IntRange(min=1), default=300, show_default=True, help="Queries timed one at a time per method.")
@click.option(
    "--timed-runs",
    type=click.IntRange(min=1),
    default=BENCH_TIMED_RUNS,
    show_default=True,
    help="Batch runs per method; the fastest is reported (1: for scores alone, e.g. with --check).",
)
@click.option("--tune-step", type=click.FloatRange(min=0.01, max=0.5), default=0.1, show_default=True, help="Weight grid step when tuning fusion.")
@click.option("--readme", type=click.Path(dir_okay=False, exists=True), default=None, help="Also replace the table between the bench markers of this README.")
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default=DEFAULT_PRECISION,
    show_default=True,
    help="Dense and SPLADE encodings; the regression file's scores are float32 (host-independent).",
)
@click.option(
    "--check",
    "check_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Fail if a score drifts from this regression file (e.g. eval/regressions.yaml).",
)
@click.option(
    "--record",
    "record_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Rewrite the scores of this regression file's conditions with this run's.",
)
@dense_query_encoder_option
@filter_option
@data_dir_option
def bench_command(
    datasets: str,
    out: str,
    index_root: str,
    retrievers: str,
    rebuild: bool,
    latency_queries: int,
    timed_runs: int,
    tune_step: float,
    precision: str,
    readme: str | None,
    check_path: str | None,
    record_path: str | None,
    dense_query_encoder: str,
    filter_text: str | None,
    data_dir: str | None,
) -> None:
    """Index, tune, run and score every retriever alone and every fusion variant; print the table."""
    from braid.engine.registry import check_retriever_names
    from braid.eval.regressions import drifts, measured_by_condition, read_regressions, record, write_regressions
    from braid.eval.suite.run import BenchSettings, run_bench
    from braid.eval.suite.tables import markdown, update_readme
    from braid.fusion.errors import BraidError

    names = [name.strip() for name in datasets.split(",") if name.strip()]
    if not names:
        raise BraidError("--datasets needs at least one dataset name or path")
    chosen = check_retriever_names(retrievers.split(","))
    filter_json = read_filter(filter_text)
    if filter_json is not None and (check_path or record_path or readme):
        raise BraidError("--filter changes every score: it cannot be combined with --check, --record or --readme (they hold unfiltered scores)")
    command = f"braid bench --datasets {','.join(names)} --retrievers {','.join(chosen)} --precision {precision}"
    if filter_json is not None:
        command += f" --filter '{filter_json}'"
    if dense_query_encoder != DEFAULT_DENSE_QUERY_ENCODER:
        if "dense" not in chosen:
            raise BraidError(f"--dense-query-encoder {dense_query_encoder} needs the dense retriever in --retrievers")
        command += f" --dense-query-encoder {dense_query_encoder}"
    settings = BenchSettings(
        names, Path(out), Path(index_root), chosen, data_dir, rebuild, latency_queries, tune_step, command, precision, filter_json, dense_query_encoder,
        timed_runs,
    )  # fmt: skip
    # A broken file fails before the long run.
    expected = read_regressions(Path(check_path)) if check_path else None
    recorded = read_regressions(Path(record_path)) if record_path else None
    bench = run_bench(settings)
    table = markdown(bench)
    if readme:
        update_readme(Path(readme), table)
    click.echo(table)
    measured = measured_by_condition(bench)
    if recorded is not None and record_path:
        write_regressions(record(measured, recorded), Path(record_path))
    click.echo(f"wrote {Path(out) / 'bench.json'}, {Path(out) / 'bench.md'}, runs and per-query metrics under {out}/<dataset>/ ({bench['seconds']:.0f} s)")
    if expected is not None:
        problems = drifts(measured, expected, conditions=list(measured))
        if problems:
            raise BraidError(f"{len(problems)} score(s) drifted from {check_path}: " + "; ".join(problems))
        click.echo(f"every score within tolerance of {check_path}")
