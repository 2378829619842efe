"""The Python API: Engine.open(dir).search / batch_search / run."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.engine import BraidError, Engine, Hit
from braid.indexing.config import BM25Config


def test_search_returns_typed_hits_with_titles(scifact_slice_index: Path) -> None:
    with Engine.open(scifact_slice_index) as engine:
        hits = engine.search("vitamin D deficiency", k=5)
        assert 0 < len(hits) <= 5
        assert all(isinstance(hit, Hit) for hit in hits)
        assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
        for hit in hits:
            assert hit.title == engine.docstore.get(hit.doc_id).title
        assert hits[0].score >= hits[-1].score


def test_batch_search_accepts_ids_or_plain_texts(scifact_slice_index: Path) -> None:
    with Engine.open(scifact_slice_index) as engine:
        by_id = engine.batch_search({"a": "cancer cells", "b": "blood pressure"}, k=3)
        by_position = engine.batch_search(["cancer cells", "blood pressure"], k=3)
        assert list(by_id) == ["a", "b"] and list(by_position) == ["0", "1"]
        assert by_id["a"] == by_position["0"] and by_id["b"] == by_position["1"]
        assert by_id["a"] == engine.search("cancer cells", k=3)


def test_bm25_parameters_can_be_overridden_at_open(scifact_slice_index: Path) -> None:
    with Engine.open(scifact_slice_index, options={"bm25": {"k1": 2.0, "b": 1.0}}) as tuned, Engine.open(scifact_slice_index) as default:
        assert tuned.retrievers["bm25"].config == BM25Config(k1=2.0, b=1.0)  # type: ignore[attr-defined]
        assert tuned.search("protein", k=5) != default.search("protein", k=5)


def test_requesting_a_retriever_the_index_lacks_names_what_it_has(scifact_slice_index: Path) -> None:
    with pytest.raises(BraidError, match="retriever 'dense' is not in the index .* it has: bm25"):
        Engine.open(scifact_slice_index, retrievers=["dense"])


def test_opening_a_folder_that_is_not_an_index(tmp_path: Path) -> None:
    with pytest.raises(BraidError, match="is not a braid index"):
        Engine.open(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(BraidError, match="damaged manifest"):
        Engine.open(tmp_path)


def test_k_must_be_positive(scifact_slice_index: Path) -> None:
    with Engine.open(scifact_slice_index) as engine, pytest.raises(BraidError, match="k must be a positive"):
        engine.search("x", k=0)


def test_a_view_shares_open_retrievers_and_outlives_nothing(three_way_small_index: Path) -> None:
    from braid.fusion.config import FusionConfig

    with Engine.open(three_way_small_index) as engine:
        view = engine.view(["bm25", "dense"], FusionConfig(method="rrf"))
        assert view.retrievers["bm25"] is engine.retrievers["bm25"] and list(view.retrievers) == ["bm25", "dense"]
        fused = view.search("vitamin D and bone density", k=5)
        assert fused and set().union(*(hit.sources for hit in fused)) <= {"bm25", "dense"}
        view.close()
        assert engine.search("vitamin D and bone density", k=5)  # the engine's retrievers are still open
        with pytest.raises(BraidError, match="'colbert' is not open"):
            engine.view(["colbert"])


@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_blank_query_is_refused_in_search_and_scores_nothing_in_runs(three_way_small_index: Path, blank: str) -> None:
    with Engine.open(three_way_small_index) as engine:
        with pytest.raises(BraidError, match="the query is empty"):
            engine.search(blank)
        run = engine.run({"blank": blank, "real": "vitamin D deficiency"}, depth=10)
        assert run["blank"] == [] and len(run["real"]) == 10
        assert engine.retrieve([blank], 10) == {name: [[]] for name in engine.retrievers}
