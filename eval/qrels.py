"""Relevance judgements as plain data: {query id: {doc id: relevance}}."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path

from braid.fusion.errors import DataError
from braid.indexing.readers import numbered_lines

Qrels = dict[str, dict[str, int]]

_BEIR_HEADER = ("query-id", "corpus-id", "score")


def read_qrels(path: str | Path, known_queries: Container[str] | None = None) -> Qrels:
    """Read BEIR TSV qrels (header `query-id corpus-id score`) or TREC qrels (`qid iter docid rel`).

    With `known_queries`, a row naming any other query is an error: its query text is missing, so
    evaluating it would silently score zero. A file with no judgement, or a (query, document) pair
    judged twice with different grades, is an error: either would make every metric meaningless.
    """
    path = Path(path)
    qrels: Qrels = {}
    judged_at: dict[tuple[str, str], int] = {}
    for number, line in numbered_lines(path):
        fields = line.split()
        if number == 1 and tuple(fields) == _BEIR_HEADER:
            continue
        if len(fields) == 3:
            query_id, doc_id, relevance = fields
        elif len(fields) == 4:
            query_id, _, doc_id, relevance = fields
        else:
            raise DataError(path, number, f"expected 'query-id corpus-id score' or 'qid 0 docid rel', got {len(fields)} fields")
        try:
            grade = int(relevance)
        except ValueError:
            raise DataError(path, number, f"relevance {relevance!r} is not an integer") from None
        if known_queries is not None and query_id not in known_queries:
            raise DataError(path, number, f"query id {query_id!r} is not in the queries file")
        earlier = judged_at.setdefault((query_id, doc_id), number)
        if earlier != number and qrels[query_id][doc_id] != grade:
            raise DataError(path, number, f"query {query_id!r} judges document {doc_id!r} {grade} here and {qrels[query_id][doc_id]} on line {earlier}")
        qrels.setdefault(query_id, {})[doc_id] = grade
    if not qrels:
        raise DataError(path, None, "no relevance judgements (the file is empty or holds only a header)")
    return qrels
