"""Fusion settings applied to one query's candidate table, as the engine's fused search uses them:
candidates are document ordinals, ties break by each one's rank in doc id order (`tie_keys`), and
doc ids are looked up only for the rows that are returned. FusionConfig.fuse is the same
arithmetic on lists of string ids."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from braid.fusion.config import FusionConfig
from braid.fusion.convex import convex_rows
from braid.fusion.rrf import rrf_rows
from braid.fusion.table import CandidateTable, FusedRows


def needs_exact(config: FusionConfig) -> bool:
    """Whether fusing with `config` asks retrievers for their scores of documents they did not return."""
    return config.method == "cc" and config.missing == "exact"


def fuse_rows(
    config: FusionConfig,
    weights: Mapping[str, float],
    table: CandidateTable,
    depth: int,
    exact: Mapping[str, np.ndarray] | None,
    tie_keys: np.ndarray,
) -> FusedRows:
    """The `depth` best rows of `table` under `config`; `weights` is config.weights_for(table.names)
    (made once per batch), `exact[name]` that retriever's scores of the rows it did not return."""
    if config.method == "rrf":
        return rrf_rows(table, config.rrf_k, config.rrf_k_per_list, weights, depth, tie_keys)
    return convex_rows(table, weights, config.norm, config.missing, exact, k=depth, tie_keys=tie_keys, bounds=config.bounds)
