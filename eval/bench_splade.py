"""Benchmark: SPLADE encoding speed and memory, retrieval quality against exhaustive float scoring,
query latency and index size.

    python -m braid.eval.bench_splade --dataset scifact --out results/splade_scifact.json

Encoding speed and peak RSS are measured in a fresh process per setting, so one setting's memory
does not hide another's. Quality compares, on the test queries, the Lucene impact index (integer
impacts) with an exhaustive numpy dot product over the same float vectors.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import numpy as np

from braid.engine.retriever import Ranking
from braid.engine.sparse_topk import doc_id_order, top_k
from braid.eval.datasets import resolve_dataset
from braid.eval.latency import percentiles
from braid.eval.metrics import DEFAULT_METRICS, evaluate
from braid.eval.report import machine, write_json
from braid.fusion.types import EVAL_DEPTH
from braid.indexing.config import BACKENDS, SpladeConfig
from braid.indexing.layout import DOCSTORE_NAME

ENCODERS = ("sentence-transformers", "braid-float32", "braid-bfloat16")


def encode_worker(corpus: Path, documents: int, method: str, batch_size: int) -> dict[str, Any]:
    """Runs in its own process: encode `documents` texts, report docs/s and the process's peak RSS."""
    from braid.indexing.readers import read_corpus
    from braid.indexing.text_chunks import encoder_text

    texts = []
    for document in read_corpus(corpus):
        texts.append(encoder_text(document))
        if len(texts) == documents:
            break
    if method == "sentence-transformers":
        from sentence_transformers import SparseEncoder

        from braid.indexing.models import resolve_model

        model = SparseEncoder(resolve_model(SpladeConfig().model), device="cpu")
        model.max_seq_length = SpladeConfig().max_seq_length

        def encode(batch: list[str]) -> Any:
            return model.encode(batch, batch_size=batch_size)

    else:
        from braid.indexing.sparse_encoder import SpladeEncoder

        encoder = SpladeEncoder(SpladeConfig(precision=method.removeprefix("braid-"), batch_size=batch_size))

        def encode(batch: list[str]) -> Any:
            return encoder.encode_documents(batch)

    encode(texts[:8])
    started = time.perf_counter()
    encode(texts)
    seconds = time.perf_counter() - started
    return {
        "method": method,
        "batch_size": batch_size,
        "documents": len(texts),
        "docs_per_s": round(len(texts) / seconds, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def bench_encoding(corpus: Path, documents: int, settings: list[tuple[str, int]]) -> list[dict[str, Any]]:
    rows = []
    for method, batch_size in settings:
        command = [
            sys.executable,
            "-m",
            "braid.eval.bench_splade",
            "--encode-worker",
            method,
            "--batch-size",
            str(batch_size),
            "--corpus",
            str(corpus),
            "--encode-docs",
            str(documents),
        ]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(output.strip().splitlines()[-1]))
        click.echo(f"encoding: {rows[-1]}", err=True)
    return rows


def exhaustive_run(index_dir: Path, queries: dict[str, str], config: SpladeConfig, depth: int = EVAL_DEPTH) -> dict[str, Ranking]:
    """Float query vector . float document vector over every document: the quality to match."""
    from braid.indexing.docstore import DocStore
    from braid.indexing.embedding_cache import EmbeddingCache, cache_key
    from braid.indexing.impacts import drop_columns, stopword_columns
    from braid.indexing.manifest import Manifest
    from braid.indexing.models import model_identity
    from braid.indexing.sparse_encoder import SpladeEncoder

    manifest = Manifest.read(index_dir)
    encoder = SpladeEncoder(config)
    key = cache_key("splade", model_identity(encoder.resolved), encoder.config.encoding_settings(), manifest.corpus_fingerprint)
    documents = EmbeddingCache().load_sparse(key, manifest.doc_count)
    if documents is None:
        raise click.ClickException("the float document vectors are not in the encoding cache; build the index with this BRAID_CACHE")
    store = DocStore(index_dir / DOCSTORE_NAME)
    doc_ids = store.ids()
    store.close()
    query_ids = list(queries)
    query_vectors = encoder.encode_queries([queries[query_id] for query_id in query_ids])
    if config.query_stopwords:
        query_vectors = drop_columns(query_vectors, stopword_columns(encoder.vocabulary))
    scores = (query_vectors @ documents.T).toarray().astype(np.float32)
    tie_rank = doc_id_order(doc_ids)
    run = {}
    for row, query_id in enumerate(query_ids):
        best = top_k(np.arange(len(doc_ids)), scores[row], depth, tie_rank)
        run[query_id] = [(doc_ids[i], float(scores[row, i])) for i in best if scores[row, i] > 0]
    return run


def bench_quality(index_dir: Path, split: Any, config: SpladeConfig) -> list[dict[str, Any]]:
    from braid.engine.engine import Engine

    rows = []
    for stopwords in (False, True):
        setting = replace(config, query_stopwords=stopwords)
        exhaustive = evaluate(exhaustive_run(index_dir, split.queries, setting), split.qrels, DEFAULT_METRICS).means
        with Engine.open(index_dir, ["splade"], options={"splade": {"query_stopwords": stopwords}}) as engine:
            impact = evaluate(engine.run(split.queries), split.qrels, DEFAULT_METRICS).means
        rows.append({
            "precision": config.precision,
            "query_stopwords": stopwords,
            "impact_index": {name: round(value, 4) for name, value in impact.items()},
            "exhaustive_float": {name: round(value, 4) for name, value in exhaustive.items()},
            "ndcg@10_impact_minus_float": round(impact["ndcg@10"] - exhaustive["ndcg@10"], 4),
        })  # fmt: skip
        click.echo(f"quality: {rows[-1]}", err=True)
    return rows


def bench_latency(index_dir: Path, queries: list[str], backend: str) -> dict[str, Any]:
    """One query at a time, encode + search, depth 1000 and 10."""
    from braid.engine.engine import Engine

    result: dict[str, Any] = {"backend": backend}
    with Engine.open(index_dir, ["splade"], options={"splade": {"backend": backend}}) as engine:
        retriever = engine.retrievers["splade"]
        retriever.search(queries[:5], 10)
        for depth in (10, 1000):
            latencies = []
            for query in queries[:200]:
                started = time.perf_counter()
                retriever.search([query], depth)
                latencies.append(1000 * (time.perf_counter() - started))
            result[f"depth_{depth}"] = percentiles(latencies)
        started = time.perf_counter()
        retriever.search(queries, 1000)
        result["batch_depth_1000_qps"] = round(len(queries) / (time.perf_counter() - started), 1)
    click.echo(f"latency: {result}", err=True)
    return result


def folder_size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def backends_agree(index_dir: Path, queries: list[str]) -> dict[str, int]:
    from braid.engine.engine import Engine

    with (
        Engine.open(index_dir, ["splade"], options={"splade": {"backend": "matrix"}}) as matrix,
        Engine.open(index_dir, ["splade"], options={"splade": {"backend": "lucene"}}) as lucene,
    ):
        a = matrix.retrievers["splade"].search(queries, 1000)
        b = lucene.retrievers["splade"].search(queries, 1000)
    return {"queries": len(queries), "identical_lists": sum(x == y for x, y in zip(a, b))}


@click.command()
@click.option("--dataset", "dataset_name", default="scifact", show_default=True)
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--encode-docs", default=1000, show_default=True, help="Documents timed for encoding speed.")
@click.option("--out", type=click.Path(dir_okay=False), default="results/splade_scifact.json", show_default=True)
@click.option("--encode-worker", type=click.Choice(ENCODERS), default=None, hidden=True)
@click.option("--batch-size", type=int, default=32, hidden=True)
@click.option("--corpus", type=click.Path(exists=True), default=None, hidden=True)
def main(dataset_name: str, data_dir: str | None, encode_docs: int, out: str, encode_worker: str | None, batch_size: int, corpus: str | None) -> None:
    """Encoding docs/s and peak RSS, nDCG of the impact index vs exhaustive float scoring, latency, size."""
    if encode_worker:
        click.echo(json.dumps(encode_worker_run(encode_worker, batch_size, corpus, encode_docs)))
        return
    from braid.engine.build import build_index

    dataset = resolve_dataset(dataset_name, data_dir)
    corpus_path = dataset.require_corpus()
    split = dataset.load_split("test")
    queries = list(split.queries.values())
    settings = [("sentence-transformers", 32), ("braid-float32", 32), ("braid-bfloat16", 32), ("braid-bfloat16", 128), ("braid-bfloat16", 512)]
    encoding = bench_encoding(corpus_path, encode_docs, settings)
    quality, latency, sizes, agreement = [], [], {}, {}
    with tempfile.TemporaryDirectory(prefix="braid-bench-splade-") as scratch:
        for precision in ("float32", "bfloat16"):
            config = SpladeConfig(precision=precision)
            index_dir = Path(scratch) / precision
            started = time.perf_counter()
            manifest = build_index(corpus_path, index_dir, retrievers=["splade"], configs={"splade": config})
            click.echo(f"built {precision} index in {time.perf_counter() - started:.1f} s", err=True)
            quality += bench_quality(index_dir, split, config)
            if precision == "bfloat16":
                latency = [bench_latency(index_dir, queries, backend) for backend in BACKENDS]
                agreement = backends_agree(index_dir, queries)
                sizes = {
                    "lucene_impact_index_bytes": folder_size(index_dir / "splade" / "lucene"),
                    "impact_matrix_bytes": folder_size(index_dir / "splade") - folder_size(index_dir / "splade" / "lucene"),
                    "terms_per_doc": manifest.retrievers["splade"].details["terms_per_doc"],
                }
    report = {
        "benchmark": "splade retrieval",
        "dataset": dataset.name,
        "model": SpladeConfig().model,
        "machine": machine(),
        "encoding": encoding,
        "quality_test_split": quality,
        "single_query_latency": latency,
        "matrix_vs_lucene": agreement,
        "index_size": sizes,
    }
    write_json(report, out)
    click.echo(json.dumps(report, indent=2))


def encode_worker_run(method: str, batch_size: int, corpus: str | None, documents: int) -> dict[str, Any]:
    if corpus is None:
        raise click.UsageError("--encode-worker needs --corpus")
    return encode_worker(Path(corpus), documents, method, batch_size)


if __name__ == "__main__":
    main()
