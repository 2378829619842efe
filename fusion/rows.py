"""Fusion settings applied to a batch of queries' candidate tables, as the engine's fused search
uses them: candidates are document ordinals, ties break by each one's rank in doc id order
(`tie_keys`), and doc ids are looked up only for the rows that are returned. FusionConfig.fuse is
the same arithmetic on lists of string ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from braid.fusion.config import FusionConfig
from braid.fusion.convex import convex_tables
from braid.fusion.rrf import rrf_rows
from braid.fusion.table import CandidateTable, FusedRows


def needs_exact(config: FusionConfig) -> bool:
    """Whether fusing with `config` asks retrievers for their scores of documents they did not return."""
    return config.method == "cc" and config.missing == "exact"


def fuse_tables(
    config: FusionConfig,
    weights: Mapping[str, float],
    tables: Sequence[CandidateTable],
    depth: int,
    exact: Sequence[Mapping[str, np.ndarray] | None],
    tie_keys: Sequence[np.ndarray],
) -> list[FusedRows]:
    """Each table's `depth` best rows under `config`; `weights` is config.weights_for(names) (made
    once per batch); per table, `exact[i][name]` that retriever's scores of the rows it did not
    return and `tie_keys[i]` one key per row."""
    if config.method == "rrf":
        return [rrf_rows(table, config.rrf_k, config.rrf_k_per_list, weights, depth, keys) for table, keys in zip(tables, tie_keys)]
    return convex_tables(tables, weights, config.norm, config.missing, exact, None, depth, tie_keys, config.bounds)
