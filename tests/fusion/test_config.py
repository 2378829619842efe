"""Fusion settings: validation messages, weight parsing, the stored tuned config."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from braid.fusion.config import FusionConfig, check_bounds, format_bounds, parse_bounds, parse_weights
from braid.fusion.errors import BraidError
from braid.indexing.tuned_fusion import read_tuned, write_tuned
from tests.support.cli import assert_one_line_error, braid


def test_parse_weights_and_its_errors() -> None:
    assert parse_weights("bm25=0.2, splade=0.3,dense=0.5") == {"bm25": 0.2, "splade": 0.3, "dense": 0.5}
    with pytest.raises(BraidError, match="'bm25' is not NAME=WEIGHT"):
        parse_weights("bm25")
    with pytest.raises(BraidError, match="'heavy'"):
        parse_weights("bm25=heavy")


def test_bad_settings_name_the_value_and_the_choices() -> None:
    with pytest.raises(BraidError, match="weight bm25=-0.1 must be a finite number between 0 and 1e"):
        FusionConfig(weights={"bm25": -0.1})
    with pytest.raises(BraidError, match="all zero"):
        FusionConfig(weights={"bm25": 0.0, "dense": 0.0})
    with pytest.raises(BraidError, match="'softmax'.*minmax, zscore, tmm, none"):
        FusionConfig(norm="softmax")
    with pytest.raises(BraidError, match="'max'.*min, zero, exact"):
        FusionConfig(missing="max")
    with pytest.raises(BraidError, match="'colbert'.*bm25, dense"):
        FusionConfig(weights={"colbert": 1.0}).check_retrievers(["bm25", "dense"])


def test_negative_rrf_k_per_list_is_reported_as_rrf_k_not_weight() -> None:
    with pytest.raises(BraidError, match=r"^rrf k of dense must be a finite number >= 0, got -5$"):
        FusionConfig(method="rrf", rrf_k_per_list={"dense": -5})
    assert FusionConfig(method="rrf", rrf_k_per_list={"dense": 0}).rrf_k_per_list == {"dense": 0}


def test_equal_weights_by_default() -> None:
    assert FusionConfig().weights_for(["bm25", "dense"]) == {"bm25": 0.5, "dense": 0.5}
    assert FusionConfig(weights={"bm25": 1.0}).weights_for(["bm25", "dense"]) == {"bm25": 1.0, "dense": 0.0}


def test_tuned_config_round_trips(tmp_path: Path) -> None:
    assert read_tuned(tmp_path) is None
    config = FusionConfig(method="rrf", rrf_k=20, weights={"bm25": 0.3, "dense": 0.7})
    write_tuned(tmp_path, config, {"dataset": "scifact", "split": "train", "ndcg@10": 0.7})
    assert read_tuned(tmp_path) == (config, {"dataset": "scifact", "split": "train", "ndcg@10": 0.7})
    assert [path.name for path in tmp_path.iterdir()] == ["fusion.json"]


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e308, 1e6 + 1])
def test_weights_that_are_not_finite_or_too_large_are_refused_by_one_rule(value: float) -> None:
    with pytest.raises(BraidError, match=re.escape(f"weight bm25={value} must be a finite number between 0 and 1e+06")):
        FusionConfig(weights={"bm25": value, "dense": 1.0})
    FusionConfig(weights={"bm25": 1e6, "dense": 0.0})  # the cap itself is allowed


def test_the_cli_refuses_an_infinite_weight_in_one_line(scifact_slice_index: Path) -> None:
    assert_one_line_error(braid("search", str(scifact_slice_index), "vitamin D", "--weights", "bm25=inf"), "weight bm25=inf must be a finite number")


def test_parse_bounds_and_its_errors() -> None:
    assert parse_bounds("dense=0:1, bm25=0:,splade=:20") == {"dense": (0.0, 1.0), "bm25": (0.0, None), "splade": (None, 20.0)}
    assert format_bounds(parse_bounds("dense=-1:1,bm25=0:")) == "dense=-1:1,bm25=0:"
    with pytest.raises(BraidError, match="'dense=0' is not NAME=LOW:HIGH"):
        parse_bounds("dense=0")
    with pytest.raises(BraidError, match="'one' in 'dense=one:2' is not a number"):
        parse_bounds("dense=one:2")
    with pytest.raises(BraidError, match=r"bounds of dense: the lowest \(1\) must be below the highest \(0\)"):
        parse_bounds("dense=1:0")
    with pytest.raises(BraidError, match="needs at least one"):
        parse_bounds(" , ")


@pytest.mark.parametrize("value", [[0.0], [0.0, 1.0, 2.0], "01", [float("nan"), 1.0], [0.0, float("inf")], [True, 2.0], [1.0, 1.0]])
def test_bounds_that_are_not_a_range_are_refused_by_one_rule(value: object) -> None:
    with pytest.raises(BraidError, match="bounds of dense"):
        check_bounds("dense", value)  # type: ignore[arg-type]
    with pytest.raises(BraidError, match="bounds of dense"):
        FusionConfig(norm="minmax", bounds={"dense": value})  # type: ignore[dict-item]


def test_bounds_go_with_minmax_or_tmm_and_round_trip(tmp_path: Path) -> None:
    with pytest.raises(BraidError, match="^normalization bounds dense=0:1 apply to normalization minmax or tmm, not zscore$"):
        FusionConfig(bounds={"dense": (0.0, 1.0)})
    assert FusionConfig(method="rrf", bounds={"dense": (0.0, 1.0)}).bounds == {"dense": (0.0, 1.0)}  # RRF reads ranks only
    config = FusionConfig(norm="tmm", bounds={"dense": [0, 1], "bm25": [None, 30]})  # type: ignore[dict-item]
    assert config.bounds == {"dense": (0.0, 1.0), "bm25": (None, 30.0)}
    write_tuned(tmp_path, config, {"dataset": "scifact"})
    assert read_tuned(tmp_path) == (config, {"dataset": "scifact"})
    with pytest.raises(BraidError, match="bounds for unknown retriever 'bm25'; searching: dense, splade"):
        config.check_retrievers(["dense", "splade"])
    assert not config.fits(["dense", "splade"])


def test_applied_settings_say_which_weights_searches_use() -> None:
    three = ["bm25", "splade", "dense"]
    assert FusionConfig().applied(three)["weights"] == {"bm25": 0.3, "splade": 0.25, "dense": 0.45}
    assert FusionConfig().applied(three)["weights_from"] == "label-free prior"
    assert FusionConfig().applied(["bm25", "dense"])["weights_from"] == "equal"
    assert FusionConfig(weights={"bm25": 1.0}).applied(["bm25", "dense"]) | {} == {
        **FusionConfig(weights={"bm25": 1.0}).to_dict(),
        "weights": {"bm25": 1.0, "dense": 0.0},
        "weights_from": "given",
    }
