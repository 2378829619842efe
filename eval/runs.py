"""Ranked results as plain data, and the TREC run format that trec_eval and every IR tool reads."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from braid.fusion.errors import DataError
from braid.fusion.types import Ranking
from braid.indexing.readers import numbered_lines

# Ranked lists by query id.
Run = dict[str, Ranking]


def write_trec_run(run: Mapping[str, Ranking], path: str | Path, tag: str = "braid") -> None:
    """Write `qid Q0 docid rank score tag` lines, ranks from 1, in each list's own order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for query_id, ranking in run.items():
            for rank, (doc_id, score) in enumerate(ranking, start=1):
                handle.write(f"{query_id} Q0 {doc_id} {rank} {score:.6f} {tag}\n")


def read_trec_run(path: str | Path) -> Run:
    """Read a TREC run; each query's list comes back sorted by its rank column."""
    path = Path(path)
    ranked: dict[str, list[tuple[int, str, float]]] = {}
    seen: set[tuple[str, str]] = set()
    for number, line in numbered_lines(path):
        fields = line.split()
        if len(fields) != 6:
            raise DataError(path, number, f"expected 'qid Q0 docid rank score tag', got {len(fields)} fields")
        query_id, _, doc_id, rank, score, _ = fields
        if (query_id, doc_id) in seen:
            raise DataError(path, number, f"doc {doc_id!r} listed twice for query {query_id!r}")
        seen.add((query_id, doc_id))
        try:
            ranked.setdefault(query_id, []).append((int(rank), doc_id, float(score)))
        except ValueError:
            raise DataError(path, number, "rank must be an integer and score a number") from None
    return {qid: [(doc, score) for _, doc, score in sorted(rows)] for qid, rows in ranked.items()}
