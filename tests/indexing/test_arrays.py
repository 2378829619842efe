"""Memory-mapped .npz members equal what numpy reads, and index matrices open mapped."""

from __future__ import annotations

import mmap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from braid.indexing.arrays import map_arrays
from braid.indexing.term_docs import TermDocs, TermDocWriter

ARRAYS = {
    "ints": np.arange(17, dtype=np.int32),
    "scalar": np.int64(7),
    "empty": np.zeros(0, dtype=np.float32),
    "grid": np.arange(12, dtype=np.float64).reshape(3, 4),
    "big_endian": np.arange(5, dtype=">i4"),
}


@pytest.mark.parametrize("compressed", [False, True])
def test_mapped_members_equal_numpys_reading(tmp_path: Path, compressed: bool) -> None:
    path = tmp_path / "arrays.npz"
    (np.savez_compressed if compressed else np.savez)(path, **ARRAYS)
    mapped = map_arrays(path)
    with np.load(path) as expected:
        assert set(mapped) == set(expected.files)
        for name in expected.files:
            assert mapped[name].dtype == expected[name].dtype and mapped[name].shape == expected[name].shape, name
            assert np.array_equal(mapped[name], expected[name]), name
    assert mapped_memory(mapped["ints"]) is not compressed


def mapped_memory(array: Any) -> bool:
    """Whether the array's memory is a file mapping (scipy may hold a plain view of the memmap)."""
    while array is not None:
        if isinstance(array, mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def test_a_term_matrix_opens_mapped_and_scores_alike(tmp_path: Path) -> None:
    writer = TermDocWriter()
    for tokens in (["a", "b", "a"], ["b", "c"], [], ["c", "c", "a"]):
        writer.add(tokens)
    writer.save(tmp_path)
    matrix = TermDocs.load(tmp_path)
    assert mapped_memory(matrix.frequencies.indices) and mapped_memory(matrix.frequencies.data)
    assert matrix.frequencies.toarray().tolist() == [[2, 0, 0, 1], [1, 1, 0, 0], [0, 1, 0, 2]]
    assert (matrix.doc_count, matrix.total_terms, matrix.doc_lengths.tolist()) == (3, 8, [3, 2, 0, 3])
