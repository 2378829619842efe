"""Benchmark: how build and search costs grow with the corpus, from 10k to 1M documents.

    python -m braid.eval.bench_scale --sizes 10000,100000,1000000 --retrievers bm25 --out results/scale.json

Corpora come from braid.eval.scale_corpus (real SciFact documents plus distractors made of SciFact
and NFCorpus sentences; generated under --work when missing). Per size:
1. `braid index` in a child process: wall time and the child's peak RSS (from wait4), index size on disk.
2. A second child opens the index and reports: open time, RSS after the first query and after the
   timed queries (anonymous and file-backed: mapped index arrays count as file-backed, shareable),
   single-query p50/p99 per retriever and fused (k=10, depth 100; SciFact test queries, one at a
   time, taking turns), batch queries/s at depth 1000, and SciFact test nDCG@10 with the distractors
   present (a robustness figure, not a quality claim for the distractors).
3. Two `braid serve` processes over the index, 20 searches each: RSS, PSS and shared memory of each
   (smaps_rollup), to show what the mapped index arrays let processes share.
Writes JSON and a log-log PNG (build time, peak RSS, p50 against corpus size).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from braid.eval.report import folder_megabytes, machine, write_json
from braid.fusion.errors import BraidError
from braid.fusion.types import Ranking

LATENCY_DEPTH = 100
BATCH_DEPTH = 1000
FUSED = "fused"


def run_measured(command: list[str]) -> tuple[float, float, str]:
    """Run `command`; its wall seconds, peak RSS in MB (its own, from wait4) and stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stderr is not None
    output = process.stdout.read()
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise BraidError(f"{' '.join(command[:4])} ... failed ({process.returncode}): {errors.strip().splitlines()[-1] if errors.strip() else 'no output'}")
    return seconds, usage.ru_maxrss / 1024, output


def memory_now() -> dict[str, float]:
    """This process's resident memory in MB: total, anonymous (private) and file-backed (mapped files)."""
    fields = {}
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile"):
                fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS", 0.0), "anonymous_mb": fields.get("RssAnon", 0.0), "file_backed_mb": fields.get("RssFile", 0.0)}


def probe(index: Path, data: Path, queries_timed: int) -> dict[str, Any]:
    """Open `index` and measure it (runs in a child process, so memory figures are its own)."""
    from braid.engine.engine import Engine
    from braid.eval.datasets import resolve_dataset
    from braid.eval.latency import interleaved_latency
    from braid.eval.metrics import evaluate

    dataset = resolve_dataset(str(data))
    split = dataset.load_split("test")
    texts = list(split.queries.values())
    started = time.perf_counter()
    engine = Engine.open(index)
    opened = time.perf_counter() - started
    engine.search(texts[0], k=10)  # models, Java and arrays load at the first query
    first_query = time.perf_counter() - started
    after_first = memory_now()
    names = list(engine.retrievers)
    views = {name: engine.view([name]) for name in names} | ({FUSED: engine} if len(names) > 1 else {})
    timed = interleaved_latency({name: _searcher(view) for name, view in views.items()}, texts[:queries_timed], engine.forget_queries)
    batch = {}
    for name, view in views.items():
        engine.forget_queries()
        started = time.perf_counter()
        run = view.run(split.queries, depth=BATCH_DEPTH)
        seconds = time.perf_counter() - started
        batch[name] = {
            "queries_per_second": round(len(split.queries) / seconds, 1),
            "ndcg@10": round(evaluate(run, split.qrels, ["ndcg@10"]).means["ndcg@10"], 4),
        }
    if "dense" in names:
        batch["dense"]["hnsw_recall@10"] = hnsw_recall(engine, index, split.queries)
    report = {
        "open_seconds": round(opened, 3),
        "open_and_first_query_seconds": round(first_query, 3),
        "memory_after_first_query": after_first,
        "memory_after_searches": memory_now(),
        "latency_ms": timed,
        "batch": batch,
    }
    engine.close()
    return report


