"""Document encoding here and on a local Ray cluster with 1 and 2 workers: `python -m
braid.eval.bench_ray_encoding --dataset scifact --docs 2000 --out results/ray_encoding.json`.

Every run encodes the same first DOCS documents with the same batches (the encoder's batch plan),
so the rates compare the ways of running, not the work; the Ray runs also report how far their
vectors are from local encoding (minimum cosine for dense, largest weight difference for SPLADE).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from braid.eval.datasets import resolve_dataset
from braid.eval.report import machine, write_json
from braid.indexing.config import DenseConfig, SpladeConfig
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.readers import read_corpus
from braid.indexing.sparse_encoder import SpladeEncoder
from braid.indexing.text_chunks import encoder_text


def encode_timed(encoder: Any, texts: Sequence[str]) -> tuple[Any, float]:
    encoder.encode_documents(texts[:64])  # warm-up: models loaded, first batches run
    started = time.perf_counter()
    encoded = encoder.encode_documents(texts)
    return encoded, time.perf_counter() - started


def distance(local: Any, other: Any) -> dict[str, float]:
    if isinstance(local, np.ndarray):
        return {"min_cosine_to_local": round(float(np.min(np.sum(local * other, axis=1))), 6)}
    return {"max_weight_difference_to_local": round(float(abs(local - other).max()), 6)}


@click.command()
@click.option("--dataset", "dataset_name", default="scifact", show_default=True)
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--docs", type=click.IntRange(min=64), default=2000, show_default=True, help="Documents encoded per run.")
@click.option("--retrievers", default="dense,splade", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("results/ray_encoding.json"), show_default=True)
def main(dataset_name: str, data_dir: str | None, docs: int, retrievers: str, out: Path) -> None:
    """Documents/s encoded here (torch on every core) and on Ray with 1 and 2 single-threaded workers."""
    from braid.indexing.ray_encoding import RayEncoding

    dataset = resolve_dataset(dataset_name, data_dir)
    texts = [encoder_text(document) for _, document in zip(range(docs), read_corpus(dataset.require_corpus()))]
    encoders = {"dense": lambda: DenseEncoder(DenseConfig()), "splade": lambda: SpladeEncoder(SpladeConfig())}
    rows: list[dict[str, Any]] = []
    for kind in [name.strip() for name in retrievers.split(",") if name.strip()]:
        local = encoders[kind]()
        reference, seconds = encode_timed(local, texts)
        rows.append({"retriever": kind, "run": "local", "docs_per_second": round(len(texts) / seconds, 1)})
        click.echo(f"{kind} local: {rows[-1]['docs_per_second']} docs/s", err=True)
        for workers in (1, 2):
            with RayEncoding("local", workers=workers) as cluster:
                encoded, seconds = encode_timed(cluster.wrap(encoders[kind]()), texts)
            rows.append(
                {"retriever": kind, "run": f"ray, {workers} worker(s)", "docs_per_second": round(len(texts) / seconds, 1), **distance(reference, encoded)}
            )
            click.echo(f"{kind} ray x{workers}: {rows[-1]}", err=True)
    report = {
        "benchmark": "ray encoding",
        "date": datetime.date.today().isoformat(),
        "dataset": dataset.name,
        "documents": len(texts),
        "machine": machine(),
        "runs": rows,
    }
    click.echo(f"wrote {write_json(report, out)}")


if __name__ == "__main__":
    main()
