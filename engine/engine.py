"""Open an index directory and answer queries: the engine owns the retrievers and their threads."""

from __future__ import annotations

import functools
import inspect
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from braid.engine import fused
from braid.engine.all_cores import on_all_cores
from braid.engine.context_pool import ContextThreadPool
from braid.engine.doc_ordinals import DocOrdinals
from braid.engine.execution import (
    PROBES,
    Choice,
    candidates,
    encodes_ahead,
    encodes_in_caller,
    encodes_queries,
    measure,
    probe_queries,
    resolve_execution,
    run_all,
    store_choice,
    store_key,
    stored_choice,
)
from braid.engine.filter_mask import AppliedFilter, FilterMasks
from braid.engine.filters import FilterError
from braid.engine.hits import Hit
from braid.engine.registry import open_retriever, retriever_kind
from braid.engine.retriever import EncodesAhead, Ranking, Retriever, as_ordinals, filter_refused
from braid.engine.shard_answers import ShardAnswers, accepting_partial
from braid.fusion.config import FusionConfig
from braid.fusion.errors import BraidError
from braid.fusion.table import CandidateTable, FusedRows
from braid.fusion.types import EVAL_DEPTH, SEARCH_DEPTH, FusedHit
from braid.indexing.host import use_torch_threads
from braid.indexing.integrity import check_sizes
from braid.indexing.layout import MANIFEST_NAME
from braid.indexing.leases import Lease
from braid.indexing.manifest import Manifest
from braid.indexing.segments import LiveDocStore, Segment, open_segments
from braid.indexing.shards import ShardLayout, index_manifest, is_sharded
from braid.indexing.tuned_fusion import stored_or_default

# Up to this many queries per call, each retriever thread runs torch on one core.
FEW_QUERIES = 4


class Releasable(Protocol):
    """What a generation lets go of when it closes: its lease (a sharded index's: its shards too)."""

    def release(self) -> None: ...


# A filter as users write it: a dict in the filter language (engine/filters.py), or its JSON text.
FilterSpec = Mapping[str, Any] | str


class Generation:
    """What one committed generation of an index is searched with. Searches hold it while they run;
    after a refresh the old one closes when its last search ends, so no answer mixes generations."""

    def __init__(
        self,
        manifest: Manifest,
        retrievers: dict[str, Retriever],
        docstore: LiveDocStore,
        lease: Releasable | None = None,
        filters: FilterMasks | None = None,
        ordinals: DocOrdinals | None = None,
    ) -> None:
        self.manifest = manifest
        self.retrievers = retrievers
        self.docstore = docstore
        self.lease = lease
        self.filters = filters or FilterMasks(docstore.segments, manifest.metadata)
        self.ordinals = ordinals or DocOrdinals(docstore.ids)
        self.users = 0
        self.retired = False

    def subset(self, names: Sequence[str]) -> Generation:
        """The same generation seen through fewer retrievers (a view's); closing stays with this one."""
        if list(names) == list(self.retrievers):
            return self
        return Generation(self.manifest, {name: self.retrievers[name] for name in names}, self.docstore, filters=self.filters, ordinals=self.ordinals)

    def close(self) -> None:
        for retriever in self.retrievers.values():
            retriever.close()
        self.docstore.close()
        if self.lease is not None:
            self.lease.release()


