"""Batched sparse scoring: however many queries share one product, every query gets the same list."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from braid.engine import sparse_topk
from braid.engine.sparse_topk import rows_per_chunk, search_matrix


def test_chunks_shrink_as_documents_grow() -> None:
    assert rows_per_chunk(5_183) == 1024
    assert rows_per_chunk(1_000_000) == 33
    assert rows_per_chunk(10**9) == 1


def test_chunking_does_not_change_any_list(monkeypatch: pytest.MonkeyPatch) -> None:
    generator = np.random.default_rng(7)
    terms, docs, queries = 40, 300, 50
    weights = sp.random(terms, docs, density=0.2, random_state=1, format="csr", dtype=np.float64)
    query_weights = sp.random(queries, terms, density=0.1, random_state=2, format="csr", dtype=np.float64)
    doc_ids = [f"d{number}" for number in range(docs)]
    tie_rank = generator.permutation(docs)
    allowed = generator.random(docs) < 0.5

    def run() -> list:
        return search_matrix(query_weights, weights, 10, doc_ids, tie_rank, np.asarray, lambda ranked, starts: ranked, allowed=allowed)

    whole = run()
    monkeypatch.setattr(sparse_topk, "_CELLS_PER_CHUNK", 2 * docs)  # two queries per product
    assert rows_per_chunk(docs) == 2
    assert run() == whole
    assert sum(len(ranking) for ranking in whole) > 0


@pytest.mark.parametrize("depth", [1, 10, 100, 1000])
def test_ranking_only_the_contenders_keeps_every_float32_tie(depth: int) -> None:
    # 20,000 sums crowded around a few values, each spread over a few float32 rounding steps: many
    # distinct doubles round to the score at the cut, and the doc-id tie-break must still see them all.
    generator = np.random.default_rng(depth)
    centres = generator.choice(np.array([3.25, 7.5, 11.0]), size=20_000)
    sums = centres * (1 + generator.integers(-4, 5, size=20_000) * 2.0**-25)
    columns = generator.permutation(40_000)[:20_000]
    tie_rank = generator.permutation(40_000)

    def ranked(positions: np.ndarray) -> list[tuple[int, float]]:
        scores = sums[positions].astype(np.float32)
        best = sparse_topk.top_k(columns[positions], scores, depth, tie_rank)
        return list(zip(columns[positions][best].tolist(), scores[best].tolist()))

    near_top = sparse_topk.contenders(sums, depth)
    assert near_top is not None and len(near_top) < len(sums)
    assert ranked(near_top) == ranked(np.arange(len(sums)))


def test_kept_sums_give_what_multiplying_again_gives() -> None:
    # Rows matching most documents (kept dense), few (kept as columns and sums), and past the
    # budget (multiplied again): every way gathers the same sums, 0 where a row matched nothing.
    generator = np.random.default_rng(7)
    docs = 300
    weights = sp.random(40, docs, density=0.05, format="csr", random_state=generator, dtype=np.float32)
    queries = sp.vstack(
        [sp.random(1, 40, density=density, format="csr", random_state=generator, dtype=np.float32) for density in (0.9, 0.05, 0.8, 0.0, 0.1)]
    ).tocsr()
    sums = (queries @ weights).tocsr()
    kept = sparse_topk.KeptSums(docs, budget=int(np.diff(sums.indptr)[:3].sum()))
    for row in range(sums.shape[0]):
        kept.add(sums.indices[sums.indptr[row] : sums.indptr[row + 1]], sums.data[sums.indptr[row] : sums.indptr[row + 1]])
    assert [type(row).__name__ for row in kept.rows] == ["ndarray", "tuple", "ndarray", "tuple", "NoneType"]
    wanted = [generator.permutation(docs)[:50] for _ in range(sums.shape[0])]
    again = lambda rows: sparse_topk.sums_at(queries[rows], weights, [wanted[row] for row in rows])  # noqa: E731
    expected = sparse_topk.sums_at(queries, weights, wanted)
    assert [found.tolist() for found in kept.at(wanted, again)] == [values.tolist() for values in expected]
    assert any(values.any() for values in expected) and not expected[3].any()
