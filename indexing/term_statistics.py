"""Corpus-wide BM25 statistics: what makes one shard score its documents as the whole corpus would.

BM25 weighs a term by how many documents of the corpus hold it and a document's length against the
corpus average. A shard that used its own numbers would score the same document differently in
every split; with these (Elasticsearch's dfs_query_then_fetch computes them per query; braid keeps
them beside the shards) every shard's BM25 scores are bit for bit those of one index.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from braid.fusion.errors import BraidError
from braid.indexing.arrays import map_arrays
from braid.indexing.segments import Segment
from braid.indexing.term_docs import TermDocs


@dataclass(frozen=True)
class TermStatistics:
    doc_count: int  # documents with at least one term (Lucene's docCount)
    total_terms: int  # the sum of all term frequencies (Lucene's sumTotalTermFreq)
    terms: list[str]
    document_frequency: np.ndarray  # documents holding terms[i], for each i
    generations: tuple[int, ...] = ()  # of a sharded index: each shard's generation these count

    @classmethod
    def of(cls, docs: TermDocs) -> TermStatistics:
        """The statistics of one term matrix's documents."""
        terms = [""] * len(docs.vocabulary)
        for term, row in docs.vocabulary.items():
            terms[row] = term
        return cls(docs.doc_count, docs.total_terms, terms, np.diff(docs.frequencies.indptr).astype(np.int64))

    @classmethod
    def of_segments(cls, segments: Sequence[Segment], folder: str, generations: tuple[int, ...] = ()) -> TermStatistics:
        """The statistics of the live documents of an index's segments (`folder`: the BM25 sub-folder)."""
        docs = TermDocs.combine([(TermDocs.load(segment.folder / folder), segment.live) for segment in segments])
        return replace(cls.of(docs), generations=generations)

    @classmethod
    def summed(cls, parts: Sequence[TermStatistics], generations: tuple[int, ...]) -> TermStatistics:
        """The statistics of disjoint document sets together (a sharded index's shards)."""
        row_of: dict[str, int] = {}
        for part in parts:
            for term in part.terms:
                row_of.setdefault(term, len(row_of))
        frequency = np.zeros(len(row_of), dtype=np.int64)
        for part in parts:
            rows = np.fromiter((row_of[term] for term in part.terms), dtype=np.int64, count=len(part.terms))
            np.add.at(frequency, rows, part.document_frequency)
        return cls(sum(part.doc_count for part in parts), sum(part.total_terms for part in parts), list(row_of), frequency, generations)

    def aligned(self, vocabulary: dict[str, int], where: str) -> np.ndarray:
        """Document frequencies in the row order of a shard's `vocabulary` (term -> row)."""
        row_of = {term: row for row, term in enumerate(self.terms)}
        aligned = np.zeros(len(vocabulary), dtype=np.int64)
        for term, row in vocabulary.items():
            found = row_of.get(term)
            if found is None:
                raise BraidError(f"{where}: term {term!r} is missing from the corpus statistics; re-shard the index")
            aligned[row] = self.document_frequency[found]
        return aligned

    def save(self, path: Path) -> None:
        """`path`.npz (counts) and `path`.json (terms)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(
            path.with_suffix(".npz"),
            doc_count=np.int64(self.doc_count),
            total_terms=np.int64(self.total_terms),
            df=self.document_frequency,
            generations=np.asarray(self.generations, dtype=np.int64),
        )
        path.with_suffix(".json").write_text(json.dumps(self.terms), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TermStatistics:
        try:
            arrays = map_arrays(path.with_suffix(".npz"))
            terms = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError) as error:
            raise BraidError(f"{path}: cannot read corpus statistics ({error})") from None
        generations = tuple(int(value) for value in arrays["generations"]) if "generations" in arrays else ()
        return cls(int(arrays["doc_count"]), int(arrays["total_terms"]), terms, np.array(arrays["df"], dtype=np.int64), generations)
