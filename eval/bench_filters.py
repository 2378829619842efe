"""Benchmark: filtered search against unfiltered search, per retriever and fused.

    python -m braid.eval.bench_filters --dataset scifact --out results/filters_scifact.json

1. Builds (or reuses) a BM25 + SPLADE + dense index of the corpus with synthetic metadata made from
   each document id (braid.eval.synthetic_metadata), so each filter's selectivity is known: 50%, 10%,
   1% and 0.1% of the documents (0.1% of SciFact is fewer than k = 10 documents).
2. Single-query p50/p99 (k = 10, 100 candidates per retriever) of every retriever alone and fused,
   unfiltered and under each filter, all taking turns query by query (eval/latency.py), so the ratio
   filtered / unfiltered compares like with like. Filter masks are cached per filter after the
   first query, as a server serving repeated filters would have them.
3. recall@10 of each filtered answer against the exact filtered answer: for BM25 and SPLADE the
   unfiltered list over every document restricted to matching ones; for dense, a scan of every
   matching vector; for fused, the same fusion over those exact lists. Also: queries answered with
   fewer than min(k, matching) hits, and the dense plan (scan or HNSW over-fetch) chosen at each;
   then the same for dense and fused with the HNSW plan forced (`filter_search: hnsw`), which a
   corpus this small never chooses on its own.
Writes JSON and a PNG (latency ratio and recall against selectivity).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from braid.engine.build import build_index
from braid.engine.dense import filtered_fetch
from braid.engine.engine import Engine
from braid.eval.datasets import resolve_dataset
from braid.eval.latency import interleaved_latency
from braid.eval.report import machine, write_json
from braid.eval.synthetic_metadata import selectivity_filter, write_side_file
from braid.fusion.types import SEARCH_DEPTH
from braid.indexing.config import DEFAULT_RETRIEVERS
from braid.indexing.manifest import Manifest
from braid.indexing.readers import read_corpus

SELECTIVITIES = (0.5, 0.1, 0.01, 0.001)
K = 10
FUSED = "fused"


def ensure_index(corpus: Path, index: Path) -> float | None:
    """The benchmark's index (built with the synthetic metadata side file when missing); build seconds or None if reused."""
    if (index / "manifest.json").exists() and set(Manifest.read(index).metadata) >= {"bucket"}:
        return None
    index.parent.mkdir(parents=True, exist_ok=True)
    side = write_side_file((document.doc_id for document in read_corpus(corpus)), index.parent / f"{index.name}.metadata.jsonl")
    started = time.perf_counter()
    build_index(corpus, index, list(DEFAULT_RETRIEVERS), overwrite=True, metadata=side)
    return time.perf_counter() - started


def top_ids(ranking: list[tuple[str, float]]) -> list[str]:
    return [doc_id for doc_id, _ in ranking[:K]]


def recall_at_k(found: list[list[str]], exact: list[list[str]]) -> float | None:
    """Mean share of each exact top-k found (queries whose exact answer is empty are skipped)."""
    shares = [len(set(got) & set(want)) / len(want) for got, want in zip(found, exact) if want]
    return round(sum(shares) / len(shares), 4) if shares else None


def measure_quality(engine: Engine, exact_engine: Engine, queries: list[str], filter: dict[str, Any]) -> dict[str, Any]:
    """recall@10 against the exact filtered answer, and short answers, per retriever and fused."""
    for either in (engine, exact_engine):  # both encode the queries afresh, in the same batches
        either.forget_queries()
    applied = engine.apply_filter(filter)
    keep = {doc_id for doc_id, kept in zip(engine.docstore.ids(), applied.allowed.tolist()) if kept}
    filtered = engine.retrieve(queries, SEARCH_DEPTH, filter=filter)
    result: dict[str, Any] = {}
    for name in engine.retrievers:
        if name == "dense":
            exact = [top_ids(ranking) for ranking in exact_engine.retrieve(queries, K, filter=filter)["dense"]]
        else:  # the whole unfiltered list, restricted
            everything = engine.retrieve(queries, len(engine.docstore.ids()))[name]
            exact = [[doc_id for doc_id, _ in ranking if doc_id in keep][:K] for ranking in everything]
        found = [top_ids(ranking) for ranking in filtered[name]]
        short = sum(len(got) < len(want) for got, want in zip(found, exact))
        result[name] = {"recall_at_10": recall_at_k(found, exact), "short_answers": short}
    fused = [[hit.doc_id for hit in hits] for hits in engine.batch_search(numbered(queries), K, SEARCH_DEPTH, filter=filter).values()]
    exact_fused = [[hit.doc_id for hit in hits] for hits in exact_engine.batch_search(numbered(queries), K, SEARCH_DEPTH, filter=filter).values()]
    result[FUSED] = {
        "recall_at_10": recall_at_k(fused, exact_fused),
        "short_answers": sum(len(got) < min(K, applied.matched) for got in fused),
    }
    return result


def searcher(view: Engine, filter: dict[str, Any] | None) -> Callable[[str], object]:
    return lambda query: view.search(query, k=K, depth=SEARCH_DEPTH, filter=filter)


