"""Property: after any sequence of adds, updates, deletes and compactions, searching the written
index gives exactly what a fresh build of the surviving documents gives."""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from braid.engine.writer import IndexWriter, MergePolicy
from braid.fusion.config import FusionConfig
from braid.indexing.readers import Document, read_corpus
from tests.engine.test_writer import build, fused, lists

POOL = 90  # SciFact documents the writes draw from
BASE = 40  # of which the index starts with the first
NO_MERGES = MergePolicy(max_segments=100, max_deleted_fraction=1.0)

steps = st.lists(
    st.tuples(st.sampled_from(["add", "update", "delete", "compact"]), st.lists(st.integers(0, POOL - 1), min_size=1, max_size=10)),
    min_size=1,
    max_size=3,
)
_fresh_names = itertools.count()


@pytest.fixture(scope="module")
def pool(scifact_dir: Path) -> list[Document]:
    corpus = read_corpus(scifact_dir / "corpus.jsonl")
    return [next(corpus) for _ in range(POOL)]


@pytest.fixture(scope="module")
def queries(scifact_dir: Path) -> list[str]:
    with (scifact_dir / "queries.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle][:25]


def apply_and_compare(pool: Sequence[Document], queries: Sequence[str], plan: Sequence[tuple[str, list[int]]], retrievers: Sequence[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="braid-writes-") as scratch:
        folder = Path(scratch)
        index = build(folder, "live", pool[:BASE], retrievers)
        live = {document.doc_id: document for document in pool[:BASE]}
        for number, (action, picks) in enumerate(plan):
            chosen = [pool[pick] for pick in dict.fromkeys(picks)]
            with IndexWriter(index, NO_MERGES) as writer:
                if action == "add":
                    fresh = [document for document in chosen if document.doc_id not in live]
                    writer.add(fresh)
                    live.update({document.doc_id: document for document in fresh})
                elif action == "update":
                    changed = [Document(doc.doc_id, doc.title, f"{doc.text[:150]} (revised {number})") for doc in chosen if doc.doc_id in live]
                    writer.add(changed)
                    live.update({document.doc_id: document for document in changed})
                elif action == "delete":
                    doomed = [doc.doc_id for doc in chosen if doc.doc_id in live][: len(live) - 1]  # an index keeps one document
                    writer.delete(doomed)
                    for doc_id in doomed:
                        live.pop(doc_id)
                else:
                    writer.compact()
            reference = build(folder, f"fresh-{next(_fresh_names)}", list(live.values()), retrievers)
            for retriever in retrievers:
                if retriever != "dense":
                    assert lists(index, retriever, queries) == lists(reference, retriever, queries), (retriever, plan[: number + 1])
            if "dense" in retrievers:
                exact = lists(index, "dense", queries, exact=True)
                assert exact == lists(reference, "dense", queries, exact=True), plan[: number + 1]
                approximate = lists(index, "dense", queries)
                found = sum(len({doc for doc, _ in hits[:10]} & {doc for doc, _ in truth[:10]}) for hits, truth in zip(approximate, exact))
                assert found >= 0.99 * sum(min(10, len(truth)) for truth in exact)
                assert all(doc in live for hits in approximate for doc, _ in hits)
            if len(retrievers) > 1:
                for fusion in (FusionConfig(method="cc", norm="zscore", missing="exact"), FusionConfig(method="rrf")):
                    assert fused(index, queries, fusion) == fused(reference, queries, fusion), (fusion, plan[: number + 1])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=steps)
def test_random_writes_equal_a_fresh_build_bm25(pool: list[Document], queries: list[str], plan: list[tuple[str, list[int]]]) -> None:
    apply_and_compare(pool, queries, plan, ["bm25"])


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(plan=steps)
def test_random_writes_equal_a_fresh_build_every_retriever(
    pool: list[Document], queries: list[str], embedding_cache_dir: Path, plan: list[tuple[str, list[int]]]
) -> None:
    apply_and_compare(pool, queries, plan, ["bm25", "splade", "dense"])
