"""Searching a sharded index as one (`Engine.open` of a directory `braid shard` wrote).

The coordinator (this process) holds every shard's doc ids and documents, so fused search, filters,
titles and explanations work as on one index over global ordinals: shard i's documents come after
those of shards 0..i-1. Each retriever is a ShardedRetriever: a query is encoded once here, sent to
every shard with the encodings, and the shards' ranked lists are merged on the scores they were
ranked by (score, then doc id, as one index ranks), cut to depth, and only then reported (Anserini's
tie nudges depend on a list's neighbours). Fusion then normalizes the merged lists, never a shard's.
BM25 shards score with corpus-wide statistics, so lists and scores equal one index's exactly.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from braid.engine.doc_ordinals import DocOrdinals
from braid.engine.id_rankings import id_rankings
from braid.engine.registry import open_retriever
from braid.engine.retriever import OrdinalRanking, Ranking, Retriever
from braid.engine.shard_group import LocalShards, ShardGroup, ShardPlan
from braid.engine.sparse_topk import ordinals as ordinals_of
from braid.engine.sparse_topk import top_k
from braid.indexing.leases import Lease
from braid.indexing.manifest import Manifest
from braid.indexing.metadata import merge_schemas
from braid.indexing.segments import LiveDocStore, Segment
from braid.indexing.shards import ShardLayout, statistics_path
from braid.indexing.term_statistics import TermStatistics


class ShardedRetriever:
    """One retriever over every shard: scatter, merge on ranked scores, report once."""

    def __init__(self, name: str, local: Retriever, group: ShardGroup, offsets: np.ndarray, ordinals: DocOrdinals) -> None:
        self.name = name
        self._local = local  # this retriever over shard 0 here: encodes queries and reports scores, searches nothing
        self._group = group
        self._offsets = offsets  # shard i's ordinals are offsets[i] .. offsets[i + 1] - 1
        self._ordinals = ordinals
        self.encodes_queries = bool(getattr(local, "encodes_queries", False))
        self.config = getattr(local, "config", None)  # what reports and per-host choices name it by (retriever_settings)
        for setting in ("backend", "exact", "query_encoder"):
            if hasattr(local, setting):
                setattr(self, setting, getattr(local, setting))

    def _encoded(self, queries: Sequence[str]) -> list[Any] | None:
        rows = getattr(self._local, "query_rows", None)
        return None if rows is None else rows(queries)

    def search_ordinals(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[OrdinalRanking]:
        if depth <= 0 or not queries:
            return [(np.empty(0, dtype=np.int64), np.empty(0)) for _ in queries]
        encoded = self._encoded(queries)
        bounds = list(zip(self._offsets[:-1].tolist(), self._offsets[1:].tolist()))
        found = self._group.call(
            "search", [(self.name, list(queries), depth, None if allowed is None else allowed[start:end], encoded) for start, end in bounds]
        )
        tie_rank = self._ordinals.tie_rank
        answered = [shard for shard, lists in enumerate(found) if lists is not None]  # all, unless partial results are accepted
        merged: list[tuple[np.ndarray, np.ndarray]] = []
        for query in range(len(queries)):
            positions = np.concatenate([np.empty(0, dtype=np.int64), *(found[shard][query][0].astype(np.int64) + bounds[shard][0] for shard in answered)])
            scores = np.concatenate([np.empty(0), *(np.asarray(found[shard][query][1], dtype=np.float64) for shard in answered)])
            best = top_k(positions, scores, depth, tie_rank)
            merged.append((positions[best], scores[best]))
        lengths = np.array([len(positions) for positions, _ in merged], dtype=np.int64)
        starts = np.zeros(int(lengths.sum()), dtype=bool)
        starts[(np.cumsum(lengths) - lengths)[lengths > 0]] = True
        ranked = np.concatenate([scores for _, scores in merged]) if merged else np.empty(0)
        reported = np.asarray(self._local.report(ranked, starts), dtype=np.float64)  # type: ignore[attr-defined]
        return [(positions, scores) for (positions, _), scores in zip(merged, np.split(reported, np.cumsum(lengths)[:-1]))]

    def search(self, queries: Sequence[str], depth: int, allowed: np.ndarray | None = None) -> list[Ranking]:
        return id_rankings(self._ordinals.ids, self.search_ordinals(queries, depth, allowed))

    def score_ordinals(self, queries: Sequence[str], ordinals: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Each given document's score, asked of the shard that holds it."""
        encoded = self._encoded(queries) if any(len(wanted) for wanted in ordinals) else None
        wanted = [np.asarray(positions, dtype=np.int64) for positions in ordinals]
        owners = [np.searchsorted(self._offsets, positions, side="right") - 1 for positions in wanted]
        arguments: list[tuple[Any, ...] | None] = []
        for shard, start in enumerate(self._offsets[:-1].tolist()):
            local = [positions[owner == shard] - start for positions, owner in zip(wanted, owners)]
            arguments.append((self.name, list(queries), local, encoded) if any(len(rows) for rows in local) else None)
        found = self._group.call("score", arguments)
        scores = [np.zeros(len(positions)) for positions in wanted]
        for shard, answer in enumerate(found):
            if answer is not None:
                for query, owner in enumerate(owners):
                    scores[query][owner == shard] = answer[query]
        return scores

    def score(self, queries: Sequence[str], doc_ids: Sequence[Sequence[str]]) -> list[dict[str, float]]:
        position = self._ordinals.position
        values = self.score_ordinals(queries, [ordinals_of(wanted, position) for wanted in doc_ids])
        return [dict(zip(wanted, found.tolist())) for wanted, found in zip(doc_ids, values)]

    def forget_queries(self) -> None:
        self._local.forget_queries()

    def close(self) -> None:
        self._local.close()


