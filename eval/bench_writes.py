"""Benchmark: writing to a live index, against rebuilding it.

    python -m braid.eval.bench_writes --dataset scifact --out results/writes_scifact.json

1. Builds an index of the corpus minus a held-out 11% (timed: what a rebuild costs), with a fresh
   vector cache, so every document is encoded.
2. Ten rounds, each one commit: add 1% of the corpus (held-out documents, encoded), delete 1%
   (random live documents). Per round: wall time, documents per second with encoding included and
   excluded; deletes per second.
3. The index now has 11 segments and deletions (merging is held off). Its nDCG@10 on the test
   queries per retriever and fused, single-query p50/p99 (k=10, 100 candidates) and batch queries/s
   at depth 1000, against the same index compacted (compaction timed) and against a fresh build
   of the surviving documents (timed; nDCG@10 must be equal).
Writes JSON and a PNG (commit times per round; latency segmented vs compacted).
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from braid.engine.build import build_index
from braid.engine.engine import Engine
from braid.engine.writer import IndexWriter, MergePolicy
from braid.eval.datasets import resolve_dataset
from braid.eval.latency import interleaved_latency
from braid.eval.metrics import evaluate
from braid.eval.report import machine, write_json
from braid.fusion.types import EVAL_DEPTH, SEARCH_DEPTH
from braid.indexing.config import DEFAULT_RETRIEVERS, concrete_precision
from braid.indexing.embedding_cache import CACHE_ENV
from braid.indexing.manifest import Manifest
from braid.indexing.readers import read_corpus, write_corpus

RETRIEVERS = DEFAULT_RETRIEVERS
ROUNDS = 10
# Merging held off, so that the index keeps one segment per round.
NO_MERGES = MergePolicy(max_segments=1000, max_deleted_fraction=1.0)


def timed_build(corpus: Path, out: Path) -> float:
    started = time.perf_counter()
    build_index(corpus, out, RETRIEVERS, progress=False)
    return time.perf_counter() - started


def encode_seconds(index: Path, segment: str) -> float:
    """Seconds the segment's build spent encoding (dense and SPLADE), from its manifest."""
    manifest = Manifest.read(index / segment)
    return sum(float(entry.details.get("encode_seconds", 0.0)) for entry in manifest.retrievers.values())


def quality(index: Path, queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """nDCG@10 of each retriever alone and of the default fusion, on the given queries."""
    scores = {}
    with Engine.open(index) as engine:
        for name in [*RETRIEVERS, "fused"]:
            view = engine.view([name]) if name != "fused" else engine
            scores[name] = round(evaluate(view.run(queries, EVAL_DEPTH), qrels, ["ndcg@10"]).means["ndcg@10"], 4)
    return scores


def speed(segmented: Path, compacted: Path, queries: dict[str, str], latency_queries: int) -> dict[str, Any]:
    texts = list(queries.values())
    with Engine.open(segmented) as many, Engine.open(compacted) as one:
        for engine in (many, one):
            engine.search("warm up", k=1)

        def forget() -> None:
            many.forget_queries()
            one.forget_queries()

        latency = interleaved_latency(
            {
                "segmented": lambda query: many.search(query, k=10, depth=SEARCH_DEPTH),
                "compacted": lambda query: one.search(query, k=10, depth=SEARCH_DEPTH),
            },
            texts[:latency_queries],
            forget,
        )
        # Batch runs warmed first, then taken in turns, best of two each (the first batch of a
        # process pays one-time costs that would otherwise land on whichever side runs first).
        engines = {"segmented": many, "compacted": one}
        warm = dict(list(queries.items())[:20])
        for engine in engines.values():
            engine.run(warm, EVAL_DEPTH)
        best: dict[str, float] = {}
        for name, engine in [*engines.items(), *engines.items()]:
            engine.forget_queries()
            started = time.perf_counter()
            engine.run(queries, EVAL_DEPTH)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - started)
        throughput = {name: round(len(queries) / seconds, 1) for name, seconds in best.items()}
    return {
        "latency_ms": latency,
        "p50_ratio": round(latency["segmented"]["p50_ms"] / latency["compacted"]["p50_ms"], 3),
        "batch_queries_per_second": throughput,
        "batch_ratio": round(throughput["compacted"] / throughput["segmented"], 3),
    }


