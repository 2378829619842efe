"""How one query's retrievers run: all at once in threads, in one thread per core ("lanes"), one after
another, the query encoders one after another while the cheap retrievers run beside them ("overlap"), the query encoders all
at once in threads, then every search in the calling thread with the encodings made ("encode-ahead"),
or the same with the encoders one after another on every core ("encode-first").

Encoding is mostly compiled work that releases Python's lock (a traced torch model, ONNX Runtime),
while a search's other steps hold it; "encode-ahead" overlaps the former and runs the latter in one
thread, where "threads" has three threads take turns at the lock (searching the cheap retrievers
while the encoders run was slower: their Python work delays the encoders' own). Which is fastest depends on the
host and the encoders. On a 2-core AMD EPYC (2026-12-02) SciFact's three retrievers
took 16.3 ms p50 in threads and 14.5 ms one after another; elsewhere threads win. What the
encoders contend for is Python's lock, not memory: beside a thread multiplying matrices (no lock)
a SPLADE query encodes as fast as alone, beside a thread running a Python loop ten times slower
(Intel Xeon, 2026-12-05: 3.0 -> 2.9 and 38.9 ms). So `auto` measures
each way on probe queries the first time an index's retriever set is searched on a host, keeps the
fastest, and stores it (with its timings) in braid's cache, keyed by host, retrievers and index
size; a setting or BRAID_EXECUTION overrides it. Batches (more than a few queries) always use
threads: each retriever then spreads its own work over every core.

"lanes" runs one thread per core rather than per retriever: the encoders start first, one core each,
and whichever finishes first takes the cheap retrievers. "threads" starts BM25 beside both encoders,
three threads on two cores, and BM25's Python work holds the lock the encoders need between their
compiled steps (SciFact, Intel Xeon, 2026-12-05: 11.0-11.1 ms p50 against 12.6-13.0 for
encode-ahead and 13.6 for threads; NFCorpus 9.1-9.9 against 10.3-11.1 and 10.6-11.5).

"encode-first" does no work at once: it gains by order alone. After an encoder has streamed its
weights through the caches, every search and the fusion find their code and data cold; run
together after both encoders, they warm once (SciFact, Intel Xeon, 2026-12-04: 0.975-0.988 of the
serial sum against 0.998-1.001 for serial).

Threads that ran torch on every core keep an OpenMP team while they live, and once the teams
outnumber the cores libgomp stops spinning between parallel regions (braid.engine.all_cores has the
measurements): a serial hybrid query took 10.5 ms, and 19.6-20.9 ms once a live pool thread had
encoded a query on every core. So the ways that encode in the calling thread (`encodes_in_caller`)
run in the process's all-cores thread whichever thread searches, and probing the ways in turn per
query ends each probe turn's threads with it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import queue
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from braid.engine.interleaved import interleaved_times
from braid.engine.retriever import retriever_settings
from braid.fusion.errors import BraidError
from braid.indexing.config import DEFAULT_EXECUTION, EXECUTION_ENV, EXECUTIONS, Execution
from braid.indexing.host import all_cores, cpu_model

STRATEGIES: tuple[str, ...] = ("threads", "serial", "overlap", "encode-ahead", "encode-first", "lanes")  # what `auto` chooses among
STORE_NAME = "execution.json"

# Probe queries per way of running (after one warm-up round): enough for a stable median. The ways
# take turns every PROBE_BLOCK probes, each turn after one untimed probe (see interleaved_times).
# With 15 (three turns a way), one measurement at the start of a `braid bench` on a 2-core AMD EPYC
# chose encode-ahead (8.50 ms against lanes 8.87), where ten later ones each chose lanes by 0.7-2.3 ms
# and lanes ran SciFact's test queries 1 ms faster (8.95 against 9.88): a busy spell had hit lanes'
# turns. Thirty give each way six turns, for about 2 s once per host and index size (2026-12-05).
PROBES = 30
PROBE_BLOCK = 5

# Runs one retriever's search; `threads` is the torch intra-op threads it may use (None: every core).
RunOne = Callable[[str, int | None], Any]
# Encodes the query for one retriever, keeping the result for its search; `threads` as for RunOne.
EncodeOne = Callable[[str, int | None], None]


def encodes_queries(retriever: object) -> bool:
    """Whether a retriever runs a model on every query (the expensive ones): kinds say so with
    `encodes_queries = True`; any other retriever counts as cheap."""
    return bool(getattr(retriever, "encodes_queries", False))


def encodes_ahead(retriever: object) -> bool:
    """Whether a retriever's query encoding can run before its search (EncodesAhead: dense and SPLADE)."""
    return encodes_queries(retriever) and callable(getattr(retriever, "query_rows", None))


