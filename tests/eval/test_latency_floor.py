"""The latency floor: its arithmetic on hand-made part times, and a run over a 200-document slice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from braid.eval.latency_floor import floors, main, report

ALONE = {"bm25": 1.0, "splade": 4.0, "dense": 5.0}
ALL_CORES = {"splade": 2.0, "dense": 4.5}
SEARCHED = {"bm25": 1.0, "splade": 0.5, "dense": 0.5}


def test_the_slower_encoders_chain_bounds_running_them_at_once() -> None:
    # At once: dense 6 + its search 0.5 (> (3 + 6 + 2) / 2 = 5.5), then the fusion 0.5 = 7.0; one
    # after another: 2 + 4.5 + the smaller encoder search 0.5 + 0.5 = 7.5.
    found = floors(ALONE, {"splade": 3.0, "dense": 6.0}, ALL_CORES, SEARCHED, 0.5, cores=2)
    assert found == {
        "fusion_ms": 0.5,
        "encoders_at_once_ms": 7.0,
        "encoders_one_after_another_ms": 7.5,
        "floor_ms": 7.0,
        "floor_over_slowest": 1.4,
    }


def test_all_the_work_over_the_cores_bounds_it_when_the_encoders_are_alike() -> None:
    # (6 + 6 + 1 + 0.5 + 0.5) / 2 = 7 > 6.5, the chain; plus the fusion 0.5.
    found = floors(ALONE, {"splade": 6.0, "dense": 6.0}, ALL_CORES, SEARCHED, 0.5, cores=2)
    assert found["encoders_at_once_ms"] == 7.5 and found["floor_ms"] == 7.5


def test_on_four_cores_each_of_two_encoders_holds_two() -> None:
    # Encoding times on two cores each: the work is 2 x (3 + 6) + 2 = 20 core-ms, over 4 cores 5 < the
    # chain 6.5; plus the fusion 0.5.
    found = floors(ALONE, {"splade": 3.0, "dense": 6.0}, ALL_CORES, SEARCHED, 0.5, cores=4)
    assert found["encoders_at_once_ms"] == 7.0
    assert (
        floors(ALONE, {"splade": 6.0, "dense": 6.0}, ALL_CORES, {**SEARCHED, "bm25": 5.0}, 0.5, cores=4)["encoders_at_once_ms"] == 8.0
    )  # 30 / 4 + the fusion 0.5


def test_the_fusion_follows_the_slowest_chain_whatever_it_costs() -> None:
    # It follows every search, so it adds to both ways whole: 6.5 + 2 and 7 + 2.
    found = floors(ALONE, {"splade": 3.0, "dense": 6.0}, ALL_CORES, SEARCHED, 2.0)
    assert (found["encoders_at_once_ms"], found["encoders_one_after_another_ms"], found["fusion_ms"]) == (8.5, 9.0, 2.0)


def test_report_says_whether_the_floor_is_within_the_target() -> None:
    parts = {
        "alone_ms": ALONE,
        "hybrid_ms": 8.0,
        "encode_share_ms": {"splade": 3.0, "dense": 6.0},
        "encode_all_cores_ms": ALL_CORES,
        "encode_at_once_ms": {"splade": 3.5, "dense": 7.0},
        "searched_in_fused_ms": SEARCHED,
        "fusion_ms": 0.5,
        "fused_encoded_ms": 2.5,
    }
    strict = report(parts, cores=2, target=1.3)
    assert strict["host_allows_target"] is False and strict["target_ms"] == 6.5 and strict["hybrid_over_slowest"] == 1.6
    assert strict["parts_in_one_process"]["floor_ms"] == 7.5  # dense 7 + 0.5 + fusion 0.5
    assert report(parts, cores=2, target=1.5)["host_allows_target"] is True


@pytest.mark.usefixtures("embedding_cache_dir")
def test_measures_every_part_of_a_three_way_index(three_way_small_index: Path, scifact_small: Path, tmp_path: Path) -> None:
    out = tmp_path / "floor.json"
    result = CliRunner().invoke(main, [str(three_way_small_index), "--dataset", str(scifact_small), "--queries", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    written = json.loads(out.read_text())
    parts = written["parts"]
    assert set(parts["alone_ms"]) == set(parts["searched_in_fused_ms"]) == {"bm25", "splade", "dense"}
    assert set(parts["encode_share_ms"]) == set(parts["encode_all_cores_ms"]) == set(parts["encode_at_once_ms"]) == {"splade", "dense"}
    timed = [*parts["alone_ms"].values(), *parts["encode_share_ms"].values(), *parts["encode_all_cores_ms"].values(), parts["hybrid_ms"], parts["fusion_ms"]]
    assert all(value > 0 for value in timed)
    floor = written["parts_alone"]
    assert floor["floor_ms"] == min(floor["encoders_at_once_ms"], floor["encoders_one_after_another_ms"])
    assert written["queries"] == 4 and isinstance(written["host_allows_target"], bool) and written["machine"]


def test_an_index_without_an_encoder_is_refused(scifact_slice_index: Path, scifact_slice: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, [str(scifact_slice_index), "--dataset", str(scifact_slice), "--queries", "2", "--out", str(tmp_path / "f.json")])
    assert result.exit_code != 0 and "needs a query encoder and another retriever" in result.output
