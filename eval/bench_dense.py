"""Benchmark: dense encoding speed, query latency, and HNSW recall/throughput against exact search.

    python -m braid.eval.bench_dense --dataset scifact --out results/dense_speed.json

Writes JSON and a PNG of recall@10 against queries/s for several ef_search values.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from braid.engine.sparse_topk import top_k
from braid.eval.datasets import resolve_dataset
from braid.eval.latency import percentiles
from braid.eval.report import machine, write_json
from braid.indexing.config import DenseConfig
from braid.indexing.dense import build_hnsw
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.readers import read_corpus
from braid.indexing.text_chunks import encoder_text


def _docs_per_second(encode: Any, texts: list[str]) -> float:
    encode(texts[:32])  # warm-up
    started = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - started)


def bench_encoding(texts: list[str], config: DenseConfig) -> dict[str, Any]:
    from sentence_transformers import SentenceTransformer

    encoder = DenseEncoder(config)
    plain = SentenceTransformer(encoder.resolved, device="cpu")
    return {
        "documents": len(texts),
        "braid_default_precision": encoder.config.precision,
        "plain_sentence_transformers_docs_per_s": round(_docs_per_second(lambda batch: plain.encode(batch, batch_size=32), texts), 1),
        "braid_default_docs_per_s": round(_docs_per_second(encoder.encode_documents, texts), 1),
    }


def bench_query_latency(queries: list[str], config: DenseConfig) -> dict[str, float]:
    encoder = DenseEncoder(config)
    encoder.encode_queries(queries[:5])
    latencies = []
    for query in queries[:200]:
        started = time.perf_counter()
        encoder.encode_queries([query])
        latencies.append(1000 * (time.perf_counter() - started))
    return {"queries": len(latencies), **percentiles(latencies)}


def bench_hnsw(vectors: np.ndarray, query_vectors: np.ndarray, config: DenseConfig, ef_values: list[int], k: int = 10) -> list[dict[str, Any]]:
    tie_rank = np.arange(len(vectors))
    started = time.perf_counter()
    truth = [set(top_k(np.arange(len(vectors)), (vectors @ query).astype(np.float32), k, tie_rank).tolist()) for query in query_vectors]
    rows = [{"method": "exact", "recall@10": 1.0, "qps": round(len(query_vectors) / (time.perf_counter() - started), 1)}]
    graph = build_hnsw(vectors, config, threads=os.cpu_count() or 1)
    for ef in ef_values:
        graph.set_ef(max(ef, k))
        graph.knn_query(query_vectors[:10], k=k, num_threads=1)
        started = time.perf_counter()
        labels, _ = graph.knn_query(query_vectors, k=k, num_threads=1)
        seconds = time.perf_counter() - started
        recall = float(np.mean([len(truth[i] & set(labels[i].tolist())) / k for i in range(len(query_vectors))]))
        rows.append({"method": "hnsw", "ef_search": ef, "recall@10": round(recall, 4), "qps": round(len(query_vectors) / seconds, 1)})
    return rows


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hnsw = [row for row in rows if row["method"] == "hnsw"]
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.plot([row["qps"] for row in hnsw], [row["recall@10"] for row in hnsw], marker="o", label="HNSW (1 thread)")
    for row in hnsw:
        axes.annotate(f"ef={row['ef_search']}", (row["qps"], row["recall@10"]), textcoords="offset points", xytext=(4, -10), fontsize=8)
    exact = next(row for row in rows if row["method"] == "exact")
    axes.scatter([exact["qps"]], [1.0], color="black", label="exact (numpy)")
    axes.set_xscale("log")
    axes.set_xlabel("queries/s (search only, vectors pre-encoded)")
    axes.set_ylabel("recall@10 vs exact")
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)


@click.command()
@click.option("--dataset", "dataset_name", default="scifact", show_default=True)
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--encode-docs", default=1000, show_default=True, help="Documents timed for encoding speed.")
@click.option("--ef", "ef_values", default="10,20,50,100,200", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default="results/dense_speed.json", show_default=True)
def main(dataset_name: str, data_dir: str | None, encode_docs: int, ef_values: str, out: str) -> None:
    """Encoding docs/s (plain sentence-transformers vs braid), query latency, HNSW recall and q/s."""
    from braid.indexing.embedding_cache import EmbeddingCache, cache_key, load_or_encode
    from braid.indexing.fingerprint import CorpusFingerprint
    from braid.indexing.models import model_identity

    config = DenseConfig()
    dataset = resolve_dataset(dataset_name, data_dir)
    documents = list(read_corpus(dataset.require_corpus()))
    texts = [encoder_text(document) for document in documents]
    queries = list(dataset.load_split("test").queries.values())
    encoding = bench_encoding(texts[:encode_docs], config)
    latency = bench_query_latency(queries, config)
    fingerprint = CorpusFingerprint()
    for document in documents:
        fingerprint.update(document)
    encoder = DenseEncoder(config)
    key = cache_key("dense", model_identity(encoder.resolved), config.encoding_settings(), fingerprint.hexdigest())
    vectors, _ = load_or_encode(EmbeddingCache(), key, len(documents), lambda: encoder.encode_documents(texts, progress=True))
    hnsw = bench_hnsw(np.asarray(vectors), encoder.encode_queries(queries), config, [int(v) for v in ef_values.split(",")])
    report = {
        "benchmark": "dense retrieval",
        "dataset": dataset.name,
        "model": config.model,
        "machine": machine(),
        "encoding": encoding,
        "query_encoding_latency": latency,
        "search": hnsw,
    }
    write_json(report, out)
    plot(hnsw, Path(out).with_suffix(".png"), f"{dataset.name}: HNSW recall vs speed ({len(queries)} queries)")
    click.echo(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
