"""Benchmark: BM25 batch throughput of braid (Lucene via Anserini) beside bm25s, in one process,
on the same queries, with nDCG@10 alongside so speed is never bought with quality.

    python -m braid.eval.bench_bm25 --dataset scifact --out results/bm25_speed.json

Needs the `bench` extra (bm25s, PyStemmer, numba).
"""

from __future__ import annotations

import functools
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from braid.engine.bm25 import BM25Retriever
from braid.engine.build import build_index
from braid.eval.datasets import Dataset, resolve_dataset
from braid.eval.latency import p99
from braid.eval.metrics import evaluate
from braid.eval.report import machine, write_json
from braid.indexing.config import BM25Config
from braid.indexing.docstore import DocStore
from braid.indexing.layout import DOCSTORE_NAME, MANIFEST_NAME
from braid.indexing.readers import read_corpus


def _timed(function: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    function()  # warm-up: JIT, caches, numba compilation
    seconds, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - started)
    return seconds, result


def _row(system: str, k: int, threads: int, seconds: list[float], num_queries: int, **extra: Any) -> dict[str, Any]:
    return {
        "system": system,
        "k": k,
        "threads": threads,
        "queries": num_queries,
        "qps_best": round(num_queries / min(seconds), 1),
        "qps_median": round(num_queries / statistics.median(seconds), 1),
        "seconds": [round(s, 4) for s in seconds],
        **extra,
    }


def bench_braid(index: Path, texts: list[str], ks: Sequence[int], repeats: int, config: BM25Config) -> tuple[list[dict], list]:
    rows, runs = [], []
    store = DocStore(index / DOCSTORE_NAME)
    settings = [("braid (matrix)", "matrix", 1), ("braid (lucene)", "lucene", 1), ("braid (lucene)", "lucene", 2)]
    for label, backend, threads in settings:
        retriever = BM25Retriever(index / "bm25", config, doc_ids=store.ids, backend=backend, threads=threads)
        for k in ks:
            seconds, rankings = _timed(functools.partial(retriever.search, texts, k), repeats)
            rows.append(_row(label, k, threads, seconds, len(texts), output="(doc id, score) lists"))
            if k == max(ks) and threads == 1:
                runs.append((label, rankings))
        latencies = []
        for text in texts[:300]:
            started = time.perf_counter()
            retriever.search([text], 10)
            latencies.append(time.perf_counter() - started)
        latencies.sort()
        rows.append({
            "system": f"{label}, one query at a time", "k": 10, "threads": threads, "queries": len(latencies),
            "latency_ms_p50": round(1000 * latencies[len(latencies) // 2], 3),
            "latency_ms_p99": round(1000 * p99(latencies), 3),
        })  # fmt: skip
        retriever.close()
    store.close()
    return rows, runs


def bench_bm25s(dataset: Dataset, texts: list[str], ks: Sequence[int], repeats: int, config: BM25Config) -> tuple[list[dict], list]:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    documents = list(read_corpus(dataset.require_corpus()))
    doc_ids = [document.doc_id for document in documents]
    corpus_tokens = bm25s.tokenize([f"{d.title} {d.text}" for d in documents], stopwords="en", stemmer=stemmer, show_progress=False)
    rows, runs = [], []
    for backend in ("numpy", "numba"):
        model = bm25s.BM25(k1=config.k1, b=config.b, method="lucene", backend=backend)
        model.index(corpus_tokens, show_progress=False)
        for k in ks:

            def search(k: int = k, model: Any = model) -> Any:
                tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
                return model.retrieve(tokens, k=k, show_progress=False, n_threads=1)

            def search_as_lists(k: int = k) -> list:
                ids, scores = search(k)
                return [list(zip([doc_ids[i] for i in row_ids], row_scores.tolist())) for row_ids, row_scores in zip(ids, scores)]

            seconds, _ = _timed(search, repeats)
            rows.append(_row(f"bm25s ({backend})", k, 1, seconds, len(texts), output="index arrays"))
            seconds, rankings = _timed(search_as_lists, repeats)
            rows.append(_row(f"bm25s ({backend})", k, 1, seconds, len(texts), output="(doc id, score) lists"))
            if k == max(ks) and backend == "numpy":
                runs.append(("bm25s", rankings))
    return rows, runs


@click.command()
@click.option("--dataset", "dataset_name", default="scifact", show_default=True, help="Dataset path or name.")
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), default=None, help="Reuse this index (built if absent).")
@click.option("--k", "ks", default="10,1000", show_default=True, help="Comma-separated result depths.")
@click.option("--repeats", default=5, show_default=True, help="Timed runs per setting (after one warm-up).")
@click.option("--split", "split_name", default="test", show_default=True, help="Whose judged queries to time and score (MS MARCO: dev).")
@click.option("--out", type=click.Path(dir_okay=False), default="results/bm25_speed.json", show_default=True)
def main(dataset_name: str, data_dir: str | None, index_dir: str | None, ks: str, repeats: int, split_name: str, out: str) -> None:
    """Measure BM25 batch queries/s of braid and bm25s on the judged queries of a dataset's split."""
    dataset = resolve_dataset(dataset_name, data_dir)
    depths = [int(k) for k in ks.split(",")]
    # The dataset layer knows each layout's query file (BEIR queries.jsonl, MS MARCO queries.<split>.tsv).
    split = dataset.load_split(split_name)
    query_ids, texts = list(split.queries), list(split.queries.values())
    config = BM25Config()
    with tempfile.TemporaryDirectory(prefix="braid-bench-") as scratch:
        index = Path(index_dir) if index_dir else Path(scratch) / "index"
        if not (index / MANIFEST_NAME).exists():
            build_index(dataset.require_corpus(), index, ["bm25"], progress=False)
        braid_rows, braid_runs = bench_braid(index, texts, depths, repeats, config)
    bm25s_rows, bm25s_runs = bench_bm25s(dataset, texts, depths, repeats, config)
    quality = {
        name: round(evaluate(dict(zip(query_ids, rankings)), split.qrels, ["ndcg@10"]).means["ndcg@10"], 4) for name, rankings in braid_runs + bm25s_runs
    }
    report: dict[str, Any] = {
        "benchmark": "bm25 batch throughput",
        "dataset": dataset.name,
        "queries": len(texts),
        "bm25": config.to_dict(),
        "machine": machine(),
        "results": braid_rows + bm25s_rows,
        f"ndcg@10_{split.name}": quality,
    }
    write_json(report, out)
    for row in report["results"]:
        speed = f"{row['qps_best']:>9.1f} q/s  {row['output']}" if "qps_best" in row else f"p50 {row['latency_ms_p50']} ms"
        click.echo(f"{row['system']:<40} k={row['k']:<5} threads={row['threads']}  {speed}")
    click.echo(f"nDCG@10 ({split.name}): {quality}")
    click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