def encodes_in_caller(strategy: str) -> bool:
    """Whether `run_all` runs a query encoder in the calling thread on every core under `strategy`
    (the engine then calls it from its all-cores thread: braid.engine.all_cores)."""
    return strategy in ("serial", "overlap", "encode-first")


def resolve_execution(given: str | None) -> Execution:
    """The setting in force: the one given, else BRAID_EXECUTION, else auto."""
    value = given if given is not None else os.environ.get(EXECUTION_ENV) or DEFAULT_EXECUTION
    if value not in EXECUTIONS:
        source = "execution" if given is not None else EXECUTION_ENV
        raise BraidError(f"{source} {value!r} is not one of {', '.join(EXECUTIONS)}")
    return value


def candidates(retrievers: Mapping[str, object], cores: int | None = None) -> tuple[str, ...]:
    """The ways worth trying: overlap only when there are both cheap retrievers and encoders,
    encode-ahead and encode-first when an encoder can encode ahead and there is another retriever,
    lanes when there are more retrievers than the host's `cores` (default: all) and at least two
    cores (else it is threads, or serial in another thread)."""
    expensive = sum(encodes_queries(retriever) for retriever in retrievers.values())
    ahead = sum(encodes_ahead(retriever) for retriever in retrievers.values())
    ways = ["threads", "serial"]
    if 0 < expensive < len(retrievers):
        ways.append("overlap")
    if ahead and len(retrievers) > 1:
        ways += ["encode-ahead", "encode-first"]
    if 1 < (cores or all_cores()) < len(retrievers):
        ways.append("lanes")
    return tuple(ways)


def run_all(
    strategy: str,
    names: Sequence[str],
    expensive: Sequence[bool],
    run_one: RunOne,
    pool: ThreadPoolExecutor,
    encode_one: EncodeOne | None = None,
    ahead: Sequence[bool] = (),
) -> dict[str, Any]:
    """Every retriever's result by name, run the `strategy` way. In threads each retriever's torch
    gets one core (two encoders each spreading over both cores contend); run in this thread, it gets
    them all. encode-ahead: `encode_one` in threads (one core each) for the retrievers `ahead` says
    can, then every search here, those on the kept encodings; encode-first: the same encodings here,
    one after another on every core; lanes: see in_lanes."""
    if strategy == "serial":
        return {name: run_one(name, None) for name in names}
    if strategy == "encode-ahead" and encode_one is not None:
        encoding = [pool.submit(encode_one, name, 1) for name, can in zip(names, ahead) if can]
        for future in encoding:
            future.result()
        return {name: run_one(name, None) for name in names}
    if strategy == "encode-first" and encode_one is not None:
        for name, can in zip(names, ahead):
            if can:
                encode_one(name, None)
        return {name: run_one(name, None) for name in names}
    if strategy == "lanes":
        return in_lanes(names, expensive, run_one, pool)
    if strategy == "overlap":
        beside = {name: pool.submit(run_one, name, 1) for name, costly in zip(names, expensive) if not costly}
        here = {name: run_one(name, None) for name, costly in zip(names, expensive) if costly}
        return {name: here[name] if name in here else beside[name].result() for name in names}
    futures = {name: pool.submit(run_one, name, 1) for name in names}
    return {name: future.result() for name, future in futures.items()}


