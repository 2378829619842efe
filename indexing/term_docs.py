"""A term x document frequency matrix, written beside the Lucene index from the same analyzed tokens.

It lets BM25 be scored in bulk with numpy (no per-hit Python/Java bridge crossing) while the
numbers stay Lucene's: same tokens, same field statistics, same formula (engine/lucene_bm25.py).
"""

from __future__ import annotations

import json
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from braid.indexing.arrays import load_arrays
from braid.indexing.layout import TERM_DOCS_FILE, VOCABULARY_FILE


class TermDocWriter:
    """Accumulates (term, doc, frequency) triples in compact arrays while the corpus streams past."""

    def __init__(self) -> None:
        self._vocabulary: dict[str, int] = {}
        self._terms = array("i")
        self._docs = array("i")
        self._frequencies = array("i")
        self._lengths = array("i")

    def add(self, tokens: list[str]) -> None:
        ordinal = len(self._lengths)
        for term, frequency in Counter(tokens).items():
            self._terms.append(self._vocabulary.setdefault(term, len(self._vocabulary)))
            self._docs.append(ordinal)
            self._frequencies.append(frequency)
        self._lengths.append(len(tokens))

    def save(self, folder: Path) -> dict[str, int]:
        lengths = np.frombuffer(self._lengths, dtype=np.int32)
        matrix = sp.csr_matrix(
            (np.frombuffer(self._frequencies, dtype=np.int32), (np.frombuffer(self._terms, dtype=np.int32), np.frombuffer(self._docs, dtype=np.int32))),
            shape=(len(self._vocabulary), len(lengths)),
        )
        matrix.sort_indices()
        stats = {"doc_count": int(np.count_nonzero(lengths)), "total_terms": int(lengths.sum())}
        np.savez(
            folder / TERM_DOCS_FILE,
            indptr=matrix.indptr,
            indices=matrix.indices,
            data=matrix.data,
            doc_lengths=lengths,
            doc_count=np.int64(stats["doc_count"]),
            total_terms=np.int64(stats["total_terms"]),
        )
        (folder / VOCABULARY_FILE).write_text(json.dumps(list(self._vocabulary)), encoding="utf-8")
        return {"vocabulary": len(self._vocabulary), "postings": int(matrix.nnz), **stats}


@dataclass(frozen=True)
class TermDocs:
    frequencies: sp.csr_matrix  # terms x docs
    doc_lengths: np.ndarray  # analyzed tokens per doc (Lucene's field length)
    vocabulary: dict[str, int]
    doc_count: int  # docs with at least one term (Lucene's docCount)
    total_terms: int  # Lucene's sumTotalTermFreq

    @classmethod
    def load(cls, folder: Path) -> TermDocs:
        with load_arrays(folder / TERM_DOCS_FILE) as arrays:
            lengths = arrays["doc_lengths"]
            matrix = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(len(arrays["indptr"]) - 1, len(lengths)))
            doc_count, total_terms = int(arrays["doc_count"]), int(arrays["total_terms"])
        terms = json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(matrix, lengths, {term: index for index, term in enumerate(terms)}, doc_count, total_terms)

    @staticmethod
    def exists(folder: Path) -> bool:
        return (folder / TERM_DOCS_FILE).is_file() and (folder / VOCABULARY_FILE).is_file()

    @classmethod
    def combine(cls, parts: Sequence[tuple[TermDocs, np.ndarray | None]]) -> TermDocs:
        """The live documents of several segments as one matrix (segment by segment, each segment's
        order kept), with the statistics of exactly those documents: a fresh build's numbers."""
        vocabulary: dict[str, int] = {}
        rows, columns, values, lengths = [], [], [], []
        offset = 0
        for docs, live in parts:
            row_of = np.fromiter((vocabulary.setdefault(term, len(vocabulary)) for term in docs.vocabulary), dtype=np.int64, count=len(docs.vocabulary))
            matrix = docs.frequencies if live is None else docs.frequencies[:, np.flatnonzero(live)]
            coo = matrix.tocoo()
            rows.append(row_of[coo.row])
            columns.append(coo.col.astype(np.int64) + offset)
            values.append(coo.data)
            lengths.append(docs.doc_lengths if live is None else docs.doc_lengths[live])
            offset += matrix.shape[1]
        matrix = sp.csr_matrix((np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=(len(vocabulary), offset))
        matrix.sort_indices()
        doc_lengths = np.concatenate(lengths)
        return cls(matrix, doc_lengths, vocabulary, int(np.count_nonzero(doc_lengths)), int(doc_lengths.sum(dtype=np.int64)))
