"""The label-free default: the prior for convex combination of bm25+splade+dense, equal weights elsewhere."""

from __future__ import annotations

import pytest

from braid.fusion.config import FusionConfig
from braid.fusion.prior import label_free_weights


def test_the_prior_applies_to_exactly_the_three_kinds_it_was_learned_on() -> None:
    assert label_free_weights(["dense", "bm25", "splade"]) == {"dense": 0.45, "bm25": 0.3, "splade": 0.25}
    assert label_free_weights(["bm25", "dense"]) == {"bm25": 0.5, "dense": 0.5}
    assert label_free_weights(["bm25", "splade", "dense", "toy"]) == {name: 0.25 for name in ("bm25", "splade", "dense", "toy")}
    assert label_free_weights(["bm25", "splade", "dense"], method="rrf") == pytest.approx({"bm25": 1 / 3, "splade": 1 / 3, "dense": 1 / 3})


def test_an_index_without_fusion_json_fuses_with_the_prior() -> None:
    default = FusionConfig()
    assert (default.method, default.norm, default.missing) == ("cc", "zscore", "exact")
    assert default.weights_for(["bm25", "splade", "dense"]) == {"bm25": 0.3, "splade": 0.25, "dense": 0.45}
    assert FusionConfig(method="rrf").weights_for(["bm25", "splade", "dense"]) == pytest.approx({"bm25": 1 / 3, "splade": 1 / 3, "dense": 1 / 3})
    assert FusionConfig(weights={"bm25": 1.0}).weights_for(["bm25", "splade", "dense"]) == {"bm25": 1.0, "splade": 0.0, "dense": 0.0}


def test_the_prior_changes_a_fused_order_as_hand_computed() -> None:
    # z-scores per list (norm zscore, every doc in every list): bm25 a=+1,b=-1; splade a=+1,b=-1;
    # dense a=-1,b=+1. Equal weights: a=1/3, b=-1/3. Prior: a=0.3+0.25-0.45=0.1, b=-0.1.
    rankings = {"bm25": [("a", 2.0), ("b", 1.0)], "splade": [("a", 5.0), ("b", 3.0)], "dense": [("b", 0.9), ("a", 0.1)]}
    hits = FusionConfig().fuse(rankings, 2)
    assert [hit.doc_id for hit in hits] == ["a", "b"]
    assert [hit.score for hit in hits] == pytest.approx([0.1, -0.1])
