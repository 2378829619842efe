"""Options shared by several commands, declared once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from braid.fusion.config import FUSION_METHODS
from braid.fusion.convex import MISSING_POLICIES
from braid.fusion.errors import BraidError
from braid.fusion.normalize import NORMALIZATIONS
from braid.fusion.rrf import DEFAULT_RRF_K
from braid.indexing.config import BACKENDS, DEFAULT_BACKEND, DEFAULT_DENSE_QUERY_ENCODER, DENSE_QUERY_ENCODERS, EXECUTIONS, BM25Config

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


def dense_query_encoder_option(function: F) -> F:
    return click.option(
        "--dense-query-encoder",
        type=click.Choice(DENSE_QUERY_ENCODERS),
        default=DEFAULT_DENSE_QUERY_ENCODER,
        show_default=True,
        help="Encode dense queries with the index's model, or with it quantized to int8 (ONNX Runtime: about 2x faster; README, Cheaper query encoders).",
    )(function)


def dense_options(index_dir: str, query_encoder: str) -> dict[str, dict[str, Any]]:
    """Engine.open's options for --dense-query-encoder alone (serve and bench take no other override)."""
    if query_encoder == DEFAULT_DENSE_QUERY_ENCODER:
        return {}
    from braid.indexing.shards import index_manifest

    if "dense" not in index_manifest(index_dir).retrievers:
        raise BraidError(f"--dense-query-encoder {query_encoder}: {index_dir} has no dense retriever")
    return {"dense": {"query_encoder": query_encoder}}


def search_overrides(function: F) -> F:
    """Search-time overrides of what the index was built with, for every retriever kind."""
    function = dense_query_encoder_option(function)
    function = click.option(
        "--splade-stopwords/--splade-keep-stopwords",
        "splade_query_stopwords",
        default=None,
        help="Drop stopword and punctuation tokens from SPLADE query vectors (default: as built).",
    )(function)
    function = click.option(
        "--splade-backend",
        type=click.Choice(BACKENDS),
        default=DEFAULT_BACKEND,
        show_default=True,
        help="numpy over the impact matrix (fast) or Anserini's impact searcher (reference); same rankings.",
    )(function)
    function = click.option("--dense-exact", is_flag=True, help="Score every dense vector instead of searching HNSW.")(function)
    function = click.option("--ef-search", type=click.IntRange(min=1), default=None, help="HNSW search breadth (default: as built).")(function)
    function = click.option(
        "--bm25-backend",
        type=click.Choice(BACKENDS),
        default=DEFAULT_BACKEND,
        show_default=True,
        help="numpy scoring of Lucene's BM25 (fast) or Anserini's searchers (reference); same rankings.",
    )(function)
    function = click.option("--bm25-b", type=float, default=None, help=f"BM25 b (default: as built, {BM25Config.b:g}).")(function)
    return click.option("--bm25-k1", type=float, default=None, help=f"BM25 k1 (default: as built, {BM25Config.k1:g}).")(function)


def fusion_options(function: F) -> F:
    """How several retrievers' lists are fused (default: what `braid tune` stored, else zscore CC)."""
    function = click.option("--missing", type=click.Choice(MISSING_POLICIES), default=None, help="Score of a document a retriever did not return (cc).")(
        function
    )
    function = click.option("--rrf-k", type=click.FloatRange(min=0), default=None, help=f"RRF k (default {DEFAULT_RRF_K:g}).")(function)
    function = click.option("--weights", default=None, metavar="NAME=W,...", help="Per-retriever weights, e.g. bm25=0.2,splade=0.3,dense=0.5.")(function)
    function = click.option(
        "--bounds",
        default=None,
        metavar="NAME=LOW:HIGH,...",
        help="Fixed normalization range per retriever for --norm minmax/tmm, e.g. dense=0:1 (an empty end comes from the list: bm25=0:).",
    )(function)
    function = click.option("--norm", type=click.Choice(NORMALIZATIONS), default=None, help="Score normalization (cc).")(function)
    return click.option("--fusion", type=click.Choice(FUSION_METHODS), default=None, help="Convex combination or Reciprocal Rank Fusion.")(function)


def filter_option(function: F) -> F:
    return click.option(
        "--filter",
        "filter_text",
        default=None,
        metavar="JSON",
        help='Keep only documents whose metadata match, e.g. \'{"range": {"year": {"gte": 2015}}}\' '
        "(term, terms, range, exists, and, or, not; README: Filters); @FILE reads it from a file.",
    )(function)


