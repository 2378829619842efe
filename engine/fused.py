"""The fused search's steps on document ordinals: each retriever's lists as (ordinals, scores)
arrays, one candidate table per query, the exact scores of missing documents gathered in bulk per
retriever, then fusion's array arithmetic. Doc ids enter only for the hits returned (`hits`, `pairs`).
Nothing here starts a thread: the engine runs the searches."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import numpy as np

from braid.engine.doc_ordinals import DocOrdinals
from braid.engine.id_rankings import id_rankings
from braid.engine.retriever import Ranking, Retriever, Scorer, answers_ordinals, as_ordinals, keeps_scores
from braid.fusion.config import FusionConfig
from braid.fusion.rows import fuse_tables, needs_exact
from braid.fusion.table import CandidateTable, FusedRows
from braid.fusion.types import Contribution, FusedHit, OrdinalRanking


def search(
    ordinals: DocOrdinals, scored: bool, retriever: Retriever, queries: Sequence[str], depth: int, allowed: np.ndarray | None
) -> tuple[list[OrdinalRanking], Scorer]:
    """A retriever's lists by ordinal (its own when it has them, else its doc ids mapped) and a
    Scorer of other documents for the same queries (with `scored`, one that reuses the search's work)."""
    if scored and keeps_scores(retriever):
        return retriever.search_scored(queries, depth) if allowed is None else retriever.search_scored(queries, depth, allowed=allowed)
    if not answers_ordinals(retriever):
        lists = as_ordinals(retriever.search(queries, depth) if allowed is None else retriever.search(queries, depth, allowed=allowed), ordinals.position)
    else:
        lists = retriever.search_ordinals(queries, depth) if allowed is None else retriever.search_ordinals(queries, depth, allowed=allowed)
    return lists, scorer(ordinals, retriever, queries)


def scorer(ordinals: DocOrdinals, retriever: Retriever, queries: Sequence[str]) -> Scorer:
    """Scores at given ordinals for `queries`: the retriever's own by ordinal, else by doc id (0 when it gives none)."""
    if answers_ordinals(retriever):
        return functools.partial(retriever.score_ordinals, queries)

    def by_doc_id(wanted: Sequence[np.ndarray]) -> list[np.ndarray]:
        docs = [ordinals.ids[positions].tolist() for positions in wanted]
        return [np.array([given.get(doc, 0.0) for doc in ids], dtype=np.float64) for given, ids in zip(retriever.score(queries, docs), docs)]

    return by_doc_id


def tables(lists: Mapping[str, Sequence[OrdinalRanking]], queries: int, ordinals: DocOrdinals) -> list[CandidateTable]:
    """One candidate table per query, each numbered through the ordinals' lookup array (see
    CandidateTable.from_ordinals' slots): linear in the lists, where sorting them cost a single
    query's table 49 us against 21 (SciFact, 3 lists of 100; Intel Xeon, 2026-12-04)."""
    with ordinals.slots() as slots:
        return [CandidateTable.from_ordinals({name: rankings[position] for name, rankings in lists.items()}, slots) for position in range(queries)]


def exact_scores(tables: Sequence[CandidateTable], scorers: Mapping[str, Scorer], asked: Sequence[int]) -> dict[str, list[np.ndarray]]:
    """Per retriever, its scores of each table's candidates it did not return (row order); tables
    not `asked` (blank queries: no candidates) get none. `scorers[name]` scores the asked queries.

    One retriever after the other, in this thread: each is one bulk step (a gather from the sums
    its search kept, or one matrix product that BLAS spreads over every core), so threads only
    contend. Measured on SciFact's test batch at depth 1000 (Intel Xeon, 2 cores): 0.14 ms per
    query here, 0.15-0.27 ms with a thread per retriever."""
    result: dict[str, list[np.ndarray]] = {name: [np.empty(0) for _ in tables] for name in scorers}
    for column, (name, score) in enumerate(scorers.items()):
        for position, values in zip(asked, score([tables[position].absent(column) for position in asked])):
            result[name][position] = values
    return result


def fuse(
    config: FusionConfig, ordinals: DocOrdinals, tables: Sequence[CandidateTable], k: int, exact: Mapping[str, Sequence[np.ndarray]] | None
) -> list[FusedRows]:
    if not tables:
        return []
    names = tables[0].names
    tie_rank = ordinals.tie_rank
    per_table = [{name: exact[name][position] for name in names} for position in range(len(tables))] if exact else [None] * len(tables)
    return fuse_tables(config, config.weights_for(names), tables, k, per_table, [tie_rank[table.ordinals] for table in tables])


def wants_exact(config: FusionConfig, retrievers: int) -> bool:
    return retrievers > 1 and needs_exact(config)


def hits(ordinals: DocOrdinals, fused: Sequence[FusedRows], explain: bool) -> list[list[FusedHit]]:
    """FusedHits of each query's best rows: doc ids are looked up here, for those rows only."""
    ids = ordinals.ids
    return [rows.hits(ids[rows.ranked()[0]].tolist(), explain) for rows in fused]


def pairs(ordinals: DocOrdinals, fused: Sequence[FusedRows]) -> list[Ranking]:
    """(doc id, fused score) lists: what runs and metrics need. A query at a time: one lookup for
    the whole batch, sliced per query afterwards, took 0.143 ms a query at depth 1000 against 0.113
    (two list slices a query on top of the zip; Intel Xeon, 2026-12-05)."""
    return id_rankings(ordinals.ids, (rows.ranked() for rows in fused))


def single_hits(name: str, rankings: Sequence[Ranking], k: int) -> list[list[FusedHit]]:
    """One retriever searched alone: its own lists, each hit explained by its raw score."""
    return [[FusedHit(doc, score, {name: Contribution(rank, score, score)}) for rank, (doc, score) in enumerate(ranking[:k], start=1)] for ranking in rankings]


def no_hits() -> OrdinalRanking:
    return np.empty(0, dtype=np.int64), np.empty(0)
