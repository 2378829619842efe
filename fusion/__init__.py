"""Fusion of ranked lists: convex combination with score normalization, and Reciprocal Rank Fusion.

Pure functions over (doc id, score) lists; the engine supplies the lists, tuning searches the settings.
The lowest layer: it also holds braid's error types and the ranked-list type every layer shares.
"""

from __future__ import annotations

from braid.fusion.config import FUSION_METHODS, FusionConfig, parse_weights
from braid.fusion.convex import MISSING_POLICIES, convex_combination
from braid.fusion.errors import BraidError, DataError
from braid.fusion.normalize import NORMALIZATIONS, normalize
from braid.fusion.rrf import DEFAULT_RRF_K, reciprocal_rank_fusion
from braid.fusion.types import Contribution, FusedHit, Ranking, trec_order

__all__ = [
    "DEFAULT_RRF_K",
    "FUSION_METHODS",
    "MISSING_POLICIES",
    "NORMALIZATIONS",
    "BraidError",
    "Contribution",
    "DataError",
    "FusedHit",
    "FusionConfig",
    "Ranking",
    "convex_combination",
    "normalize",
    "parse_weights",
    "reciprocal_rank_fusion",
    "trec_order",
]