def read_filter(filter_text: str | None) -> str | None:
    """The filter's JSON text: given inline, or read from the file named after '@'."""
    if filter_text is None or not filter_text.startswith("@"):
        return filter_text
    path = Path(filter_text[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise BraidError(f"--filter {filter_text}: cannot read {path}: {error.strerror or error}") from None


def metadata_option(function: F) -> F:
    return click.option(
        "--metadata",
        "metadata_path",
        type=click.Path(dir_okay=False, exists=True),
        default=None,
        help="A JSONL side file of filterable fields, one object per document with its id in _id or id.",
    )(function)


def execution_option(function: F) -> F:
    return click.option(
        "--execution",
        type=click.Choice(EXECUTIONS),
        default=None,
        help="How one query's retrievers run: measured per host (auto), threads, serial, encoders serially beside "
        "the cheap retrievers (overlap), encoders at once, then every search (encode-ahead), or encoders serially, then every search "
        "(encode-first), or one thread per core, encoders first (lanes). Default: env BRAID_EXECUTION, else auto.",
    )(function)


def ray_options(function: F) -> F:
    """Encoding on a Ray cluster (`pip install 'braid[ray]'`)."""
    function = click.option(
        "--ray-workers", type=click.IntRange(min=1), default=None, help="Encoder actors per model on Ray (default: one per CPU of the cluster)."
    )(function)
    return click.option(
        "--ray",
        "ray_address",
        default=None,
        metavar="ADDRESS",
        help="Encode documents on Ray: local (start a cluster on this machine), auto (a running cluster) or its address.",
    )(function)


def shard_ray_option(function: F) -> F:
    """Searching a sharded index (`braid shard`) with one Ray actor per shard."""
    return click.option(
        "--ray",
        "ray",
        default=None,
        metavar="ADDRESS",
        help="Search a sharded index's shards as Ray actors: local (start a cluster here), auto (a running cluster) or its "
        "address. Without it, a sharded index's shards are searched in this process.",
    )(function)


@contextmanager
def document_encoding(ray_address: str | None, ray_workers: int | None) -> Iterator[Any]:
    """Where documents are encoded: None (here) unless --ray names a cluster; closed (and a local cluster stopped) at the end."""
    if ray_address is None:
        if ray_workers is not None:
            raise BraidError("--ray-workers needs --ray ADDRESS")
        yield None
        return
    from braid.indexing.ray_encoding import RayEncoding

    with RayEncoding(ray_address, ray_workers) as encoding:
        yield encoding


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
    bm25_backend: str = DEFAULT_BACKEND,
    ef_search: int | None = None,
    dense_exact: bool = False,
    dense_query_encoder: str = DEFAULT_DENSE_QUERY_ENCODER,
    splade_backend: str = DEFAULT_BACKEND,
    splade_query_stopwords: bool | None = None,
    fusion: str | None = None,
    norm: str | None = None,
    weights: str | None = None,
    rrf_k: float | None = None,
    missing: str | None = None,
    bounds: str | None = None,
    fusion_config: Any = None,
    execution: str | None = None,
    ray: str | None = None,
) -> Any:
    """Open an engine, applying the options of `search_overrides` and `fusion_options` on top of
    what the index was built (and tuned) with; `fusion_config` replaces the stored fusion outright."""
    from braid.engine.engine import Engine
    from braid.fusion.config import parse_bounds, parse_weights
    from braid.indexing.shards import index_manifest
    from braid.indexing.tuned_fusion import stored_or_default

    names = split_names(retrievers)
    given: dict[str, dict[str, Any]] = {
        "bm25": {"k1": bm25_k1, "b": bm25_b, "backend": bm25_backend},
        "dense": {"ef_search": ef_search, "exact": dense_exact or None, "query_encoder": dense_query_encoder},
        "splade": {"backend": splade_backend, "query_stopwords": splade_query_stopwords},
    }
    searched = names or list(index_manifest(index_dir).retrievers)
    if dense_query_encoder != DEFAULT_DENSE_QUERY_ENCODER and "dense" not in searched:
        raise BraidError(f"--dense-query-encoder {dense_query_encoder}: no dense retriever is searched ({', '.join(searched)})")
    options = {name: values for name, values in given.items() if name in searched}
    if fusion_config is None:
        fusion_config = stored_or_default(index_dir, names).replace(
            method=fusion,
            norm=norm,
            weights=parse_weights(weights) if weights else None,
            rrf_k=rrf_k,
            missing=missing,
            bounds=parse_bounds(bounds) if bounds else None,
        )
    return Engine.open(
        index_dir,
        retrievers=names,
        fusion=fusion_config,
        options=options,
        execution=execution,
        ray=ray,
    )
