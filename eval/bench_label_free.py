"""Fusion without labels, measured: `python -m braid.eval.bench_label_free --index scifact=DIR
--index nfcorpus=DIR --out results/label_free.json`.

For each dataset, on its test queries (labels used for scoring only): each retriever alone, equal
weights (braid's default until the prior), the prior (braid's label-free default), the prior learned
without this dataset (leave-one-out: the other datasets' labelled winners' weights), `braid tune
--unsupervised` with each pseudo-query kind, per-query weights from each list's dispersion and
agreement, and labelled tuning on the dataset's train/dev split. Each dataset is checked on nDCG@10
and Recall@100; NFCorpus Recall@100 is where a single retriever (dense) leads the others clearly.
"""

from __future__ import annotations

import datetime
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from braid.engine.engine import Engine
from braid.eval.datasets import resolve_dataset
from braid.eval.metrics import Metric, evaluate
from braid.eval.pseudo_queries import DEFAULT_PSEUDO_QUERIES, PSEUDO_KINDS
from braid.eval.report import machine, write_json
from braid.eval.significance import compare
from braid.eval.suite.run import plan
from braid.eval.tuning import tune_fusion, tune_unsupervised
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.fusion.prior import equal_weights
from braid.fusion.query_weights import QUERY_SIGNALS, query_weights
from braid.fusion.types import EVAL_DEPTH, Ranking

# Every dataset is checked on both; NFCorpus R@100 is the check a single retriever (dense) leads clearly.
METRICS = ("ndcg@10", "recall@100")
# A query subset chosen by a label-free rule, checked where it holds enough queries: short queries,
# where dense leads NFCorpus by the widest margin (R@100).
SHORT_WORDS = 3
MIN_SUBSET = 20
TUNING_METRIC = "ndcg@10"

Weigher = Callable[[Mapping[str, Ranking]], FusionConfig]


def fused_run(
    query_ids: Sequence[str], lists: Mapping[str, Sequence[Ranking]], exact: Mapping[str, Sequence[Mapping[str, float]]], choose: Weigher
) -> dict[str, Ranking]:
    """One fused ranking per query, each query fused with the settings `choose` gives for its lists."""
    run = {}
    for position, query_id in enumerate(query_ids):
        here = {name: rankings[position] for name, rankings in lists.items()}
        hits = choose(here).fuse(here, EVAL_DEPTH, {name: scores[position] for name, scores in exact.items()}, explain=False)
        run[query_id] = [(hit.doc_id, hit.score) for hit in hits]
    return run


def fixed(config: FusionConfig) -> Weigher:
    return lambda lists: config


def per_query(signal: str) -> Weigher:
    return lambda lists: FusionConfig(weights=query_weights(lists, signal))


def bench_dataset(name: str, index: str, data_dir: str | None, step: float, pseudo_count: int, say: Callable[[str], None]) -> dict[str, Any]:
    """Tunings (labelled and unsupervised) and every method's per-query scores on test."""
    dataset = resolve_dataset(name, data_dir)
    dataset_plan = plan(dataset)
    if dataset_plan.tuning_split is None:
        raise BraidError(f"dataset {name!r} has no labelled split besides {dataset_plan.eval_split} to tune on")
    metric = Metric.parse(TUNING_METRIC)
    with Engine.open(index, fusion=FusionConfig(missing="exact")) as engine:
        names = list(engine.retrievers)
        started = time.perf_counter()
        labelled = tune_fusion(engine, dataset.name, dataset.load_split(dataset_plan.tuning_split), metric, step)
        say(f"{name}: labelled tuning on {dataset_plan.tuning_split}: {labelled.winner.config.to_dict()} ({time.perf_counter() - started:.0f} s)")
        pseudo: dict[str, dict[str, Any]] = {}
        for kind in PSEUDO_KINDS:
            started = time.perf_counter()
            tuning = tune_unsupervised(engine, dataset.name, metric, step, count=pseudo_count, kind=kind)
            pseudo[kind] = {"config": tuning.winner.config, "tuned_on": tuning.tuned_on, "seconds": round(time.perf_counter() - started, 1)}
            say(f"{name}: unsupervised ({kind}): {tuning.winner.config.to_dict()} ({pseudo[kind]['seconds']} s)")
        test = dataset.load_split(dataset_plan.eval_split)
        query_ids = [query_id for query_id in test.queries if query_id in test.qrels]
        texts = [test.queries[query_id] for query_id in query_ids]
        lists = engine.retrieve(texts, EVAL_DEPTH)
        exact = engine.exact_scores(texts, lists)
    methods: dict[str, tuple[str, Weigher | None]] = {single: (f"{single} alone", None) for single in names}
    methods["equal"] = ("equal weights, z-score (the default before the prior)", fixed(FusionConfig(weights=equal_weights(names))))
    methods["prior"] = ("prior: braid's label-free default (no fusion.json)", fixed(FusionConfig()))
    for made, found in pseudo.items():
        methods[f"pseudo-{made}"] = (f"braid tune --unsupervised --pseudo-kind {made}", fixed(found["config"]))
    for signal in QUERY_SIGNALS:
        methods[f"query-{signal}"] = (f"per-query weights by {signal}", per_query(signal))
    methods["labelled"] = (f"braid tune on {dataset_plan.tuning_split} (labels)", fixed(labelled.winner.config))
    scores = {}
    for method, (_, weigher) in methods.items():
        run = dict(zip(query_ids, lists[method])) if weigher is None else fused_run(query_ids, lists, exact, weigher)
        scores[method] = evaluate(run, test.qrels, METRICS).per_query
    return {
        "dataset": dataset.name,
        "index": index,
        "split": dataset_plan.eval_split,
        "queries": len(query_ids),
        "retrievers": names,
        "labelled": {"split": dataset_plan.tuning_split, "config": labelled.winner.config.to_dict(), "value": round(labelled.winner.value, 4)},
        "unsupervised": {kind: {"config": found["config"].to_dict(), "seconds": found["seconds"], **found["tuned_on"]} for kind, found in pseudo.items()},
        "methods": {method: note for method, (note, _) in methods.items()},
        "_lists": (query_ids, lists, exact, test),
        "_short": {query_id for query_id, text in zip(query_ids, texts) if len(text.split()) <= SHORT_WORDS},
        "_scores": scores,
    }


