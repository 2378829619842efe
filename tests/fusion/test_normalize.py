"""Normalizations on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from braid.fusion.normalize import normalize


def test_minmax_maps_the_list_onto_zero_to_one() -> None:
    assert normalize(np.array([4.0, 3.0, 2.0]), "minmax").tolist() == [1.0, 0.5, 0.0]


def test_zscore_uses_the_population_standard_deviation() -> None:
    values = normalize(np.array([3.0, 2.0, 1.0]), "zscore")
    assert values == pytest.approx([1.224744871, 0.0, -1.224744871])


def test_tmm_uses_the_theoretical_lower_bound() -> None:
    assert normalize(np.array([10.0, 5.0]), "tmm", 0.0).tolist() == [1.0, 0.5]
    assert normalize(np.array([0.5, 0.0]), "tmm", -1.0).tolist() == [1.0, pytest.approx(2 / 3)]


def test_equal_scores_and_empty_lists() -> None:
    assert normalize(np.array([2.0, 2.0]), "minmax").tolist() == [1.0, 1.0]
    assert normalize(np.array([2.0, 2.0]), "zscore").tolist() == [0.0, 0.0]
    assert normalize(np.array([]), "minmax").tolist() == []
    assert normalize(np.array([7.0]), "none").tolist() == [7.0]
    with pytest.raises(ValueError, match="unknown normalization"):
        normalize(np.array([1.0]), "softmax")


def test_bounds_fix_the_ends_they_name() -> None:
    assert normalize(np.array([0.5, 0.25]), "minmax", bounds=(0.0, 1.0)).tolist() == [0.5, 0.25]
    assert normalize(np.array([4.0, 2.0]), "minmax", bounds=(0.0, None)).tolist() == [1.0, 0.5]  # highest from the list
    assert normalize(np.array([4.0, 2.0]), "minmax", bounds=(None, 8.0)).tolist() == [pytest.approx(1 / 3), 0.0]  # lowest from the list
    # Under tmm a given lowest replaces the theoretical minimum; a missing one keeps it.
    assert normalize(np.array([0.5, 0.0]), "tmm", -1.0, bounds=(0.0, None)).tolist() == [1.0, 0.0]
    assert normalize(np.array([0.5, 0.0]), "tmm", -1.0, bounds=(None, 2.0)).tolist() == [0.5, pytest.approx(1 / 3)]
    assert normalize(np.array([1.5, -0.5]), "minmax", bounds=(0.0, 1.0)).tolist() == [1.5, -0.5]  # not clipped: no made-up ties
    assert normalize(np.array([]), "minmax", bounds=(0.0, 1.0)).tolist() == []


def test_bounds_need_a_range_normalization() -> None:
    for method in ("zscore", "none"):
        with pytest.raises(ValueError, match=f"apply to minmax or tmm, not {method}"):
            normalize(np.array([1.0, 2.0]), method, bounds=(0.0, 1.0))
    assert normalize(np.array([3.0, 1.0]), "zscore", bounds=(None, None)).tolist() == [1.0, -1.0]
