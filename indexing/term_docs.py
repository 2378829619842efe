"""A term x document frequency matrix, written beside the Lucene index from the same analyzed tokens.

It lets BM25 be scored in bulk with numpy (no per-hit Python/Java bridge crossing) while the
numbers stay Lucene's: same tokens, same field statistics, same formula (engine/lucene_bm25.py).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import scipy.sparse as sp

from braid.indexing.arrays import map_arrays
from braid.indexing.layout import TERM_DOCS_FILE, VOCABULARY_FILE


class TermDocWriter:
    """Collects (term, doc, frequency) postings while the corpus streams past, in bounded memory.

    Token ids are kept in a compact array until `flush_postings` of them pile up; then they are
    counted into postings, sorted by term and written to a run file in `spill` (a folder inside the
    staging index; a run holds at most that many postings). `save`
    merges the runs term block by term block straight into term_docs.npz, so no step holds more
    than one block of the matrix beyond the vocabulary and one int32 length per document.
    """

    def __init__(self, spill: Path | None = None, flush_postings: int = 4_000_000) -> None:
        self._vocabulary: dict[str, int] = {}
        self._tokens = array("i")  # term ids of the buffered documents' tokens, document after document
        self._buffered_from = 0  # ordinal of the first buffered document
        self._lengths = array("i")
        self._spill = spill
        self._flush_postings = flush_postings
        self._runs: list[Path] = []

    def add(self, tokens: list[str]) -> None:
        vocabulary = self._vocabulary
        self._tokens.extend([vocabulary.setdefault(term, len(vocabulary)) for term in tokens])
        self._lengths.append(len(tokens))
        if self._spill is not None and len(self._tokens) >= self._flush_postings:
            self._write_run()

    def _postings(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The buffered tokens as (term, doc, frequency) postings sorted by term, then doc (numpy,
        not a Python loop per token: counting was a quarter of a BM25 build)."""
        terms = np.frombuffer(self._tokens, dtype=np.int32)
        lengths = np.frombuffer(self._lengths, dtype=np.int32)[self._buffered_from :]
        docs = np.repeat(np.arange(self._buffered_from, self._buffered_from + len(lengths), dtype=np.int32), lengths)
        order = np.argsort(terms, kind="stable")  # docs are ascending already: a stable sort keeps them so
        terms, docs = terms[order], docs[order]
        starts = np.flatnonzero(np.concatenate([[True], (terms[1:] != terms[:-1]) | (docs[1:] != docs[:-1])])) if len(terms) else np.zeros(0, dtype=np.int64)
        frequencies = np.diff(np.append(starts, len(terms))).astype(np.int32)
        return terms[starts], docs[starts], frequencies

    def _write_run(self) -> None:
        """The buffered documents' postings, sorted by term (docs ascending within a term), as one run file."""
        assert self._spill is not None
        terms, docs, frequencies = self._postings()
        counts = np.bincount(terms, minlength=len(self._vocabulary))
        run = self._spill / f"run-{len(self._runs):05d}"
        run.mkdir(parents=True)
        np.save(run / "term_starts.npy", np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
        np.save(run / "docs.npy", docs)
        np.save(run / "frequencies.npy", frequencies)
        self._runs.append(run)
        self._tokens = array("i")
        self._buffered_from = len(self._lengths)

    def save(self, folder: Path) -> dict[str, int]:
        lengths = np.frombuffer(self._lengths, dtype=np.int32)
        stats = {"doc_count": int(np.count_nonzero(lengths)), "total_terms": int(lengths.sum(dtype=np.int64))}
        if self._tokens or self._buffered_from < len(self._lengths) or not self._runs:
            if self._spill is None:
                self._spill = folder / "_postings"
            self._write_run()
        runs = [_Run(run, len(self._vocabulary)) for run in self._runs]
        term_counts = sum((run.counts() for run in runs), np.zeros(len(self._vocabulary), dtype=np.int64))
        postings = int(term_counts.sum())
        index_type = np.int32 if postings < 2**31 else np.int64
        indptr = np.concatenate([[0], np.cumsum(term_counts)]).astype(index_type)
        with zipfile.ZipFile(folder / TERM_DOCS_FILE, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            _write_member(archive, "indptr", indptr)
            for name in ("docs", "frequencies"):
                with archive.open(f"{'indices' if name == 'docs' else 'data'}.npy", "w", force_zip64=True) as member:
                    _write_header(member, np.dtype(index_type if name == "docs" else np.int32), postings)
                    for block in _term_blocks(term_counts, self._flush_postings):
                        member.write(_merged(runs, name, block).astype(index_type if name == "docs" else np.int32, copy=False).tobytes())
            _write_member(archive, "doc_lengths", lengths)
            _write_member(archive, "doc_count", np.int64(stats["doc_count"]))
            _write_member(archive, "total_terms", np.int64(stats["total_terms"]))
        for run in self._runs:
            shutil.rmtree(run)
        if self._spill is not None and self._spill.is_dir() and not any(self._spill.iterdir()):
            self._spill.rmdir()
        (folder / VOCABULARY_FILE).write_text(json.dumps(list(self._vocabulary)), encoding="utf-8")
        return {"vocabulary": len(self._vocabulary), "postings": postings, **stats}


class _Run:
    """One run file: postings sorted by term; terms at or beyond its vocabulary size have none."""

    def __init__(self, folder: Path, vocabulary: int) -> None:
        self.folder = folder
        starts = np.load(folder / "term_starts.npy")
        self.starts = np.concatenate([starts, np.full(vocabulary + 1 - len(starts), starts[-1], dtype=np.int64)])

    def counts(self) -> np.ndarray:
        return np.diff(self.starts)

    def slice(self, name: str, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
        """The values (docs or frequencies) of terms [first, last), and each one's term."""
        values = np.load(self.folder / f"{name}.npy", mmap_mode="r")
        begin, end = int(self.starts[first]), int(self.starts[last])
        piece = np.array(values[begin:end])
        del values
        terms = np.repeat(np.arange(first, last, dtype=np.int64), np.diff(self.starts[first : last + 1]))
        return piece, terms


def _term_blocks(term_counts: np.ndarray, postings: int) -> list[tuple[int, int]]:
    """Consecutive term ranges holding about `postings` postings each (one term may hold more)."""
    ends = np.cumsum(term_counts)
    blocks, first = [], 0
    while first < len(term_counts):
        reached = (ends[first - 1] if first else 0) + postings
        last = max(first + 1, int(np.searchsorted(ends, reached, side="right")))
        blocks.append((first, min(last, len(term_counts))))
        first = last
    return blocks


def _merged(runs: list[_Run], name: str, block: tuple[int, int]) -> np.ndarray:
    """Terms [first, last) of every run, term by term, each term's postings in run (= doc) order."""
    pieces = [run.slice(name, *block) for run in runs]
    values = np.concatenate([piece for piece, _ in pieces])
    terms = np.concatenate([terms for _, terms in pieces])
    return values[np.argsort(terms, kind="stable")]


def _write_header(member: IO[bytes], dtype: np.dtype, length: int) -> None:
    np.lib.format.write_array_header_1_0(member, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (length,)})


def _write_member(archive: zipfile.ZipFile, name: str, value: np.ndarray | np.generic) -> None:
    with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
        np.lib.format.write_array(member, np.asarray(value), allow_pickle=False)


@dataclass(frozen=True)
class TermDocs:
    frequencies: sp.csr_matrix  # terms x docs
    doc_lengths: np.ndarray  # analyzed tokens per doc (Lucene's field length)
    vocabulary: dict[str, int]
    doc_count: int  # docs with at least one term (Lucene's docCount)
    total_terms: int  # Lucene's sumTotalTermFreq

    @classmethod
    def load(cls, folder: Path) -> TermDocs:
        arrays = map_arrays(folder / TERM_DOCS_FILE)
        lengths = arrays["doc_lengths"]
        matrix = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=(len(arrays["indptr"]) - 1, len(lengths)), copy=False)
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