def leave_one_out(reports: Sequence[dict[str, Any]]) -> None:
    """Each dataset fused with the mean of the *other* datasets' labelled weights (z-score, exact):
    the prior as a collection braid has never seen would get it."""
    for report in reports:
        others = [other["labelled"]["config"]["weights"] for other in reports if other is not report]
        if not others:
            continue
        names = report["retrievers"]
        weights = {name: round(sum(other.get(name, 0.0) for other in others) / len(others), 4) for name in names}
        query_ids, lists, exact, test = report["_lists"]
        run = fused_run(query_ids, lists, exact, fixed(FusionConfig(weights=weights)))
        report["_scores"]["prior-loo"] = evaluate(run, test.qrels, METRICS).per_query
        report["methods"]["prior-loo"] = f"prior without this dataset: {weights}"


def summarize(reports: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per check: every method's mean, and paired tests of each fusion against the best single retriever and equal weights."""
    checks = []
    for report in reports:
        subsets: dict[str, set[str] | None] = {"all": None}
        if len(report["_short"]) >= MIN_SUBSET:
            subsets[f"<= {SHORT_WORDS} words"] = report["_short"]
        for (subset, kept), metric in itertools.product(subsets.items(), METRICS):
            dataset = report["dataset"]
            scores = {method: {query: values for query, values in per.items() if kept is None or query in kept} for method, per in report["_scores"].items()}
            means = {method: sum(values[metric] for values in per.values()) / len(per) for method, per in scores.items()}
            best_single = max(report["retrievers"], key=lambda name: means[name])
            rows = []
            for method, per in scores.items():
                mine = {query: values[metric] for query, values in per.items()}
                row: dict[str, Any] = {"method": method, "note": report["methods"][method], "mean": round(means[method], 4)}
                if method not in report["retrievers"]:
                    for label, other in (("vs_best_single", best_single), ("vs_equal", "equal")):
                        if other != method:
                            theirs = {query: values[metric] for query, values in scores[other].items()}
                            row[label] = compare(mine, theirs).to_dict()
                rows.append(row)
            checks.append(
                {"dataset": dataset, "queries": subset, "count": len(scores[best_single]), "metric": metric, "best_single": best_single, "rows": rows}
            )
    return checks


def markdown(checks: Sequence[dict[str, Any]]) -> str:
    """One column per check, one row per method; bold where a fusion is below the best single retriever."""
    header = ["method", *[_column(check) for check in checks]]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    order = [row["method"] for row in checks[0]["rows"]]
    for method in order:
        cells = [method]
        for check in checks:
            row = next((row for row in check["rows"] if row["method"] == method), None)
            if row is None:
                cells.append("—")
                continue
            best = next(other["mean"] for other in check["rows"] if other["method"] == check["best_single"])
            below = method not in ("bm25", "splade", "dense") and row["mean"] < best
            cells.append(f"**{row['mean']:.4f}**" if below else f"{row['mean']:.4f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _column(check: Mapping[str, Any]) -> str:
    scope = "" if check["queries"] == "all" else f", {check['queries']} ({check['count']} queries)"
    return f"{check['dataset']} {check['metric']}{scope}"


@click.command()
@click.option("--index", "indexes", multiple=True, required=True, help="DATASET=INDEX_DIR (an index of all three retrievers), once per dataset.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option(
    "--out", type=click.Path(dir_okay=False), default="results/label_free.json", show_default=True, help="JSON report; the Markdown table goes beside it."
)
@click.option("--step", type=click.FloatRange(min=0.01, max=0.5), default=0.1, show_default=True, help="Weight grid step of every tuning.")
@click.option(
    "--pseudo-queries", "pseudo_count", type=click.IntRange(min=1), default=DEFAULT_PSEUDO_QUERIES, show_default=True, help="Pseudo-queries per kind."
)
def main(indexes: tuple[str, ...], data_dir: str | None, out: str, step: float, pseudo_count: int) -> None:
    """Label-free fusion methods against each retriever alone and labelled tuning, on test queries."""
    pairs = []
    for spec in indexes:
        name, equals, folder = spec.partition("=")
        if not equals or not name or not folder:
            raise click.BadParameter(f"{spec!r} is not DATASET=INDEX_DIR", param_hint="--index")
        pairs.append((name, folder))
    started = time.perf_counter()
    say = lambda line: click.echo(line, err=True)  # noqa: E731
    reports = [bench_dataset(name, folder, data_dir, step, pseudo_count, say) for name, folder in pairs]
    leave_one_out(reports)
    checks = summarize(reports)
    for report in reports:
        del report["_lists"], report["_scores"], report["_short"]
    result = {
        "benchmark": "label-free fusion",
        "date": datetime.date.today().isoformat(),
        "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
        "tuning_metric": TUNING_METRIC,
        "datasets": reports,
        "checks": checks,
    }
    path = write_json(result, out)
    table = markdown(checks) if checks else "(no check covers these datasets)"
    Path(path).with_suffix(".md").write_text(table + "\n", encoding="utf-8")
    click.echo(table)
    click.echo(f"wrote {path}")


if __name__ == "__main__":
    main()