def hnsw_recall(engine: Any, index: Path, queries: dict[str, str], k: int = 10) -> float:
    """Mean share of exact search's top `k` that the HNSW graph returns (the index's default ef)."""
    texts = list(queries.values())
    return recall_against(engine.view(["dense"]).retrieve(texts, k)["dense"], exact_top(index, texts, k))


def exact_top(index: Path, texts: Sequence[str], k: int) -> list[set[str]]:
    """Each query's top `k` doc ids by scanning every dense vector: the truth HNSW is judged by."""
    from braid.engine.engine import Engine

    with Engine.open(index, ["dense"], options={"dense": {"exact": True}}) as exact_engine:
        return [{doc for doc, _ in ranking} for ranking in exact_engine.retrieve(texts, k)["dense"]]


def recall_against(found: Sequence[Ranking], truth: Sequence[set[str]]) -> float:
    """Mean share of each query's true top ids that its list holds."""
    return round(float(np.mean([len({doc for doc, _ in ranking} & wanted) / max(1, len(wanted)) for ranking, wanted in zip(found, truth)])), 4)


def hnsw_curve(index: Path, data: Path, efs: Sequence[int], k: int = 10, queries_timed: int = 100) -> list[dict[str, Any]]:
    """HNSW recall@k against exact search, and single-query p50, at each search breadth `ef`: how
    far the default is from a recall goal, and what reaching it costs."""
    from braid.engine.engine import Engine
    from braid.eval.datasets import resolve_dataset
    from braid.eval.latency import interleaved_latency

    texts = list(resolve_dataset(str(data)).load_split("test").queries.values())
    truth = exact_top(index, texts, k)
    rows = []
    for ef in efs:
        with Engine.open(index, ["dense"], options={"dense": {"ef_search": ef}}) as engine:
            recall = recall_against(engine.retrieve(texts, k)["dense"], truth)
            timed = interleaved_latency({"dense": _searcher(engine)}, texts[:queries_timed], engine.forget_queries)["dense"]
        rows.append({"ef_search": ef, f"recall@{k}": recall, **timed})
    return rows