def in_lanes(names: Sequence[str], expensive: Sequence[bool], run_one: RunOne, pool: ThreadPoolExecutor, cores: int | None = None) -> dict[str, Any]:
    """Every retriever's result, run in one thread per core (default: all; `pool` must have as many
    workers), one core each: the encoders first, then the cheap retrievers, each lane taking the
    next retriever when it has finished its last."""
    waiting = queue.SimpleQueue[str]()
    for name in [name for name, costly in zip(names, expensive) if costly] + [name for name, costly in zip(names, expensive) if not costly]:
        waiting.put(name)
    found: dict[str, Any] = {}

    def lane() -> None:
        while True:
            try:
                name = waiting.get_nowait()
            except queue.Empty:
                return
            found[name] = run_one(name, 1)

    for running in [pool.submit(lane) for _ in range(min(cores or all_cores(), len(names)))]:
        running.result()
    return {name: found[name] for name in names}


@dataclass(frozen=True)
class Choice:
    """What `auto` picked for one retriever set on one host, and the timings it picked by."""

    strategy: str
    p50_ms: dict[str, float]
    probes: int
    measured: str  # UTC time of the measurement

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(
    ways: Sequence[str],
    search_once: Callable[[str, str], None],
    queries: Sequence[str],
    forget: Callable[[], None],
    end_turn: Callable[[str], None] | None = None,
) -> Choice:
    """Time `search_once(way, query)` for every way on every query (cold: `forget` drops cached
    query vectors first), taking turns in a rotating order so that a busy spell hits every way
    alike; the way with the lowest median wins. Turns last PROBE_BLOCK queries and `end_turn`
    ends the threads a turn ran in (see the module's note on OpenMP), so that each way is timed as
    in a process running only it."""
    if not queries:
        raise BraidError("no probe queries to measure how retrievers run")
    # One warm-up query through every way: models loaded, caches and allocators settled.
    times = interleaved_times({way: functools.partial(search_once, way) for way in ways}, queries, forget, warmup=1, block=PROBE_BLOCK, end_turn=end_turn)
    medians = {way: round(statistics.median(values), 3) for way, values in times.items()}
    winner = min(ways, key=lambda way: (medians[way], ways.index(way)))
    return Choice(winner, medians, len(queries), time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def probe_queries(texts: Sequence[str], words: int = 8) -> list[str]:
    """Short queries from documents' titles or opening words: what the retrievers face, without labels."""
    queries = [" ".join(text.split()[:words]) for text in texts]
    return [query for query in queries if query.strip()]


def store_key(retrievers: Mapping[str, Any], documents: int) -> str:
    """Host, retrievers (kind and settings) and index size to the nearest power of ten: what the choice depends on."""
    settings = {name: {"kind": type(retriever).__name__, **retriever_settings(retriever)} for name, retriever in retrievers.items()}
    described = json.dumps({"host": _host(), "retrievers": settings, "documents_log10": len(str(max(documents, 1)))}, sort_keys=True, default=str)
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def stored_choice(key: str) -> Choice | None:
    from braid.indexing.embedding_cache import cache_root  # numpy and scipy: not for `braid --help`

    try:
        entry = json.loads((cache_root() / STORE_NAME).read_text(encoding="utf-8")).get(key)
        return Choice(**entry) if entry else None
    except (OSError, ValueError, TypeError):
        return None  # no store yet, or one this version cannot read: measure again


def store_choice(key: str, choice: Choice) -> None:
    """Add the choice to the store, written whole (a temporary file renamed over it)."""
    from braid.indexing.embedding_cache import cache_root

    path = cache_root() / STORE_NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entries = {}
        entries[key] = choice.to_dict()
        temporary = path.with_name(f".{STORE_NAME}.{os.getpid()}")
        temporary.write_text(json.dumps(entries, indent=1) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # a read-only cache: the choice holds for this process only


def _host() -> dict[str, Any]:
    return {"cpu": cpu_model(), "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None}
