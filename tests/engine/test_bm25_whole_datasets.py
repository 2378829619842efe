"""On whole datasets, every query, depth 1000: the matrix backend returns Lucene's exact lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.engine.bm25 import BM25Retriever
from braid.engine.build import build_index
from braid.indexing.docstore import DocStore
from braid.indexing.layout import DOCSTORE_NAME
from braid.indexing.readers import read_queries


@pytest.mark.slow
@pytest.mark.parametrize("dataset", ["scifact", "nfcorpus"])
def test_matrix_backend_returns_lucenes_lists_for_every_query(dataset: str, data_root: Path, tmp_path: Path) -> None:
    build_index(data_root / dataset / "corpus.jsonl", tmp_path / "index", ["bm25"], progress=False)
    texts = [query.text for query in read_queries(data_root / dataset / "queries.jsonl").values()]
    store = DocStore(tmp_path / "index" / DOCSTORE_NAME)
    matrix = BM25Retriever(tmp_path / "index" / "bm25", doc_ids=store.ids, backend="matrix")
    lucene = BM25Retriever(tmp_path / "index" / "bm25", doc_ids=store.ids, backend="lucene")
    try:
        expected = lucene.search(texts, depth=1000)
        found = matrix.search(texts, depth=1000)
        mismatched = [texts[i] for i in range(len(texts)) if found[i] != expected[i]]
        assert mismatched == []
        assert sum(len(ranking) for ranking in expected) > 300 * len(texts)  # deep lists, not a vacuous match
    finally:
        matrix.close()
        lucene.close()
        store.close()