class Engine:
    """A searchable index. Opening reads the manifest and the doc ids; Java and models start at the
    first query (and are kept across refreshes).

    With several retrievers a batch goes to all of them at once (one thread each: the encoders,
    hnswlib, scipy and Lucene do most of their work outside Python's lock) and their lists are fused;
    one query's retrievers run as `execution` says (braid.engine.execution: by default measured per host).
    An engine searches the generation it opened until `refresh()` moves it to a newer one.
    """

    def __init__(
        self,
        path: Path,
        manifest: Manifest,
        retrievers: dict[str, Retriever],
        docstore: LiveDocStore,
        fusion: FusionConfig | None = None,
        lease: Releasable | None = None,
        execution: str | None = None,
    ) -> None:
        self.path = path
        self.execution = resolve_execution(execution)
        self.fusion = fusion or FusionConfig()
        self._current = Generation(manifest, retrievers, docstore, lease)
        self._swap_lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._stamp = _manifest_stamp(path)
        self._options: Mapping[str, Mapping[str, Any]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._parent: Engine | None = None  # a view borrows its parent's generation (retrievers) and threads
        self._names: list[str] = list(retrievers)  # a view's subset of them
        self._ways: dict[tuple[str, ...], Choice] = {}  # `auto`'s choice per retriever set (see braid.engine.execution)
        self._ways_lock = threading.Lock()
        self._ray: str | None = None  # a sharded index's Ray address (None: its shards in this process)

    def _generation(self) -> Generation:
        return self._parent._current.subset(self._names) if self._parent is not None else self._current

    @property
    def manifest(self) -> Manifest:
        return self._generation().manifest

    @property
    def retrievers(self) -> dict[str, Retriever]:
        return self._generation().retrievers

    @property
    def docstore(self) -> LiveDocStore:
        return self._generation().docstore

    @classmethod
    def open(
        cls,
        path: str | Path,
        retrievers: Sequence[str] | None = None,
        fusion: FusionConfig | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
        execution: str | None = None,
        ray: str | None = None,
    ) -> Engine:
        """Open the index at `path`, using `retrievers` (default: all it has).

        `fusion` defaults to what `braid tune` stored in the index, else `FusionConfig()`.
        `options` overrides, per retriever, what the index was built with, for this engine only:
        e.g. {"bm25": {"k1": 1.2, "backend": "lucene"}, "dense": {"ef_search": 50, "exact": True},
        "splade": {"backend": "lucene", "query_stopwords": False}} (each kind lists its own).
        `execution` says how one query's retrievers run (auto, threads, serial, overlap, encode-ahead, encode-first, lanes; default
        BRAID_EXECUTION, else auto: measured once per host, see braid.engine.execution).
        A sharded index (`braid shard`) is searched as one: its shards in this process, or with
        `ray` (a cluster address, `auto` or `local`) one Ray actor per shard (braid.engine.sharded).
        """
        path = Path(path)
        execution = resolve_execution(execution)
        if is_sharded(path):
            return cls._open_shards(path, retrievers, fusion, options or {}, execution, ray)
        if ray is not None:
            raise BraidError(f"{path} is not a sharded index: `ray` searches the shards `braid shard` writes")
        manifest, lease, segments = _read_generation(path)
        try:
            chosen = _chosen(path, manifest, retrievers, options or {})
            fusion = fusion or stored_or_default(path, chosen)
            fusion.check_retrievers(chosen)
            generation = _open_generation(manifest, segments, chosen, options or {}, lease)
        except BaseException:
            lease.release()
            raise
        engine = cls(path, manifest, generation.retrievers, generation.docstore, fusion, lease, execution)
        engine._options = dict(options or {})
        return engine

    @classmethod
    def _open_shards(
        cls,
        path: Path,
        retrievers: Sequence[str] | None,
        fusion: FusionConfig | None,
        options: Mapping[str, Mapping[str, Any]],
        execution: str,
        ray: str | None,
    ) -> Engine:
        """A sharded index (braid.engine.sharded), searched as one."""
        chosen = _chosen(path, index_manifest(path), retrievers, options)
        fusion = fusion or stored_or_default(path, chosen)
        fusion.check_retrievers(chosen)
        generation = _sharded_generation(path, chosen, options, ray)
        engine = cls(path, generation.manifest, generation.retrievers, generation.docstore, fusion, generation.lease, execution)
        engine._options = dict(options)
        engine._ray = ray
        return engine

    def refresh(self) -> bool:
        """Move to the newest committed generation, if a writer made one since (a cheap stat when
        not). Searches already running finish on the generation they started with. Returns whether
        the engine changed. Views are not refreshed: take new ones from the refreshed engine."""
        if self._parent is not None:
            raise BraidError("refresh the engine this view was taken from, then take a new view")
        if not self._refresh_lock.acquire(blocking=False):
            return False  # another thread is opening the new generation; searches go on meanwhile
        try:
            stamp = _manifest_stamp(self.path)
            if stamp == self._stamp:
                return False
            if is_sharded(self.path):  # a writer committed to one of the shards
                fresh = _sharded_generation(self.path, list(self.retrievers), self._options, self._ray)
            else:
                manifest, lease, segments = _read_generation(self.path)
                if manifest.generation == self.manifest.generation:
                    lease.release()
                    self._stamp = stamp
                    return False
                try:
                    fresh = _open_generation(manifest, segments, list(self.retrievers), self._options, lease)
                except BaseException:
                    lease.release()
                    raise
            with self._swap_lock:
                old, self._current = self._current, fresh
                old.retired = True
                idle = old.users == 0
            if idle:
                old.close()
            self._stamp = stamp
            return True
        finally:
            self._refresh_lock.release()

    @contextmanager
    def _using(self) -> Iterator[Generation]:
        """The current generation, held for one search (see Generation)."""
        if self._parent is not None:
            with self._parent._using() as generation:
                yield generation.subset(self._names)
            return
        with self._swap_lock:
            generation = self._current
            generation.users += 1
        try:
            yield generation
        finally:
            with self._swap_lock:
                generation.users -= 1
                done = generation.retired and generation.users == 0
            if done:
                generation.close()

    def view(self, retrievers: Sequence[str] | None = None, fusion: FusionConfig | None = None, execution: str | None = None) -> Engine:
        """The same open retrievers (models stay loaded once), a subset of them and/or other fusion
        or execution settings: how a benchmark compares methods. Closing a view leaves this engine open."""
        chosen = list(dict.fromkeys(retrievers)) if retrievers else list(self.retrievers)
        for name in chosen:
            if name not in self.retrievers:
                raise BraidError(f"retriever {name!r} is not open in this engine; it has: {', '.join(self.retrievers)}")
        fusion = fusion or self.fusion
        fusion.check_retrievers(chosen)
        view = Engine(self.path, self.manifest, {name: self.retrievers[name] for name in chosen}, self.docstore, fusion, execution=execution or self.execution)
        view._parent = self._parent or self
        view._names = chosen
        return view

    def retrieve(
        self, queries: Sequence[str], depth: int, timings: dict[str, float] | None = None, filter: FilterSpec | None = None
    ) -> dict[str, list[Ranking]]:
        """Each retriever's lists for the queries, all retrievers at once (the input of fusion).
        With `timings`, each retriever's wall time in milliseconds is stored there by name. A blank
        query gets empty lists: no retriever sees it (a dense model would return arbitrary documents).
        With `filter`, every retriever returns matching documents only."""
        with self._using() as generation:
            return self._retrieve(generation.retrievers, queries, depth, timings, _allowed(generation, filter))

    def apply_filter(self, filter: FilterSpec) -> AppliedFilter:
        """Check `filter` against the index's metadata fields (FilterError names the bad part) and
        say which documents it keeps: how explanations and responses report it."""
        with self._using() as generation:
            return _applied(generation, filter)

    def _retrieve(
        self, retrievers: Mapping[str, Retriever], queries: Sequence[str], depth: int, timings: dict[str, float] | None, allowed: np.ndarray | None = None
    ) -> dict[str, list[Ranking]]:
        asked = _asked(queries, allowed)
        if len(asked) < len(queries):
            found = (
                self._retrieve(retrievers, [queries[position] for position in asked], depth, timings, allowed) if asked else {name: [] for name in retrievers}
            )
            lists: dict[str, list[Ranking]] = {name: [[] for _ in queries] for name in retrievers}
            for name, rankings in found.items():
                for position, ranking in zip(asked, rankings):
                    lists[name][position] = ranking
            return lists
        return self._run_retrievers(retrievers, queries, depth, timings, allowed, _search)

    def _run_retrievers(
        self,
        retrievers: Mapping[str, Retriever],
        queries: Sequence[str],
        depth: int,
        timings: dict[str, float] | None,
        allowed: np.ndarray | None,
        search: Callable[[Retriever, Sequence[str], int, np.ndarray | None], Any],
    ) -> dict[str, Any]:
        """`search(retriever, queries, depth, allowed)` of every retriever, all at once: a batch in
        threads of its own, a few queries from the all-cores thread (see braid.engine.all_cores)."""
        if len(queries) > FEW_QUERIES:  # each retriever spreads its batch over every core
            return _in_batch_threads(retrievers, timings, search, queries, depth, allowed)
        if len(retrievers) == 1:
            ((name, retriever),) = retrievers.items()
            alone = functools.partial(_timed, timings, name, _with_torch_threads, None, search, retriever, queries, depth, allowed)
            return {name: on_all_cores(alone) if encodes_queries(retriever) else alone()}
        pool = self._threads()
        way = self._single_query_way(retrievers, search)

        encoding_ms: dict[str, float] = {}

        def run_one(name: str, threads: int | None) -> Any:
            return _timed(timings, name, _with_torch_threads, threads, search, retrievers[name], queries, depth, allowed)

        def encode_one(name: str, threads: int | None) -> None:
            _timed(encoding_ms, name, _encode_ahead, retrievers[name], queries, threads)

        every_way = functools.partial(
            run_all, way, list(retrievers), _flags(encodes_queries, retrievers), run_one, pool, encode_one, _flags(encodes_ahead, retrievers)
        )
        found = on_all_cores(every_way) if encodes_in_caller(way) else every_way()
        if timings is not None:  # a retriever's time includes its query's encoding, wherever that ran
            for name, milliseconds in encoding_ms.items():
                timings[name] = timings.get(name, 0.0) + milliseconds
        return found

    def execution_choice(self, retrievers: Sequence[str] | None = None) -> Choice | None:
        """What `auto` chose for these retrievers (default: this engine's) and the timings behind
        it; None before it is measured or when a setting other than auto is in force."""
        if self.execution != "auto":
            return None
        return (self._parent or self)._ways.get(tuple(retrievers or self.retrievers))

    def describe_execution(self) -> dict[str, Any]:
        """The execution setting and, under auto, the choice and timings so far (for reports and /health)."""
        choice = self.execution_choice()
        return {"setting": self.execution, "chosen": choice.to_dict() if choice else None}

    def describe_shards(self) -> dict[str, Any] | None:
        """A sharded index's shards as searched (how many, where, their generations); None for one index."""
        with self._using() as generation:
            group = getattr(generation.lease, "group", None)
            return None if group is None else {**group.describe(), "generations": list(generation.lease.generations)}  # type: ignore[union-attr]

    def calibrate(self, force: bool = False) -> Choice:
        """Measure how one query's retrievers run fastest on this host (see braid.engine.execution)
        and keep the choice for `auto`: the stored one unless `force`. Searching does this by itself."""
        with self._using() as generation:
            return self._choose_way(generation.retrievers, functools.partial(fused.search, generation.ordinals, False), force)

    def _single_query_way(self, retrievers: Mapping[str, Retriever], search: Callable[..., Any]) -> str:
        if self.execution != "auto":
            return self.execution
        return self._choose_way(retrievers, search).strategy

    def _choose_way(self, retrievers: Mapping[str, Retriever], search: Callable[..., Any], force: bool = False) -> Choice:
        root = self._parent or self
        names = tuple(retrievers)
        with root._ways_lock:  # one measurement per retriever set; concurrent first searches wait for it
            choice = None if force else root._ways.get(names)
            if choice is None:
                ids = self.docstore.ids()
                key = store_key(retrievers, len(ids))
                choice = None if force else stored_choice(key)
                if choice is None or set(choice.p50_ms) != set(candidates(retrievers)):  # measured before a way was added or dropped
                    choice = on_all_cores(self._measure_ways, retrievers, search, ids)
                    store_choice(key, choice)
                root._ways[names] = choice
            return choice

    def _measure_ways(self, retrievers: Mapping[str, Retriever], search: Callable[..., Any], ids: Sequence[str]) -> Choice:
        picked = [ids[position] for position in np.linspace(0, len(ids) - 1, num=min(PROBES, len(ids)), dtype=np.int64)]
        titles = self.docstore.titles(picked)
        openings = self.docstore.snippets(picked, 200)
        queries = probe_queries([titles.get(doc) or openings.get(doc, "") for doc in picked])
        names = list(retrievers)
        expensive, ahead = _flags(encodes_queries, retrievers), _flags(encodes_ahead, retrievers)
        pools: list[ThreadPoolExecutor] = []  # the probes' own threads, ended after every turn

        def search_once(way: str, query: str) -> None:
            if not pools:
                pools.append(ContextThreadPool(max_workers=len(retrievers), thread_name_prefix="braid-probe"))
            run_all(
                way, names, expensive, lambda name, threads: _with_torch_threads(threads, search, retrievers[name], [query], SEARCH_DEPTH, None), pools[0],
                lambda name, threads: _encode_ahead(retrievers[name], [query], threads), ahead,
            )  # fmt: skip

        def end_turn(_: str) -> None:
            if pools:
                pools.pop().shutdown(wait=True)

        def forget() -> None:
            for retriever in retrievers.values():
                retriever.forget_queries()

        return measure(candidates(retrievers), search_once, queries, forget, end_turn)

    def fuse(self, queries: Sequence[str], per_retriever: Mapping[str, list[Ranking]], k: int, explain: bool = True) -> list[list[FusedHit]]:
        """Fused, explained hits per query, from `retrieve`'s lists (kept apart so tuning can reuse them)."""
        with self._using() as generation:
            if len(per_retriever) == 1:
                ((name, rankings),) = per_retriever.items()
                return fused.single_hits(name, rankings, k)
            tables = self._tables_of(generation, per_retriever, len(queries))
            exact = None
            if fused.wants_exact(self.fusion, len(per_retriever)):
                exact = self._exact(generation, queries, tables, list(per_retriever))
            return fused.hits(generation.ordinals, fused.fuse(self.fusion, generation.ordinals, tables, k, exact), explain)

    def search_fused(
        self,
        queries: Sequence[str],
        k: int,
        depth: int,
        explain: bool = True,
        timings: dict[str, float] | None = None,
        filter: FilterSpec | None = None,
    ) -> list[list[FusedHit]]:
        with self._using() as generation:
            return self._search_fused(generation, queries, k, depth, explain, timings, _allowed(generation, filter))

    def _search_fused(
        self,
        generation: Generation,
        queries: Sequence[str],
        k: int,
        depth: int,
        explain: bool,
        timings: dict[str, float] | None,
        allowed: np.ndarray | None = None,
    ) -> list[list[FusedHit]]:
        if len(generation.retrievers) == 1:
            lists = self._retrieve(generation.retrievers, queries, max(depth, k), timings, allowed)
            ((name, rankings),) = lists.items()
            started = time.perf_counter()
            hits = fused.single_hits(name, rankings, k)
            if timings is not None:
                timings["fusion"] = 1000 * (time.perf_counter() - started)
            return hits
        rows = self._fused_rows(generation, queries, k, depth, timings, allowed)
        started = time.perf_counter()
        hits = fused.hits(generation.ordinals, rows, explain)
        if timings is not None:
            timings["fusion"] += 1000 * (time.perf_counter() - started)
        return hits

    def _fused_rows(
        self,
        generation: Generation,
        queries: Sequence[str],
        k: int,
        depth: int,
        timings: dict[str, float] | None,
        allowed: np.ndarray | None,
        exact_timing: bool = False,
    ) -> list[FusedRows]:
        """Retrieve by ordinal, then fuse: no doc id is handled until hits are returned. `timings`
        gets "fusion": the time after retrieval (and with `exact_timing`, "exact": the missing documents' scores)."""
        retrievers = generation.retrievers
        exact = fused.wants_exact(self.fusion, len(retrievers))
        asked = _asked(queries, allowed)
        search = functools.partial(fused.search, generation.ordinals, exact)
        found = self._run_retrievers(retrievers, [queries[position] for position in asked], max(depth, k), timings, allowed, search) if asked else {}
        started = time.perf_counter()
        lists = {name: [fused.no_hits()] * len(queries) for name in retrievers}
        for name, (rankings, _) in found.items():
            for position, ranking in zip(asked, rankings):
                lists[name][position] = ranking
        tables = fused.tables(lists, len(queries), generation.ordinals)
        exact_scores = None
        if exact:
            exact_started = time.perf_counter()
            scorers = {name: found[name][1] for name in retrievers} if asked else {name: _nothing_to_score for name in retrievers}
            exact_scores = fused.exact_scores(tables, scorers, asked)
            if timings is not None and exact_timing:  # benchmarks ask; searches report retrievers and fusion only
                timings["exact"] = 1000 * (time.perf_counter() - exact_started)
        rows = fused.fuse(self.fusion, generation.ordinals, tables, k, exact_scores)
        if timings is not None:
            timings["fusion"] = 1000 * (time.perf_counter() - started)
        return rows

    def run(
        self, queries: Mapping[str, str], depth: int = EVAL_DEPTH, filter: FilterSpec | None = None, timings: dict[str, float] | None = None
    ) -> dict[str, Ranking]:
        """Ranked (doc id, score) lists by query id: the raw material for evaluation and run files.
        `timings` receives milliseconds per retriever and, fused, for "fusion" (all that follows
        retrieval, of which "exact" is the missing documents' scores)."""
        query_ids = list(queries)
        texts = [queries[query_id] for query_id in query_ids]
        with self._using() as generation:
            allowed = _allowed(generation, filter)
            if len(generation.retrievers) == 1:
                (rankings,) = self._retrieve(generation.retrievers, texts, depth, timings, allowed).values()
            else:
                rows = self._fused_rows(generation, texts, depth, depth, timings, allowed, exact_timing=True)
                started = time.perf_counter()
                rankings = fused.pairs(generation.ordinals, rows)
                if timings is not None:
                    timings["fusion"] += 1000 * (time.perf_counter() - started)
        return dict(zip(query_ids, rankings))

    def batch_search(
        self,
        queries: Mapping[str, str] | Sequence[str],
        k: int = 10,
        depth: int = SEARCH_DEPTH,
        timings: dict[str, float] | None = None,
        offset: int = 0,
        filter: FilterSpec | None = None,
        partial: ShardAnswers | None = None,
    ) -> dict[str, list[Hit]]:
        """Hits with titles and per-retriever explanations for many queries; a plain list of texts
        gets ids "0", "1", ... `depth` is each retriever's candidate depth before fusion; `timings`
        receives milliseconds per retriever and for "fusion". `offset` skips that many hits (page 2
        of 10 is offset=10, k=10): fusion always runs over the same `depth` candidates, so pages
        agree with one longer list, and a page past those candidates is an error, never short.
        `filter` (engine/filters.py) keeps matching documents only, in every retriever before
        fusion; one that matches nothing gives no hits. `partial` (a sharded index): shards that
        fail are left out instead of failing the search, and recorded there."""
        if k <= 0:
            raise BraidError(f"k must be a positive number of hits, got {k}")
        check_page(offset, k, depth)
        named = dict(queries) if isinstance(queries, Mapping) else {str(i): text for i, text in enumerate(queries)}
        for query_id, text in named.items():
            if not text.strip():
                raise BraidError(
                    f"query {query_id!r} is empty: give at least one word to search for"
                    if len(named) > 1
                    else "the query is empty: give at least one word to search for"
                )
        texts = list(named.values())
        with self._using() as generation, accepting_partial(partial):
            allowed = _allowed(generation, filter)
            pages = [hits[offset:] for hits in self._search_fused(generation, texts, offset + k, depth, True, timings, allowed)]
            titles = generation.docstore.titles(hit.doc_id for hits in pages for hit in hits)
        return {
            query_id: [Hit(hit.doc_id, hit.score, rank, titles.get(hit.doc_id, ""), hit.sources) for rank, hit in enumerate(hits, start=offset + 1)]
            for query_id, hits in zip(named, pages)
        }

    def search(
        self,
        query: str,
        k: int = 10,
        depth: int = SEARCH_DEPTH,
        timings: dict[str, float] | None = None,
        offset: int = 0,
        filter: FilterSpec | None = None,
        partial: ShardAnswers | None = None,
    ) -> list[Hit]:
        return self.batch_search({"q": query}, k, depth, timings, offset, filter, partial)["q"]

    def forget_queries(self) -> None:
        """Drop every retriever's cached query vectors, so the next search encodes from scratch."""
        for retriever in self.retrievers.values():
            retriever.forget_queries()

    def exact_scores(self, queries: Sequence[str], per_retriever: Mapping[str, list[Ranking]]) -> dict[str, list[dict[str, float]]]:
        """For each retriever, its real score for every fused candidate it did not return."""
        with self._using() as generation:
            tables = self._tables_of(generation, per_retriever, len(queries))
            scores = self._exact(generation, queries, tables, list(per_retriever))
            ids = generation.ordinals.ids
            return {
                name: [dict(zip(ids[table.absent(column)].tolist(), values.tolist())) for table, values in zip(tables, scores[name])]
                for column, name in enumerate(per_retriever)
            }

    def _tables_of(self, generation: Generation, per_retriever: Mapping[str, list[Ranking]], queries: int) -> list[CandidateTable]:
        """Candidate tables of lists given by doc id."""
        position = generation.ordinals.position
        return fused.tables({name: as_ordinals(rankings, position) for name, rankings in per_retriever.items()}, queries, generation.ordinals)

    def _exact(self, generation: Generation, queries: Sequence[str], tables: Sequence[CandidateTable], names: Sequence[str]) -> dict[str, list[np.ndarray]]:
        scorers = {name: fused.scorer(generation.ordinals, generation.retrievers[name], queries) for name in names}
        return fused.exact_scores(tables, scorers, range(len(queries)))

    def _threads(self) -> ThreadPoolExecutor:
        if self._parent is not None:
            return self._parent._threads()
        with self._pool_lock:
            if self._pool is None:
                self._pool = ContextThreadPool(max_workers=len(self.retrievers), thread_name_prefix="braid-retriever")
            return self._pool

    def release_threads(self) -> None:
        """End the threads one query's retrievers ran in (new ones start with the next search).
        For benchmarks taking turns between ways, between turns, never during a search, so that each
        turn starts as a process running only its way would (braid.engine.all_cores)."""
        root = self._parent or self
        with root._pool_lock:
            pool, root._pool = root._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def close(self) -> None:
        if self._parent is not None:
            return  # a view: the engine it came from owns the threads and the generation
        self.release_threads()
        with self._swap_lock:
            self._current.retired = True
            idle = self._current.users == 0
        if idle:
            self._current.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_page(offset: int, k: int, depth: int) -> None:
    """A page must lie inside the fusion window: the first `depth` candidates of each retriever."""
    if offset < 0:
        raise BraidError(f"offset must be 0 or more, got {offset}")
    if offset and offset + k > depth:
        raise BraidError(
            f"offset {offset} + k {k} goes past the {depth} candidates fused per retriever (depth); "
            "raise depth, and keep it the same on every page so that pages agree"
        )


def _read_generation(path: Path) -> tuple[Manifest, Lease, list[Segment]]:
    """The index's current generation, leased before its files are read (so that a writer's
    cleanup keeps them), and whole: every file of its recorded size."""
    while True:
        manifest = Manifest.read(path)
        lease = Lease(path, manifest)
        if Manifest.read(path).generation == manifest.generation:
            break
        lease.release()  # a writer committed between the two reads: lease the newer one
    try:
        check_sizes(path, manifest)
        return manifest, lease, open_segments(path, manifest)
    except BaseException:
        lease.release()
        raise


def _chosen(path: Path, manifest: Manifest, retrievers: Sequence[str] | None, options: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The retrievers to open (default: all the index has), checked against the index and the options given."""
    available = list(manifest.retrievers)
    chosen = list(dict.fromkeys(retrievers)) if retrievers else available
    for name in chosen:
        retriever_kind(name)
        if name not in manifest.retrievers:
            raise BraidError(f"retriever {name!r} is not in the index at {path}; it has: {', '.join(available)}")
    for name in options:
        if name not in chosen:
            raise BraidError(f"search options for {name!r}, which is not searched here ({', '.join(chosen)})")
    return chosen


def _open_generation(
    manifest: Manifest, segments: Sequence[Segment], chosen: Sequence[str], options: Mapping[str, Mapping[str, Any]], lease: Lease
) -> Generation:
    docstore = LiveDocStore(segments)
    try:
        retrievers = {name: open_retriever(manifest.retrievers[name], segments, docstore.ids, options.get(name)) for name in chosen}
    except BaseException:
        docstore.close()
        raise
    return Generation(manifest, retrievers, docstore, lease)


def _sharded_generation(path: Path, chosen: Sequence[str], options: Mapping[str, Mapping[str, Any]], ray: str | None) -> Generation:
    """The current generation of every shard, read and leased here, and the shards opened on them."""
    from braid.engine.sharded import open_shards

    opened: list[tuple[Manifest, Lease, list[Segment]]] = []
    try:
        for folder in ShardLayout.read(path).folders(path):
            opened.append(_read_generation(folder))
        manifest, retrievers, docstore, hold = open_shards(path, opened, chosen, options, ray)
    except BaseException:
        for _, lease, _ in opened:
            lease.release()
        raise
    return Generation(manifest, retrievers, docstore, hold)


def _manifest_stamp(path: Path) -> tuple[int, ...]:
    """Changes whenever a writer publishes a generation (a new file is renamed over the manifest);
    of a sharded index, whenever one of its shards' does."""
    if is_sharded(path):
        return tuple(value for folder in ShardLayout.read(path).folders(path) for value in _manifest_stamp(folder))
    try:
        found = os.stat(path / MANIFEST_NAME)
    except OSError:
        return (0, 0, 0)
    return (found.st_ino, found.st_mtime_ns, found.st_size)


def _allowed(generation: Generation, filter: FilterSpec | None) -> np.ndarray | None:
    return None if filter is None else _applied(generation, filter).allowed


def _applied(generation: Generation, filter: FilterSpec) -> AppliedFilter:
    """The filter's mask, after checking that every retriever searched can apply it (before any search starts)."""
    applied = generation.filters.apply(filter)
    for name, retriever in generation.retrievers.items():
        if getattr(retriever, "backend", None) == "lucene":
            raise FilterError(("filter",), filter_refused(name))
        if "allowed" not in inspect.signature(retriever.search).parameters:
            raise FilterError(("filter",), f"retriever {name!r} cannot filter (its search takes no `allowed` mask)")
    return applied


def _search(retriever: Retriever, queries: Sequence[str], depth: int, allowed: np.ndarray | None) -> list[Ranking]:
    if allowed is None:
        return retriever.search(queries, depth)
    return retriever.search(queries, depth, allowed=allowed)  # _applied checked that it can


def _asked(queries: Sequence[str], allowed: np.ndarray | None) -> list[int]:
    """Positions of the queries retrievers see: a blank query gets empty lists (a dense model would
    return arbitrary documents), and so does every query when the filter matches no document."""
    if allowed is not None and not allowed.any():
        return []
    return [position for position, query in enumerate(queries) if query.strip()]


def _nothing_to_score(wanted: Sequence[np.ndarray]) -> list[np.ndarray]:
    return [np.empty(0) for _ in wanted]


def _flags(test: Callable[[object], bool], retrievers: Mapping[str, Retriever]) -> list[bool]:
    return [test(retriever) for retriever in retrievers.values()]


def _encode_ahead(retriever: Retriever, queries: Sequence[str], threads: int | None) -> None:
    """Encode `queries` for `retriever` with `threads` torch cores (None: every core); its query
    cache keeps the result for the search that follows (executions "encode-ahead", "encode-first")."""
    _with_torch_threads(threads, cast(EncodesAhead, retriever).query_rows, queries)


def _in_batch_threads(
    retrievers: Mapping[str, Retriever],
    timings: dict[str, float] | None,
    search: Callable[[Retriever, Sequence[str], int, np.ndarray | None], Any],
    queries: Sequence[str],
    depth: int,
    allowed: np.ndarray | None,
) -> dict[str, Any]:
    """Each retriever's batch in a thread of its own that ends with the batch: torch's OpenMP team
    for a batch (every core) lives as long as its thread, and a live one slows torch in every other
    thread (see _with_torch_threads), such as the single queries that follow an evaluation run."""
    with ContextThreadPool(max_workers=len(retrievers), thread_name_prefix="braid-batch") as pool:
        futures = {
            name: pool.submit(_timed, timings, name, _with_torch_threads, None, search, retriever, queries, depth, allowed)
            for name, retriever in retrievers.items()
        }
        return {name: future.result() for name, future in futures.items()}


def _timed(timings: dict[str, float] | None, name: str, function: Callable[..., Any], *args: Any) -> Any:
    if timings is None:
        return function(*args)
    started = time.perf_counter()
    try:
        return function(*args)
    finally:
        timings[name] = 1000 * (time.perf_counter() - started)


def _with_torch_threads(threads: int | None, function: Callable[..., Any], *args: Any) -> Any:
    """Run `function` with torch's intra-op threads for this thread set to `threads` (None: every core).

    Set, never set back: each thread the engine runs a retriever in always wants the same number
    (its own retriever threads one, batch threads and the all-cores thread every core). A retriever
    thread set back to every core after its query (or by a model loading there) slowed torch in
    every other thread while it lived: one query's MiniLM encoding in the calling thread 3.6 -> 9.4
    ms (Intel Xeon, 2 cores, 2026-12-04). torch keeps the setting per thread, but a new thread
    starts from the last one set anywhere: hence every core is set explicitly, never assumed."""
    use_torch_threads(threads)
    return function(*args)
