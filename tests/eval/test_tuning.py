"""Unsupervised tuning's tie rule, on hand-made sweep points."""

from __future__ import annotations

from braid.eval.tuning import nearest_default
from braid.fusion.config import FusionConfig
from braid.fusion.tune import SweepPoint

NAMES = ["bm25", "splade", "dense"]


def point(value: float, norm: str = "zscore", missing: str = "exact", **weights: float) -> SweepPoint:
    return SweepPoint(FusionConfig(norm=norm, missing=missing, weights=weights), value)


def test_ties_and_gains_below_the_tolerance_go_to_the_setting_nearest_the_default() -> None:
    far = point(1.0, bm25=0.0, splade=0.6, dense=0.4)  # the first of the best: what labelled tuning would keep
    near = point(0.998, bm25=0.3, splade=0.2, dense=0.5)  # L1 distance to the prior 0.3/0.25/0.45: 0.1
    other_norm = point(1.0, norm="minmax", bm25=0.3, splade=0.3, dense=0.4)
    assert nearest_default([far, other_norm, near], NAMES, tolerance=0.005) is near
    assert nearest_default([far, other_norm, near], NAMES, tolerance=0.001) is far  # 0.998 is a real loss now
    assert nearest_default([other_norm, far], NAMES, tolerance=0.0) is far  # same normalization as the default first