class ShardsHold:
    """What a sharded engine's generation releases when it closes: the shards and their leases."""

    def __init__(self, group: ShardGroup, leases: list[Lease], generations: tuple[int, ...]) -> None:
        self.group = group
        self.leases = leases
        self.generations = generations  # each shard's, as searched

    def release(self) -> None:
        self.group.close()
        for lease in self.leases:
            lease.release()


def open_shards(
    path: Path,
    opened: Sequence[tuple[Manifest, Lease, list[Segment]]],
    chosen: Sequence[str],
    options: Mapping[str, Mapping[str, Any]],
    ray: str | None,
) -> tuple[Manifest, dict[str, Retriever], LiveDocStore, ShardsHold]:
    """The pieces of an Engine over the shards at `path` (each shard's generation already read and leased)."""
    layout = ShardLayout.read(path)
    folders = layout.folders(path)
    plan = shard_plan(path, layout, opened, chosen)
    group: ShardGroup
    if ray is None:
        group = LocalShards(path, folders, chosen, options, plan)
    else:
        from braid.engine.ray_shards import RayShards

        group = RayShards(path, folders, chosen, options, plan, ray)
    hold = ShardsHold(group, [lease for _, lease, _ in opened], plan.generations)
    try:
        segments = [segment for _, _, shard_segments in opened for segment in shard_segments]
        docstore = LiveDocStore(segments)
        ordinals = DocOrdinals(docstore.ids)
        sizes = [sum(len(segment.live_ids) for segment in shard_segments) for _, _, shard_segments in opened]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        first, _, first_segments = opened[0]
        first_ids = functools.partial(_live_ids, first_segments)
        retrievers: dict[str, Retriever] = {
            name: ShardedRetriever(name, open_retriever(first.retrievers[name], first_segments, first_ids, options.get(name)), group, offsets, ordinals)
            for name in chosen
        }
        schema: dict[str, str] = {}
        for manifest, _, _ in opened:
            schema = merge_schemas(schema, manifest.metadata)
        manifest = replace(
            first,
            corpus_source=layout.source,
            doc_count=int(offsets[-1]),
            segments=tuple(segment.entry for segment in segments),
            files={},
            metadata=schema,
        )
    except BaseException:
        hold.release()
        raise
    return manifest, retrievers, docstore, hold


def shard_plan(path: Path, layout: ShardLayout, opened: Sequence[tuple[Manifest, Lease, list[Segment]]], chosen: Sequence[str]) -> ShardPlan:
    """The generations read and BM25's corpus-wide statistics over exactly them: those stored beside
    the shards when they count the same generations, else summed from every shard's term matrix
    (after writes to the shards)."""
    generations = tuple(manifest.generation for manifest, _, _ in opened)
    statistics: dict[str, TermStatistics] = {}
    first = opened[0][0]
    for name in chosen:
        entry = first.retrievers[name]
        if entry.kind != "bm25":
            continue
        if name in layout.statistics:
            stored = TermStatistics.load(statistics_path(path, name))
            if stored.generations == generations:
                statistics[name] = stored
                continue
        shards = [TermStatistics.of_segments(segments, entry.path) for _, _, segments in opened]
        statistics[name] = TermStatistics.summed(shards, generations)
    return ShardPlan(generations, statistics)


def _live_ids(segments: Sequence[Segment]) -> list[str]:
    return [doc_id for segment in segments for doc_id in segment.live_ids]
