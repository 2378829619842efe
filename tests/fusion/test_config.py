"""Fusion settings: validation messages, weight parsing, the stored tuned config."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.engine import BraidError
from braid.fusion.config import FusionConfig, parse_weights, read_tuned, write_tuned


def test_parse_weights_and_its_errors() -> None:
    assert parse_weights("bm25=0.2, splade=0.3,dense=0.5") == {"bm25": 0.2, "splade": 0.3, "dense": 0.5}
    with pytest.raises(BraidError, match="'bm25' is not NAME=WEIGHT"):
        parse_weights("bm25")
    with pytest.raises(BraidError, match="'heavy'"):
        parse_weights("bm25=heavy")


def test_bad_settings_name_the_value_and_the_choices() -> None:
    with pytest.raises(BraidError, match="weight bm25=-0.1 is negative"):
        FusionConfig(weights={"bm25": -0.1})
    with pytest.raises(BraidError, match="all zero"):
        FusionConfig(weights={"bm25": 0.0, "dense": 0.0})
    with pytest.raises(BraidError, match="'softmax'.*minmax, zscore, tmm, none"):
        FusionConfig(norm="softmax")
    with pytest.raises(BraidError, match="'max'.*min, zero, exact"):
        FusionConfig(missing="max")
    with pytest.raises(BraidError, match="'colbert'.*bm25, dense"):
        FusionConfig(weights={"colbert": 1.0}).check_retrievers(["bm25", "dense"])


def test_equal_weights_by_default() -> None:
    assert FusionConfig().weights_for(["bm25", "dense"]) == {"bm25": 0.5, "dense": 0.5}
    assert FusionConfig(weights={"bm25": 1.0}).weights_for(["bm25", "dense"]) == {"bm25": 1.0, "dense": 0.0}


def test_tuned_config_round_trips(tmp_path: Path) -> None:
    assert read_tuned(tmp_path) is None
    config = FusionConfig(method="rrf", rrf_k=20, weights={"bm25": 0.3, "dense": 0.7})
    write_tuned(tmp_path, config, {"dataset": "scifact", "split": "train", "ndcg@10": 0.7})
    assert read_tuned(tmp_path) == (config, {"dataset": "scifact", "split": "train", "ndcg@10": 0.7})
    assert [path.name for path in tmp_path.iterdir()] == ["fusion.json"]
