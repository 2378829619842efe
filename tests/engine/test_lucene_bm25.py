"""braid's copy of Lucene's BM25 arithmetic agrees with Lucene itself."""

from __future__ import annotations

import numpy as np

from braid.engine.lucene_bm25 import LENGTH_TABLE, encode_lengths
from braid.indexing.jvm import java_class


def test_length_table_equals_lucene_small_float() -> None:
    small_float = java_class("org.apache.lucene.util.SmallFloat")
    java_table = [small_float.byte4ToInt(code if code < 128 else code - 256) for code in range(256)]
    assert LENGTH_TABLE.tolist() == java_table


def test_length_encoding_equals_lucene_small_float() -> None:
    small_float = java_class("org.apache.lucene.util.SmallFloat")
    lengths = np.array(list(range(0, 3000)) + [4095, 4096, 65_535, 1_000_000, 2**31 - 1])
    java_codes = [small_float.intToByte4(int(length)) & 0xFF for length in lengths]
    assert encode_lengths(lengths).tolist() == java_codes


def _sequential_tie_adjust(ranked: list[float]) -> list[float]:
    """Anserini's rule as a plain loop, for reference: round in double to 1e-4 (stored as float32),
    then subtract 1e-6 per tie within 1e-4 of the previous, nudged, score."""
    f32 = np.float32
    scores = [f32(np.floor(float(value) * 1e4 + 0.5) / 1e4) for value in ranked]
    ties = 0
    for i in range(1, len(scores)):
        if scores[i - 1] - scores[i] > f32(1e-4):
            ties = 0
        else:
            ties += 1
            scores[i] = f32(scores[i] - f32(1e-6) * f32(ties))
    return scores


def test_vectorized_tie_adjustment_equals_the_sequential_rule() -> None:
    from braid.engine.lucene_bm25 import anserini_tie_adjust

    rng = np.random.default_rng(5)
    for _ in range(200):
        # Scores on a coarse grid produce long runs of ties and near-ties across 1e-4 steps.
        lists = [np.sort(rng.integers(30_000, 30_040, size=rng.integers(0, 60)).astype(np.float32) / np.float32(1e4))[::-1] for _ in range(4)]
        starts = np.concatenate([np.eye(1, len(part), dtype=bool)[0] if len(part) else np.zeros(0, dtype=bool) for part in lists])
        together = anserini_tie_adjust(np.concatenate(lists), starts)
        expected = [value for part in lists for value in _sequential_tie_adjust(list(part))]
        assert together.tolist() == [float(value) for value in expected]
