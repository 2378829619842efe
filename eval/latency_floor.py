"""Benchmark: what the host allows one hybrid query, from its parts timed alone.

    python -m braid.eval.latency_floor INDEX_DIR --dataset scifact --out results/floor_scifact.json

Issue 17 asks for a hybrid single-query p50 of at most 1.3x the slowest retriever alone "where the
host allows it". This answers whether it does. It times each part of a hybrid query on its own:
each query encoder on its share of the cores (the cores over the encoders: one each on two cores)
and on every core, all encoders at once in threads of this process (each on its share), and the
fused search with every encoding kept, timed inside: each retriever's search (the engine's own
timings) and the rest of it (its time less those searches). From them it takes the lowest p50 any
way of running the retrievers could reach, each part at its time alone, every search but the
slowest encoder's overlapped perfectly, nothing waiting:

- encoders at once, each on its share of the cores: the slowest encoder's time so plus its own
  search, or all that work spread over the cores, whichever is larger; then the fusion.
- encoders one after another, every core each: their every-core encodings summed, then the search
  of the last, then the fusion.

The fusion is that rest: all the fused search does besides its retrievers' searches (tables, exact
scores, fusion, the hits and their titles, the calls around them). (It was once taken as the fused
search's time beyond its retrievers' searches each run alone, which build their own hits: on an AMD
EPYC host that came out below zero, so the floor counted no fusion at all, where the rest so timed
is 0.6-0.9 ms.) Every floor is a lower bound: if the lowest over the slowest retriever alone is
above the target, no way of running the retrievers reaches it on this host with these encoders.
The same floors with the encoders' times when both run at once in this process show what running
them side by side costs.
"""

from __future__ import annotations

import functools
import json
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import click

from braid.engine.all_cores import on_all_cores
from braid.engine.engine import Engine
from braid.engine.execution import encodes_ahead
from braid.engine.retriever import EncodesAhead
from braid.eval.datasets import resolve_dataset
from braid.eval.report import machine, write_json
from braid.eval.suite.measure import LATENCY_DEPTH, engine_latency, interactive_search
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.indexing.config import DENSE_QUERY_ENCODERS
from braid.indexing.host import all_cores, use_torch_threads

TARGET = 1.3  # issue 17: hybrid p50 at most this times the slowest retriever alone, where the host allows
BENCH_QUERIES = 100  # `braid bench` times the floor on this many of its latency queries (about 20 s on 2 cores)


def floors(
    alone_ms: Mapping[str, float],
    encode_share_ms: Mapping[str, float],
    encode_all_cores_ms: Mapping[str, float],
    searched_ms: Mapping[str, float],
    fusion: float,
    cores: int = 2,
) -> dict[str, float]:
    """The lowest p50s the parts allow (see the module's note), and the lowest over the slowest
    retriever alone. Encoders are the retrievers with encoding times; the rest only search.
    `searched_ms` is each retriever's search with its encoding kept, `fusion` what follows them."""
    encoders = list(encode_share_ms)
    share = cores_per_encoder(cores, len(encoders))
    work = share * sum(encode_share_ms.values()) + sum(searched_ms.values())
    chain = max(encode_share_ms[name] + searched_ms[name] for name in encoders)
    at_once = max(chain, work / cores) + fusion
    after_another = sum(encode_all_cores_ms.values()) + min(searched_ms[name] for name in encoders) + fusion
    lowest = min(at_once, after_another)
    return {
        "fusion_ms": round(fusion, 3),
        "encoders_at_once_ms": round(at_once, 3),
        "encoders_one_after_another_ms": round(after_another, 3),
        "floor_ms": round(lowest, 3),
        "floor_over_slowest": round(lowest / max(alone_ms.values()), 3),
    }