def plot(report: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rounds = report["rounds"]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    numbers = [row["round"] for row in rounds]
    left.bar(numbers, [row["add_seconds"] for row in rounds], label="add 1% (one commit)")
    left.bar(numbers, [row["encode_seconds"] for row in rounds], label="of which encoding")
    left.plot(numbers, [row["delete_seconds"] for row in rounds], "k.-", label="delete 1% (one commit)")
    left.axhline(report["base_build_seconds"] * 0.03, color="red", linestyle="--", label="3% of a rebuild")
    left.set_xlabel("round")
    left.set_ylabel("seconds")
    left.legend(fontsize=8)
    left.set_title("commits per round")
    latency = report["speed"]["latency_ms"]
    names = ["segmented", "compacted"]
    right.bar([f"{name}\np50" for name in names], [latency[name]["p50_ms"] for name in names])
    right.bar([f"{name}\np99" for name in names], [latency[name]["p99_ms"] for name in names])
    right.set_ylabel("ms per query (k=10, 100 candidates)")
    right.set_title(f"{report['segments_before_compaction']} segments vs 1")
    figure.suptitle(f"braid writes: {report['dataset']} ({report['machine']['cpu_model']})")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


@click.command()
@click.option("--dataset", "dataset_name", default="scifact", show_default=True, help="A BEIR dataset (name under --data-dir, or a path).")
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--latency-queries", type=click.IntRange(min=10), default=200, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--keep", is_flag=True, help="Keep the indexes (the folder is printed).")
@click.option("--out", default="results/writes.json", show_default=True, type=click.Path(dir_okay=False))
def main(dataset_name: str, data_dir: str | None, latency_queries: int, seed: int, keep: bool, out: str) -> None:
    """Add and delete documents in rounds; compare with compaction and with a rebuild."""
    dataset = resolve_dataset(dataset_name, data_dir)
    test = dataset.load_split("test")
    queries = test.queries
    documents = list(read_corpus(dataset.require_corpus()))
    rng = random.Random(seed)
    order = list(range(len(documents)))
    rng.shuffle(order)
    step = max(1, len(documents) // 100)
    held_out = {documents[i].doc_id for i in order[: step * ROUNDS + step]}
    work = Path(tempfile.mkdtemp(prefix="braid-bench-writes-"))
    os.environ[CACHE_ENV] = str(work / "cache")  # nothing cached: every build and add encodes
    try:
        base = [document for document in documents if document.doc_id not in held_out]
        pending = [document for document in documents if document.doc_id in held_out]
        index = work / "live"
        click.echo(f"building the base index: {len(base)} documents ...", err=True)
        base_seconds = timed_build(write_corpus(work / "base.jsonl", base), index)
        rounds = []
        live = {document.doc_id: document for document in base}
        for number in range(1, ROUNDS + 1):
            adds, pending = pending[:step], pending[step:]
            started = time.perf_counter()
            with IndexWriter(index, NO_MERGES) as writer:
                writer.add(adds)
            add_seconds = time.perf_counter() - started
            encoding = encode_seconds(index, Manifest.read(index).segments[-1].name)
            live.update({document.doc_id: document for document in adds})
            doomed = rng.sample(sorted(live), step)
            started = time.perf_counter()
            with IndexWriter(index, NO_MERGES) as writer:
                writer.delete(doomed)
            delete_seconds = time.perf_counter() - started
            for doc_id in doomed:
                live.pop(doc_id)
            rounds.append(
                {
                    "round": number,
                    "added": len(adds),
                    "deleted": len(doomed),
                    "seconds": round(add_seconds + delete_seconds, 2),
                    "add_seconds": round(add_seconds, 2),
                    "encode_seconds": round(encoding, 2),
                    "add_docs_per_second": round(len(adds) / add_seconds, 1),
                    "add_docs_per_second_without_encoding": round(len(adds) / max(add_seconds - encoding, 1e-9), 1),
                    "add_share_of_rebuild": round(add_seconds / base_seconds, 4),
                    "delete_seconds": round(delete_seconds, 2),
                    "delete_docs_per_second": round(len(doomed) / delete_seconds, 1),
                }
            )
            click.echo(
                f"round {number}: +{len(adds)} in {add_seconds:.1f} s ({add_seconds / base_seconds:.1%} of a rebuild), -{len(doomed)} in {delete_seconds:.2f} s",
                err=True,
            )
        segments = len(Manifest.read(index).segments)
        segmented_quality = quality(index, queries, test.qrels)
        compacted = work / "compacted"
        shutil.copytree(index, compacted)
        started = time.perf_counter()
        with IndexWriter(compacted) as writer:
            writer_report = writer.compact()
        compact_seconds = time.perf_counter() - started
        click.echo(f"compacted {segments} segments in {compact_seconds:.1f} s; timing searches ...", err=True)
        measured_speed = speed(index, compacted, queries, latency_queries)
        survivors = [document for document in documents if document.doc_id in live]
        rebuild = work / "rebuilt"
        rebuild_seconds = timed_build(write_corpus(work / "survivors.jsonl", survivors), rebuild)
        rebuilt_quality = quality(rebuild, queries, test.qrels)
        result = {
            "benchmark": "braid writes: rounds of 1% adds and 1% deletes",
            "machine": machine(),
            "date": time.strftime("%Y-%m-%d"),
            "dataset": dataset.name,
            "precision": concrete_precision("auto"),
            "documents": len(documents),
            "round_size": step,
            "base_documents": len(base),
            "base_build_seconds": round(base_seconds, 1),
            "rounds": rounds,
            "segments_before_compaction": segments,
            "compaction_seconds": round(compact_seconds, 1),
            "compacted_documents": writer_report.documents,
            "speed": measured_speed,
            "ndcg@10": {"written": segmented_quality, "compacted": quality(compacted, queries, test.qrels), "rebuilt": rebuilt_quality},
            "equal_to_rebuild": segmented_quality == rebuilt_quality,
            "rebuild_seconds": round(rebuild_seconds, 1),
        }
    finally:
        if keep:
            click.echo(f"kept {work}", err=True)
        else:
            shutil.rmtree(work, ignore_errors=True)
    path = write_json(result, out)
    plot(result, path.with_suffix(".png"))
    first = rounds[0]
    click.echo(
        f"add 1% ({step} docs): {first['add_seconds']} s = {first['add_share_of_rebuild']:.1%} of a {base_seconds:.0f} s rebuild; "
        f"{segments} segments: p50 x{measured_speed['p50_ratio']}, batch x{measured_speed['batch_ratio']}; "
        f"compaction {compact_seconds:.1f} s; nDCG@10 equal to a rebuild: {result['equal_to_rebuild']} -> {path}"
    )


if __name__ == "__main__":
    main()
