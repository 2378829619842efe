"""Sharded search against one index, same run: `python -m braid.eval.bench_shards indexes/scifact
scifact --shards 2,4 --ray local --out results/shards.json`.

For each shard count the index is split (kept under --work and reused), then:
- equality on every test query: each retriever's lists (dense exact) and the fused run equal the
  index's, and nDCG@10 of both (the default dense search, HNSW per shard, is scored too);
- latency: one query at a time, cold, the engines taking turns per query (interleaved), p50 of
  the single index and of the shards, in this process and (with --ray) as Ray actors; the ratio
  sharded / single is the scatter-gather overhead on this machine;
- recovery (with --ray): a shard actor is killed; the time until a query answers again, and
  whether any answer in between was wrong.
"""

from __future__ import annotations

import datetime
import functools
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import click

from braid.engine import Engine
from braid.engine.shard_group import ShardError
from braid.engine.shard_split import split_index
from braid.eval.datasets import resolve_dataset
from braid.eval.latency import interleaved_latency
from braid.eval.metrics import evaluate
from braid.eval.report import machine, write_json
from braid.indexing.shards import ShardLayout, is_sharded


def shards_of(index: Path, work: Path, count: int) -> tuple[Path, float | None]:
    """The index split in `count` shards under `work` (made unless already there); seconds to make it."""
    out = work / f"{index.name}-{count}-shards"
    if is_sharded(out) and len(ShardLayout.read(out).shards) == count:
        return out, None
    started = time.perf_counter()
    split_index(index, out, count, overwrite=True, progress=True)
    return out, round(time.perf_counter() - started, 1)


def equality(single: Engine, sharded: Engine, queries: dict[str, str], qrels: Any) -> dict[str, Any]:
    texts = list(queries.values())
    lists = {name: sharded.retrieve(texts, 100)[name] == single.retrieve(texts, 100)[name] for name in single.retrievers}
    mine, theirs = sharded.run(queries), single.run(queries)
    return {
        "lists_equal": lists,
        "fused_run_equal": mine == theirs,
        "ndcg@10": {"single": round(evaluate(theirs, qrels).means["ndcg@10"], 4), "sharded": round(evaluate(mine, qrels).means["ndcg@10"], 4)},
    }


def recovery(engine: Engine, query: str, expected: Any) -> dict[str, Any]:
    """Kill one shard actor while queries stream: how long the first query sent after the kill
    took to answer right (it waits for the restarted shard), and whether any answer was wrong."""
    group = engine._current.lease.group  # type: ignore[union-attr]
    outcomes: list[tuple[float, float, str]] = []  # (sent, answered, outcome)
    stop = threading.Event()

    def stream() -> None:
        while not stop.is_set():
            sent = time.perf_counter()
            try:
                outcome = "right" if engine.search(query, k=10) == expected else "wrong"
            except ShardError as error:
                outcome = f"error: {error}"
            outcomes.append((sent, time.perf_counter(), outcome))

    reader = threading.Thread(target=stream)
    reader.start()
    time.sleep(1.0)
    killed = time.perf_counter()
    os.kill(group.pids[0], signal.SIGKILL)
    while time.perf_counter() - killed < 120 and not any(sent > killed and outcome == "right" for sent, _, outcome in outcomes):
        time.sleep(0.1)
    time.sleep(1.0)
    stop.set()
    reader.join()
    after = [(sent, answered, outcome) for sent, answered, outcome in outcomes if answered > killed]
    first = next(((sent, answered) for sent, answered, outcome in after if sent > killed and outcome == "right"), None)
    return {
        "first_query_after_kill_ms": None if first is None else round(1000 * (first[1] - first[0]), 1),
        "seconds_from_kill_to_first_right_answer": None if first is None else round(first[1] - killed, 2),
        "answers_after_kill": len(after),
        "wrong": sum(outcome == "wrong" for _, _, outcome in after),
        "errors": sorted({outcome for _, _, outcome in after if outcome.startswith("error")}),
        "restarted": group.call("pid", [() for _ in group.folders])[0] != group.pids[0],
    }


def _search(engine: Engine, query: str) -> object:
    return engine.search(query, k=10)


@click.command()
@click.argument("index", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("data")
@click.option("--shards", "counts", default="2,4", show_default=True, help="Shard counts to compare, comma-separated.")
@click.option("--ray", default=None, metavar="ADDRESS", help="Also search the shards as Ray actors (local, auto or an address).")
@click.option("--queries", "query_count", type=click.IntRange(min=10), default=100, show_default=True, help="Test queries timed.")
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=Path("indexes/shards"), show_default=True)
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=Path("results/shards.json"), show_default=True)
def main(index: Path, data: str, counts: str, ray: str | None, query_count: int, work: Path, data_dir: str | None, out: Path) -> None:
    """Scatter-gather overhead and exactness of sharded search against the index it was split from."""
    split = resolve_dataset(data, data_dir).load_split("test")
    exact = {"dense": {"exact": True}}
    report: dict[str, Any] = {"benchmark": "shards", "date": datetime.date.today().isoformat(), "index": str(index), "machine": machine(), "runs": []}
    engines: dict[str, Engine] = {"single": Engine.open(index, execution="threads")}
    try:
        for count in [int(value) for value in counts.split(",")]:
            folder, seconds = shards_of(index, work, count)
            with Engine.open(index, options=exact) as single, Engine.open(folder, options=exact) as sharded:
                checked = equality(single, sharded, split.queries, split.qrels)
            with Engine.open(folder, execution="threads") as sharded:
                checked["ndcg@10_hnsw"] = round(evaluate(sharded.run(split.queries), split.qrels).means["ndcg@10"], 4)
            report["runs"].append({"shards": count, "split_seconds": seconds, "docs": list(ShardLayout.read(folder).docs), **checked})
            click.echo(f"{count} shards: {checked}", err=True)
            engines[f"{count} shards, in process"] = Engine.open(folder, execution="threads")
            if ray is not None:
                engines[f"{count} shards, ray"] = Engine.open(folder, execution="threads", ray=ray)
        texts = list(split.queries.values())[:query_count]
        latency: dict[str, Any] = {}
        for retrievers in (None, ["bm25"], ["splade"], ["dense"]):
            label = "fused" if retrievers is None else retrievers[0]
            views = {name: engine.view(retrievers) for name, engine in engines.items()}

            def forget() -> None:
                for engine in engines.values():
                    engine.forget_queries()

            measured = interleaved_latency({name: functools.partial(_search, view) for name, view in views.items()}, texts, forget)
            single_p50 = measured["single"]["p50_ms"]
            latency[label] = {name: {**values, "p50_vs_single": round(values["p50_ms"] / single_p50, 2)} for name, values in measured.items()}
            click.echo(f"{label}: {latency[label]}", err=True)
        report["latency"] = latency
        if ray is not None:
            ray_engines = [name for name in engines if name.endswith("ray")]
            query = texts[0]
            expected = engines[ray_engines[0]].search(query, k=10)  # its own answer before the kill (HNSW per shard)
            report["recovery"] = {"engine": ray_engines[0], **recovery(engines[ray_engines[0]], query, expected)}
            click.echo(f"recovery: {report['recovery']}", err=True)
    finally:
        for engine in engines.values():
            engine.close()
    click.echo(f"wrote {write_json(report, out)}")


if __name__ == "__main__":
    main()
