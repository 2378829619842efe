"""Corpus-wide BM25 statistics: what makes one shard score its documents as the whole corpus would.

BM25 weighs a term by how many documents of the corpus hold it and a document's length against the
corpus average. A shard that used its own numbers would score the same document differently in
every split; with these (Elasticsearch's dfs_query_then_fetch computes them per query; braid keeps
them beside the shards) every shard's BM25 scores are bit for bit those of one index.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from braid.fusion.errors import BraidError
from braid.indexing.arrays import map_arrays


@dataclass(frozen=True)
class TermStatistics:
    doc_count: int  # documents with at least one term (Lucene's docCount)
    total_terms: int  # the sum of all term frequencies (Lucene's sumTotalTermFreq)
    terms: list[str]
    document_frequency: np.ndarray  # documents holding terms[i], for each i

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
        np.savez(path.with_suffix(".npz"), doc_count=np.int64(self.doc_count), total_terms=np.int64(self.total_terms), df=self.document_frequency)
        path.with_suffix(".json").write_text(json.dumps(self.terms), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> TermStatistics:
        try:
            arrays = map_arrays(path.with_suffix(".npz"))
            terms = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        except (OSError, ValueError, KeyError) as error:
            raise BraidError(f"{path}: cannot read corpus statistics ({error})") from None
        return cls(int(arrays["doc_count"]), int(arrays["total_terms"]), terms, np.asarray(arrays["df"]))
