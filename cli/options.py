"""Options shared by several commands, declared once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from braid.engine.errors import BraidError

F = Callable[..., Any]


def data_dir_option(function: F) -> F:
    return click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        default=None,
        help="Where named datasets live (env BRAID_DATA; default ~/.cache/braid/datasets).",
    )(function)


def retrievers_option(function: F) -> F:
    return click.option(
        "--retrievers",
        default=None,
        metavar="NAMES",
        help="Comma-separated retrievers to use (default: all the index has).",
    )(function)


def search_overrides(function: F) -> F:
    """Search-time overrides of what the index was built with, for every retriever kind."""
    function = click.option(
        "--splade-stopwords/--splade-keep-stopwords",
        "splade_query_stopwords",
        default=None,
        help="Drop stopword and punctuation tokens from SPLADE query vectors (default: as built).",
    )(function)
    function = click.option(
        "--splade-backend",
        type=click.Choice(["matrix", "lucene"]),
        default="matrix",
        show_default=True,
        help="numpy over the impact matrix (fast) or Anserini's impact searcher (reference); same rankings.",
    )(function)
    function = click.option("--dense-exact", is_flag=True, help="Score every dense vector instead of searching HNSW.")(function)
    function = click.option("--ef-search", type=click.IntRange(min=1), default=None, help="HNSW search breadth (default: as built).")(function)
    function = click.option(
        "--bm25-backend",
        type=click.Choice(["matrix", "lucene"]),
        default="matrix",
        show_default=True,
        help="numpy scoring of Lucene's BM25 (fast) or Anserini's searchers (reference); same rankings.",
    )(function)
    function = click.option("--bm25-b", type=float, default=None, help="BM25 b (default: as built, 0.4).")(function)
    return click.option("--bm25-k1", type=float, default=None, help="BM25 k1 (default: as built, 0.9).")(function)


def fusion_options(function: F) -> F:
    """How several retrievers' lists are fused (default: what `braid tune` stored, else zscore CC)."""
    function = click.option("--missing", type=click.Choice(["min", "zero", "exact"]), default=None, help="Score of a document a retriever did not return (cc).")(function)
    function = click.option("--rrf-k", type=click.FloatRange(min=0), default=None, help="RRF k (default 60).")(function)
    function = click.option("--weights", default=None, metavar="NAME=W,...", help="Per-retriever weights, e.g. bm25=0.2,splade=0.3,dense=0.5.")(function)
    function = click.option("--norm", type=click.Choice(["minmax", "zscore", "tmm", "none"]), default=None, help="Score normalization (cc).")(function)
    return click.option("--fusion", type=click.Choice(["cc", "rrf"]), default=None, help="Convex combination or Reciprocal Rank Fusion.")(function)


def split_names(value: str | None) -> list[str] | None:
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise BraidError("--retrievers needs at least one name")
    return names


def open_engine(
    index_dir: str,
    retrievers: str | None,
    bm25_k1: float | None = None,
    bm25_b: float | None = None,
    bm25_backend: str = "matrix",
    ef_search: int | None = None,
    dense_exact: bool = False,
    splade_backend: str = "matrix",
    splade_query_stopwords: bool | None = None,
    fusion: str | None = None,
    norm: str | None = None,
    weights: str | None = None,
    rrf_k: float | None = None,
    missing: str | None = None,
    fusion_config: Any = None,
) -> Any:
    """Open an engine, applying the options of `search_overrides` and `fusion_options` on top of
    what the index was built (and tuned) with; `fusion_config` replaces the stored fusion outright."""
    from braid.engine.config import BM25Config
    from braid.engine.engine import Engine
    from braid.fusion.config import parse_weights, stored_or_default
    from braid.indexing.manifest import Manifest

    bm25 = None
    if bm25_k1 is not None or bm25_b is not None:
        entry = Manifest.read(index_dir).retrievers.get("bm25")
        built = BM25Config.from_dict(entry.params) if entry else BM25Config()
        bm25 = built.replace(k1=bm25_k1, b=bm25_b)
    names = split_names(retrievers)
    if fusion_config is None:
        fusion_config = stored_or_default(index_dir, names).replace(
            method=fusion, norm=norm, weights=parse_weights(weights) if weights else None, rrf_k=rrf_k, missing=missing
        )
    return Engine.open(
        index_dir,
        retrievers=names,
        fusion=fusion_config,
        bm25=bm25,
        bm25_backend=bm25_backend,
        ef_search=ef_search,
        dense_exact=dense_exact,
        splade_backend=splade_backend,
        splade_query_stopwords=splade_query_stopwords,
    )