def memory_of(pid: int) -> dict[str, float]:
    """A process's resident memory in MB (smaps_rollup): RSS, PSS (shared pages split between the
    processes mapping them), and the part shared with another process."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as rollup:
        for line in rollup:
            name, _, value = line.partition(":")
            if name in ("Rss", "Pss", "Shared_Clean", "Shared_Dirty"):
                fields[name] = int(value.split()[0]) / 1024
    return {"rss_mb": round(fields["Rss"], 1), "pss_mb": round(fields["Pss"], 1), "shared_mb": round(fields["Shared_Clean"] + fields["Shared_Dirty"], 1)}


def serve_pair(index: Path, queries: list[str]) -> dict[str, Any]:
    """Two `braid serve` processes over one index, each after the same searches: how much of their
    memory the mapped index lets them share."""
    import http.client

    from braid.eval.bench_http import free_port, start_server

    servers = []
    try:
        for _ in range(2):
            port = free_port()
            servers.append((start_server(str(index), port), port))
        for _, port in servers:
            for query in queries:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                connection.request("POST", "/search", body=json.dumps({"query": query, "k": 10}), headers={"content-type": "application/json"})
                connection.getresponse().read()
                connection.close()
        return {"queries_each": len(queries), "servers": [memory_of(process.pid) for process, _ in servers]}
    finally:
        for process, _ in servers:
            process.terminate()
            process.wait(timeout=60)


def _searcher(view: Any) -> Callable[[str], object]:
    return lambda query: view.search(query, k=10, depth=LATENCY_DEPTH)


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["sizes"]
    docs = [row["documents"] for row in rows]
    figure, axes = plt.subplots(1, 3, figsize=(13, 4))
    axes[0].plot(docs, [row["build_seconds"] for row in rows], marker="o")
    axes[0].set_ylabel("build wall time (s)")
    axes[1].plot(docs, [row["build_peak_rss_mb"] for row in rows], marker="o", label="build peak RSS")
    axes[1].plot(docs, [row["serving"]["memory_after_searches"]["rss_mb"] for row in rows], marker="s", label="serving RSS")
    axes[1].set_ylabel("MB")
    axes[1].legend()
    for name in rows[0]["serving"]["latency_ms"]:
        axes[2].plot(docs, [row["serving"]["latency_ms"][name]["p50_ms"] for row in rows], marker="o", label=name)
    axes[2].set_ylabel(f"single-query p50 ms (depth {LATENCY_DEPTH})")
    axes[2].legend()
    for axis in axes:
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("documents")
        axis.grid(True, which="both", alpha=0.3)
    figure.suptitle(f"retrievers {', '.join(report['retrievers'])}; {report['machine']['cpu_model']}, {report['machine']['cpus']} CPUs", fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


@click.group(invoke_without_command=True)
@click.option("--sizes", default="10000,100000,1000000", show_default=True, help="Corpus sizes (documents), comma-separated.")
@click.option("--retrievers", default="bm25", show_default=True, help="Retrievers to build and time.")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=Path("scale"), show_default=True, help="Where corpora and indexes go.")
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Where scifact/ and nfcorpus/ live (env BRAID_DATA).")
@click.option("--queries", "queries_timed", type=click.IntRange(min=1), default=300, show_default=True, help="Queries timed one at a time.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("results/scale.json"), show_default=True)
@click.option("--serve-pair/--no-serve-pair", "pair", default=True, show_default=True, help="Also measure two `braid serve` processes sharing each index.")
@click.option(
    "--vectors",
    type=click.Choice(["encode", "sentences"]),
    default="encode",
    show_default=True,
    help="Dense/SPLADE vectors: encoded by the build (measures encoding), or made from the corpus's sentence encodings "
    "(braid.eval.scale_vectors) and supplied with --dense-vectors/--splade-vectors, as for 1M documents.",
)
@click.option(
    "--splade-lucene/--no-splade-lucene",
    "splade_lucene",
    default=True,
    show_default=True,
    help="Build Lucene's impact index too (braid index's default; only the lucene backend searches it).",
)
@click.pass_context
def main(
    context: click.Context,
    sizes: str,
    retrievers: str,
    work: Path,
    data_dir: Path | None,
    queries_timed: int,
    out: Path,
    pair: bool,
    vectors: str,
    splade_lucene: bool,
) -> None:
    """Build and search scale corpora of growing size; JSON and a log-log PNG."""
    if context.invoked_subcommand is not None:
        return
    from braid.eval.datasets import default_data_dir
    from braid.eval.scale_corpus import write_scale_corpus

    started = time.perf_counter()
    rows = []
    for size in [int(value) for value in sizes.split(",") if value.strip()]:
        corpus = work / f"corpus-{size}"
        if not (corpus / "corpus.jsonl").is_file():
            write_scale_corpus(data_dir or default_data_dir(), corpus, size)
        index = work / f"index-{size}-{retrievers.replace(',', '+')}"
        build = [sys.executable, "-m", "braid.cli", "index", str(corpus), "--out", str(index), "--retrievers", retrievers, "--overwrite"]
        supplied = [name for name in ("dense", "splade") if name in retrievers.split(",")] if vectors == "sentences" else []
        if not splade_lucene:
            build.append("--no-splade-lucene")
        if supplied:
            build += supplied_vectors(data_dir or default_data_dir(), work / f"vectors-{size}", size, supplied)
        click.echo(f"{size:,} documents: building ...", err=True)
        seconds, peak, _ = run_measured(build)
        click.echo(f"{size:,} documents: built in {seconds:.0f} s, peak RSS {peak:.0f} MB; measuring search ...", err=True)
        _, serving_peak, output = run_measured(
            [sys.executable, "-m", "braid.eval.bench_scale", "probe", str(index), str(corpus), "--queries", str(queries_timed)]
        )
        serving = json.loads(output.strip().splitlines()[-1])
        if pair:
            serving["two_servers"] = measure_pair(index, corpus)
        rows.append(
            {
                "documents": size,
                "corpus_mb": folder_megabytes(corpus),
                "build_seconds": round(seconds, 1),
                "build_peak_rss_mb": round(peak, 1),
                "index_mb": folder_megabytes(index),
                "vectors": vectors if supplied else "encode",
                "stages": build_stages(index),
                "serving": serving,
                "serving_peak_rss_mb": round(serving_peak, 1),
            }
        )
        click.echo(json.dumps(rows[-1]), err=True)
    report = {
        "benchmark": "braid.eval.bench_scale",
        "retrievers": retrievers.split(","),
        "splade_lucene_index": splade_lucene,
        "machine": machine(),
        "latency_depth": LATENCY_DEPTH,
        "batch_depth": BATCH_DEPTH,
        "sizes": rows,
        "seconds": round(time.perf_counter() - started, 1),
    }
    path = write_json(report, out)
    plot(report, path.with_suffix(".png"))
    click.echo(f"wrote {path} and {path.with_suffix('.png')}")


def supplied_vectors(data_dir: Path, folder: Path, size: int, names: Sequence[str]) -> list[str]:
    """`braid index` options naming vector files made from sentence encodings (made when missing)."""
    from braid.eval.scale_vectors import write_scale_vectors

    files = {"dense": folder / "dense.npy", "splade": folder / "splade.jsonl"}
    missing = tuple(name for name in names if not files[name].with_suffix(".json").is_file())
    if missing:
        click.echo(f"{size:,} documents: making {', '.join(missing)} vectors from sentence encodings ...", err=True)
        write_scale_vectors(data_dir, folder, size, missing)
    return [option for name in names for option in (f"--{name}-vectors", str(files[name]))]


def build_stages(index: Path) -> dict[str, dict[str, Any]]:
    """Per retriever, the build's own timings and encoding rate (from the manifest)."""
    manifest = json.loads((index / "manifest.json").read_text(encoding="utf-8"))
    keep = ("vectors", "encode_seconds", "docs_per_second", "hnsw_seconds", "lucene_seconds", "terms_per_doc")
    return {name: {key: entry["details"][key] for key in keep if key in entry.get("details", {})} for name, entry in manifest["retrievers"].items()}


