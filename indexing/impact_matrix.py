"""The impact index as a term x document matrix, stored beside the Lucene impact index.

Both hold the same integer impacts, so scoring a query is one sparse product (no hit crosses the
Python/Java bridge) with the scores Lucene would give: sum of query impact x document impact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from braid.fusion.errors import BraidError
from braid.indexing.arrays import map_arrays
from braid.indexing.layout import IMPACTS_FILE, VOCABULARY_FILE


@dataclass(frozen=True)
class ImpactMatrix:
    impacts: sp.csr_matrix  # vocabulary x docs, integer values stored as float32
    vocabulary: list[str]  # the model's tokens by id: row i is token vocabulary[i]

    def save(self, folder: Path) -> dict[str, int]:
        matrix = self.impacts.tocsr()
        matrix.sort_indices()
        np.savez(folder / IMPACTS_FILE, indptr=matrix.indptr, indices=matrix.indices, data=matrix.data, shape=np.asarray(matrix.shape))
        (folder / VOCABULARY_FILE).write_text(json.dumps(self.vocabulary), encoding="utf-8")
        used_terms = int(np.count_nonzero(np.diff(matrix.indptr)))
        return {"postings": int(matrix.nnz), "terms": used_terms, "total_impact": int(matrix.data.sum(dtype=np.float64))}

    @classmethod
    def load(cls, folder: Path) -> ImpactMatrix:
        arrays = map_arrays(folder / IMPACTS_FILE)  # mapped: shared between processes serving the index
        shape = (int(arrays["shape"][0]), int(arrays["shape"][1]))
        matrix = sp.csr_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape, copy=False)
        return cls(matrix, json.loads((folder / VOCABULARY_FILE).read_text(encoding="utf-8")))

    @classmethod
    def combine(cls, parts: Sequence[tuple[ImpactMatrix, np.ndarray | None]]) -> ImpactMatrix:
        """The live documents of several segments side by side (impacts need no corpus statistics)."""
        vocabulary = parts[0][0].vocabulary
        if any(matrix.vocabulary != vocabulary for matrix, _ in parts):
            raise BraidError("the index's segments were encoded with different SPLADE vocabularies; rebuild it")
        blocks = [matrix.impacts if live is None else matrix.impacts[:, np.flatnonzero(live)] for matrix, live in parts]
        return cls(sp.hstack(blocks, format="csr"), vocabulary)