def cores_per_encoder(cores: int, encoders: int) -> int:
    """Each encoder's share of the cores when all of them run at once (at least one)."""
    return max(1, cores // encoders)


def measure_parts(engine: Engine, queries: Sequence[str]) -> dict[str, Any]:
    """Each part's p50 over `queries`, the parts taking turns as engine_latency has them (each
    query's encodings dropped before it; see the module's note for what each part is)."""
    retrievers = engine.retrievers
    encoders = [name for name, retriever in retrievers.items() if encodes_ahead(retriever)]
    if not applies(engine):
        raise BraidError(f"the index at {engine.path} needs a query encoder and another retriever to fuse with")
    parts: dict[str, list[float]] = {}
    share = cores_per_encoder(all_cores(), len(encoders))
    lanes = ThreadPoolExecutor(max_workers=len(encoders), thread_name_prefix="braid-floor")

    def record(part: str, function: Callable[[], object]) -> None:
        started = time.perf_counter()
        function()
        parts.setdefault(part, []).append(1000 * (time.perf_counter() - started))

    def encode(name: str, query: str, threads: int | None) -> Callable[[], object]:
        """`name`'s encoding of `query` with `threads` torch cores (None: every core) in this thread."""
        encoder = cast(EncodesAhead, retrievers[name])

        def run() -> object:
            use_torch_threads(threads)
            return encoder.query_rows([query])

        return run

    def on_share(name: str) -> Callable[[str], object]:
        return lambda query: lanes.submit(record, f"encode_share:{name}", encode(name, query, share)).result()

    def on_every_core(name: str) -> Callable[[str], object]:
        return lambda query: on_all_cores(record, f"encode_all_cores:{name}", encode(name, query, None))

    def at_once(query: str) -> None:
        start = threading.Barrier(len(encoders))

        def side_by_side(name: str) -> None:
            start.wait()  # both encoders begin together, as in a hybrid query
            record(f"encode_at_once:{name}", encode(name, query, share))

        for future in [lanes.submit(side_by_side, name) for name in encoders]:
            future.result()

    fused = engine.view(execution="serial")

    def kept(query: str) -> None:
        """The fused search with every encoding kept: its time, each retriever's search inside it,
        and the rest (all but those searches: the fusion, the hits, the calls around them)."""
        for name in encoders:  # untimed: the encodings the timed search then finds kept
            on_all_cores(encode(name, query, None))
        timings: dict[str, float] = {}
        record("fused_encoded", functools.partial(interactive_search(fused, timings=timings), query))
        for name in retrievers:
            parts.setdefault(f"searched:{name}", []).append(timings[name])
        parts.setdefault("fusion", []).append(parts["fused_encoded"][-1] - sum(timings[name] for name in retrievers))

    methods: dict[str, Callable[[str], object]] = {}
    for name in retrievers:
        view = engine.view([name], FusionConfig())  # a single list: the stored fusion's weights name the others
        methods[f"alone:{name}"] = interactive_search(view)
    for name in encoders:
        methods[f"share:{name}"] = on_share(name)
        methods[f"all_cores:{name}"] = on_every_core(name)
    if len(encoders) > 1:
        methods["at_once"] = at_once
    methods["kept"] = kept
    methods["hybrid"] = interactive_search(engine.view())
    try:
        timed = engine_latency(engine, methods, queries)
    finally:
        lanes.shutdown(wait=True)
    p50 = {part: round(statistics.median(values), 3) for part, values in parts.items()}
    return {
        "alone_ms": {name: timed[f"alone:{name}"]["p50_ms"] for name in retrievers},
        "hybrid_ms": timed["hybrid"]["p50_ms"],
        "cores_per_encoder": share,
        "encode_share_ms": {name: p50[f"encode_share:{name}"] for name in encoders},
        "encode_all_cores_ms": {name: p50[f"encode_all_cores:{name}"] for name in encoders},
        "encode_at_once_ms": {name: p50[f"encode_at_once:{name}"] for name in encoders if f"encode_at_once:{name}" in p50},
        "searched_in_fused_ms": {name: p50[f"searched:{name}"] for name in retrievers},
        "fusion_ms": p50["fusion"],
        "fused_encoded_ms": p50["fused_encoded"],
    }


def applies(engine: Engine) -> bool:
    """Whether the engine's retrievers make a hybrid with a query encoder: what the floor is about."""
    return len(engine.retrievers) > 1 and any(encodes_ahead(retriever) for retriever in engine.retrievers.values())


def host_floor(engine: Engine, queries: Sequence[str], target: float = TARGET) -> dict[str, Any]:
    """The parts measured on `queries` and the floors they give (what `braid bench` reports)."""
    parts = measure_parts(engine, queries)
    return {"queries": len(queries), "depth": LATENCY_DEPTH, "parts": parts, **report(parts, all_cores(), target)}


def report(parts: Mapping[str, Any], cores: int, target: float = TARGET) -> dict[str, Any]:
    """The floors from measured parts: alone (each encoder's time by itself) and in one process (both
    encoders' times when they run at once here), against the target and the hybrid as measured."""
    common = (parts["alone_ms"], parts["encode_share_ms"], parts["encode_all_cores_ms"], parts["searched_in_fused_ms"], parts["fusion_ms"])
    slowest = max(parts["alone_ms"].values())
    result: dict[str, Any] = {
        "target_over_slowest": target,
        "target_ms": round(target * slowest, 3),
        "hybrid_over_slowest": round(parts["hybrid_ms"] / slowest, 3),
        "parts_alone": floors(*common, cores=cores),
    }
    if parts["encode_at_once_ms"]:
        result["parts_in_one_process"] = floors(common[0], parts["encode_at_once_ms"], *common[2:], cores=cores)
    result["host_allows_target"] = result["parts_alone"]["floor_over_slowest"] <= target
    return result


@click.command()
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--dataset", "dataset_name", default="scifact", show_default=True, help="Whose test queries to time.")
@click.option("--data-dir", default=None, help="Where named datasets live (env BRAID_DATA).")
@click.option("--queries", "count", default=200, show_default=True, help="How many test queries.")
@click.option("--dense-query-encoder", type=click.Choice(DENSE_QUERY_ENCODERS), default=None, help="The dense query encoder (default: the index's setting).")
@click.option("--target", default=TARGET, show_default=True, help="Hybrid p50 over the slowest retriever alone to test the host against.")
@click.option("--out", type=click.Path(dir_okay=False), default="results/latency_floor.json", show_default=True)
def main(index_dir: str, dataset_name: str, data_dir: str | None, count: int, dense_query_encoder: str | None, target: float, out: str) -> None:
    """Time each part of a hybrid query alone and print the lowest p50 the host allows (JSON)."""
    queries = list(resolve_dataset(dataset_name, data_dir).load_split("test").queries.values())[:count]
    options = {"dense": {"query_encoder": dense_query_encoder}} if dense_query_encoder else None
    click.echo(f"timing the parts of a hybrid query over {len(queries)} {dataset_name} test queries (about 0.2 s a query)...", err=True)
    try:
        with Engine.open(index_dir, options=options) as engine:
            floor = host_floor(engine, queries, target)
    except BraidError as error:
        raise click.ClickException(str(error)) from None
    result = {"benchmark": "hybrid latency floor", "dataset": dataset_name, "index": str(Path(index_dir).absolute()), "machine": machine(), **floor}
    write_json(result, out)
    click.echo(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
