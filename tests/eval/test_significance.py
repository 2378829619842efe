"""p-values checked against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from braid.eval.significance import compare, paired_t_test, randomization_test
from braid.fusion.errors import BraidError


def test_randomization_test_is_exact_on_few_queries() -> None:
    # Five queries, A ahead by 1 on each: of the 2**5 swap patterns only "none" and "all" reach a
    # mean difference of magnitude 1, so p = 2/32.
    assert randomization_test(np.ones(5), np.zeros(5)) == pytest.approx(2 / 32)
    # Differences (2, 1, 1, -1), mean 0.75: 8 of the 16 sign patterns give |mean| >= 0.75.
    assert randomization_test(np.array([3.0, 1, 2, 0]), np.array([1.0, 0, 1, 1])) == pytest.approx(8 / 16)


def test_paired_t_test_matches_the_closed_form_for_one_degree_of_freedom() -> None:
    # Differences (1, 3): mean 2, standard error 1, t = 2 with 1 degree of freedom (a Cauchy law),
    # two-sided p = 1 - (2/pi) atan(2).
    assert paired_t_test(np.array([1.0, 3.0]), np.zeros(2)) == pytest.approx(1 - 2 / math.pi * math.atan(2))


def test_identical_methods_show_no_difference() -> None:
    scores = {"q1": 0.5, "q2": 0.25, "q3": 1.0}
    result = compare(scores, dict(scores))
    assert (result.t_test_p, result.randomization_p, result.mean_difference, result.queries) == (1.0, 1.0, 0.0, 3)


def test_a_clear_difference_on_many_queries_is_significant() -> None:
    generator = np.random.default_rng(7)
    base = generator.uniform(0, 0.8, 200)
    better = {f"q{i}": value + 0.1 + generator.normal(0, 0.02) for i, value in enumerate(base)}
    result = compare(better, {f"q{i}": value for i, value in enumerate(base)})
    assert result.mean_difference == pytest.approx(0.1, abs=0.01)
    assert result.t_test_p < 1e-6 and result.randomization_p < 0.001  # no random swap pattern comes close


def test_the_same_queries_are_required_on_both_sides() -> None:
    with pytest.raises(BraidError, match="same queries"):
        compare({"q1": 1.0, "q2": 0.0}, {"q1": 1.0, "q3": 0.0})