def measure_pair(index: Path, corpus: Path) -> dict[str, Any]:
    from braid.eval.datasets import resolve_dataset

    return serve_pair(index, list(resolve_dataset(str(corpus)).load_split("test").queries.values())[:20])


@main.command("probe")
@click.argument("index", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--queries", "queries_timed", type=click.IntRange(min=1), default=300)
def probe_command(index: Path, data: Path, queries_timed: int) -> None:
    """Open INDEX and measure it against DATA's test queries (one JSON line; run by the benchmark)."""
    click.echo(json.dumps(probe(index, data, queries_timed)))


@main.command("hnsw")
@click.argument("index", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("data", type=click.Path(exists=True, path_type=Path))
@click.option("--ef", "efs", default="100,200,400,800,1600", show_default=True, help="Search breadths to measure, comma-separated.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the JSON here.")
def hnsw_command(index: Path, data: Path, efs: str, out: Path | None) -> None:
    """HNSW recall@10 against exact search and single-query p50 at each --ef, on DATA's test queries (JSON)."""
    try:
        breadths = [int(value) for value in efs.split(",") if value.strip()]
    except ValueError:
        raise click.BadParameter(f"{efs!r} is not a comma-separated list of integers", param_hint="--ef") from None
    report = {"index": str(index), "machine": machine(), "curve": hnsw_curve(index, data, breadths)}
    if out is not None:
        write_json(report, out)
    click.echo(json.dumps(report))


@main.command("pair")
@click.argument("index", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("data", type=click.Path(exists=True, path_type=Path))
def pair_command(index: Path, data: Path) -> None:
    """Two `braid serve` processes over INDEX, 20 of DATA's test queries each: their memory as JSON."""
    click.echo(json.dumps(measure_pair(index, data)))


if __name__ == "__main__":
    main()
