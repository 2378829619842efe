"""Per-query weights from list signals, on hand-computed lists."""

from __future__ import annotations

import math

import pytest

from braid.fusion.query_weights import agreement, dispersion, query_weights


def test_dispersion_is_the_top_score_in_standard_deviations_above_the_mean() -> None:
    # scores 3,1,1,1: mean 1.5, std sqrt(0.75); (3 - 1.5) / sqrt(0.75) = sqrt(3)
    assert dispersion([("a", 3.0), ("b", 1.0), ("c", 1.0), ("d", 1.0)]) == pytest.approx(math.sqrt(3))
    assert dispersion([("a", 3.0), ("b", 1.0), ("c", 1.0), ("d", 1.0)], depth=2) == pytest.approx(1.0)  # 3,1: mean 2, std 1
    assert dispersion([("a", 2.0), ("b", 2.0)]) == 0.0 and dispersion([("a", 2.0)]) == 0.0 and dispersion([]) == 0.0


def test_agreement_is_the_shared_share_of_top_lists() -> None:
    rankings = {"x": [("a", 1.0), ("b", 0.5)], "y": [("a", 1.0), ("c", 0.5)], "z": [("d", 1.0), ("e", 0.5)]}
    # x shares a with y (1/2) and nothing with z: mean 1/4; likewise y; z shares nothing
    assert agreement(rankings, depth=2) == {"x": 0.25, "y": 0.25, "z": 0.0}


def test_weights_are_proportional_to_the_signal_and_fall_back_to_equal() -> None:
    rankings = {"x": [("a", 1.0), ("b", 0.5)], "y": [("a", 1.0), ("c", 0.5)], "z": [("d", 1.0), ("e", 0.5)]}
    assert query_weights(rankings, "dispersion") == pytest.approx({"x": 1 / 3, "y": 1 / 3, "z": 1 / 3})  # every list: 1 std above its mean
    flat = {"x": [("a", 1.0), ("b", 1.0)], "y": [("c", 1.0)]}
    assert query_weights(flat, "dispersion") == {"x": 0.5, "y": 0.5}
    with pytest.raises(ValueError, match="unknown query signal 'gap'"):
        query_weights(flat, "gap")