def numbered(queries: list[str]) -> dict[str, str]:
    return {str(number): query for number, query in enumerate(queries)}


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    rows = report["selectivities"]
    xs = [100 * row["selectivity"] for row in rows]
    for name in report["methods"]:
        left.plot(xs, [row["latency"][name]["p50_ratio"] for row in rows], marker="o", label=name)
        right.plot(xs, [row["quality"][name]["recall_at_10"] for row in rows], marker="o", label=name)
    for name in ("dense", FUSED):
        if name in report["methods"]:
            right.plot(xs, [row["quality_hnsw_plan"][name]["recall_at_10"] for row in rows], marker="x", linestyle="--", label=f"{name}, HNSW plan forced")
    for axis in (left, right):
        axis.set_xscale("log")
        axis.set_xlabel("documents matching the filter (%)")
        axis.invert_xaxis()
        axis.grid(True, alpha=0.3)
    left.axhline(1.0, color="gray", linestyle="--", linewidth=1)
    left.axhline(1.3, color="gray", linestyle=":", linewidth=1)
    left.set_ylabel("p50 filtered / unfiltered")
    left.set_title("single-query latency (k=10, depth 100)")
    right.axhline(0.99, color="gray", linestyle="--", linewidth=1)
    right.set_ylabel("recall@10 vs exact filtered answer")
    right.set_title("quality of filtered answers")
    right.legend()
    figure.suptitle(f"{report['dataset']}, {report['documents']:,} documents; {report['machine']['cpu_model']}, {report['machine']['cpus']} CPUs", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


@click.command()
@click.option("--dataset", default="scifact", show_default=True, help="Dataset name or BEIR folder.")
@click.option("--data-dir", type=click.Path(file_okay=False), default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--index", "index_path", type=click.Path(file_okay=False), default=None, help="Index to use or build [default: indexes/<dataset>-filters].")
@click.option("--out", type=click.Path(dir_okay=False), default="results/filters.json", show_default=True, help="JSON report; the PNG goes beside it.")
@click.option("--queries", "max_queries", type=click.IntRange(min=1), default=300, show_default=True, help="Test queries timed and scored.")
def main(dataset: str, data_dir: str | None, index_path: str | None, out: str, max_queries: int) -> None:
    """Filtered against unfiltered search: latency ratio and recall@10 at 50%, 10%, 1%, 0.1%."""
    started = time.perf_counter()
    found = resolve_dataset(dataset, data_dir)
    index = Path(index_path or f"indexes/{found.name}-filters")
    built_seconds = ensure_index(found.require_corpus(), index)
    queries = list(found.load_split("test").queries.values())[:max_queries]
    filters = {fraction: selectivity_filter(fraction) for fraction in SELECTIVITIES}
    with (
        Engine.open(index) as engine,
        Engine.open(index, options={"dense": {"exact": True}}) as exact_engine,
        Engine.open(index, options={"dense": {"filter_search": "hnsw"}}) as hnsw_engine,
    ):
        names = list(engine.retrievers)
        views = {name: engine.view([name]) for name in names} | {FUSED: engine}
        for view in views.values():
            view.search(queries[0], k=K)  # load models and matrices before timing
        methods = {f"{name}|none": searcher(view, None) for name, view in views.items()}
        for name, view in views.items():
            methods |= {f"{name}|{fraction}": searcher(view, filter) for fraction, filter in filters.items()}
        click.echo(f"timing {len(methods)} conditions on {len(queries)} queries ...", err=True)
        timed = interleaved_latency(methods, queries, engine.forget_queries)
        live = len(engine.docstore.ids())
        rows = []
        for fraction, filter in filters.items():
            applied = engine.apply_filter(filter)
            fetch = (
                filtered_fetch(applied.matched, live, SEARCH_DEPTH, getattr(engine.retrievers["dense"], "filter_search", "auto")) if "dense" in names else None
            )
            latency = {}
            for name in views:
                base, here = timed[f"{name}|none"], timed[f"{name}|{fraction}"]
                latency[name] = {**here, "p50_ratio": round(here["p50_ms"] / base["p50_ms"], 3), "p99_ratio": round(here["p99_ms"] / base["p99_ms"], 3)}
            rows.append(
                {
                    "selectivity": fraction,
                    "filter": filter,
                    "matched": applied.matched,
                    "dense_plan": "scan" if fetch is None else f"hnsw, over-fetch {fetch}",
                    "latency": latency,
                    "quality": measure_quality(engine, exact_engine, queries, filter),
                    "quality_hnsw_plan": {
                        name: found for name, found in measure_quality(hnsw_engine, exact_engine, queries, filter).items() if name in ("dense", FUSED)
                    },
                }
            )
            click.echo(f"{fraction:>6.1%}: {applied.matched} documents, dense plan {rows[-1]['dense_plan']}", err=True)
    report = {
        "benchmark": "braid.eval.bench_filters",
        "dataset": found.name,
        "documents": live,
        "queries": len(queries),
        "k": K,
        "depth": SEARCH_DEPTH,
        "machine": machine(),
        "precision": {name: entry.params.get("precision") for name, entry in Manifest.read(index).retrievers.items() if "precision" in entry.params},
        "index": str(index),
        "index_build_seconds": round(built_seconds, 1) if built_seconds is not None else "reused",
        "methods": list(views),
        "unfiltered": {name: timed[f"{name}|none"] for name in views},
        "selectivities": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    path = write_json(report, out)
    plot(report, path.with_suffix(".png"))
    click.echo(f"wrote {path} and {path.with_suffix('.png')}")


if __name__ == "__main__":
    main()
