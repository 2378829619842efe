"""`braid index`: build an index directory from a dataset."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from braid.cli.options import F, data_dir_option, document_encoding, metadata_option, ray_options
from braid.indexing.config import (
    DEFAULT_DENSE_MODEL,
    DEFAULT_PRECISION,
    DEFAULT_RETRIEVERS,
    DEFAULT_SPARSE_MODEL,
    PRECISIONS,
    BM25Config,
    DenseConfig,
    SpladeConfig,
)


def precision_option(name: str) -> Callable[[F], F]:
    return click.option(
        name,
        type=click.Choice(PRECISIONS),
        default=DEFAULT_PRECISION,
        show_default=True,
        help="auto: bfloat16 on CPUs with native bf16 (AMX/AVX512-BF16), else float32.",
    )


def dense_encoding_options(function: F) -> F:
    """What shapes a dense document vector: shared by `braid index` and `braid encode`."""
    function = click.option(
        "--dense-batch-size", type=click.IntRange(min=1), default=DenseConfig.batch_size, show_default=True, help="Texts encoded per batch."
    )(function)
    function = click.option(
        "--dense-max-length", type=click.IntRange(min=1), default=DenseConfig.max_seq_length, show_default=True, help="Tokens kept per text."
    )(function)
    function = click.option("--doc-prefix", default="", help="Text put before every document.")(function)
    function = precision_option("--dense-precision")(function)
    return click.option("--dense-model", default=DEFAULT_DENSE_MODEL, show_default=True, help="sentence-transformers model name or folder.")(function)


def sparse_encoding_options(function: F) -> F:
    """What shapes a SPLADE document vector: shared by `braid index` and `braid encode`."""
    function = click.option(
        "--sparse-batch-size", type=click.IntRange(min=1), default=SpladeConfig.batch_size, show_default=True, help="Texts encoded per batch (SPLADE)."
    )(function)
    function = click.option(
        "--sparse-max-length", type=click.IntRange(min=1), default=SpladeConfig.max_seq_length, show_default=True, help="Tokens kept per text (SPLADE)."
    )(function)
    function = precision_option("--sparse-precision")(function)
    return click.option(
        "--sparse-model", default=DEFAULT_SPARSE_MODEL, show_default=True, help="SPLADE model (a SparseEncoder with an MLM head): name or folder."
    )(function)


@click.command("index")
@click.argument("data")
@click.option("--out", "out", required=True, type=click.Path(), help="Index directory to create.")
@click.option(
    "--retrievers", default=",".join(DEFAULT_RETRIEVERS), show_default=True, help="Comma-separated sub-indexes to build (bm25 alone: a quick lexical index)."
)
@click.option("--overwrite", is_flag=True, help="Replace an existing index at --out.")
@click.option("--bm25-k1", type=float, default=BM25Config.k1, show_default=True, help="BM25 k1 stored as the index default.")
@click.option("--bm25-b", type=float, default=BM25Config.b, show_default=True, help="BM25 b stored as the index default.")
@dense_encoding_options
@click.option("--query-prefix", default="", help="Text put before every query (instruction models such as BGE).")
@click.option(
    "--dense-vectors",
    "dense_vectors",
    type=click.Path(dir_okay=False),
    default=None,
    help="Use these document vectors instead of encoding (NAME.npy with NAME.ids and NAME.json, as `braid encode` writes).",
)
@click.option(
    "--splade-vectors",
    "splade_vectors",
    type=click.Path(dir_okay=False),
    default=None,
    help="Use these document term weights instead of encoding (NAME.jsonl in Anserini's JSON-vector layout with NAME.json, as `braid encode --retriever splade` writes).",
)
@click.option("--hnsw-m", type=click.IntRange(min=2), default=DenseConfig.hnsw_m, show_default=True, help="HNSW links per node.")
@click.option("--ef-construction", type=click.IntRange(min=1), default=DenseConfig.ef_construction, show_default=True, help="HNSW build breadth.")
@click.option("--ef-search", type=click.IntRange(min=1), default=DenseConfig.ef_search, show_default=True, help="HNSW search breadth stored as default.")
@sparse_encoding_options
@click.option(
    "--impact-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=SpladeConfig.scale,
    show_default=True,
    help="Integer impact = round(weight x scale), documents and queries alike.",
)
@click.option(
    "--doc-top-terms", type=click.IntRange(min=0), default=SpladeConfig.doc_top_terms, show_default=True, help="Keep each document's N heaviest terms (0: all)."
)
@click.option(
    "--splade-stopwords/--splade-keep-stopwords",
    "splade_query_stopwords",
    default=SpladeConfig.query_stopwords,
    show_default=True,
    help="Drop stopword and punctuation tokens from SPLADE query vectors by default.",
)
@click.option(
    "--splade-lucene/--no-splade-lucene",
    "splade_lucene",
    default=SpladeConfig.lucene_index,
    show_default=True,
    help="Also write Lucene's impact index (only `--splade-backend lucene` searches it; skip it for large corpora).",
)
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Indexing threads.")
@click.option(
    "--shards",
    type=click.IntRange(min=2),
    default=None,
    help="Write the index as this many shards (as `braid shard` splits one; search them with --ray for one Ray actor each).",
)
@ray_options
@metadata_option
@data_dir_option
def index_command(
    data: str,
    out: str,
    retrievers: str,
    overwrite: bool,
    bm25_k1: float,
    bm25_b: float,
    dense_model: str,
    dense_precision: str,
    doc_prefix: str,
    dense_max_length: int,
    dense_batch_size: int,
    query_prefix: str,
    dense_vectors: str | None,
    splade_vectors: str | None,
    hnsw_m: int,
    ef_construction: int,
    ef_search: int,
    sparse_model: str,
    sparse_precision: str,
    sparse_max_length: int,
    sparse_batch_size: int,
    impact_scale: float,
    doc_top_terms: int,
    splade_query_stopwords: bool,
    splade_lucene: bool,
    threads: int,
    shards: int | None,
    ray_address: str | None,
    ray_workers: int | None,
    metadata_path: str | None,
    data_dir: str | None,
) -> None:
    """Index the corpus of DATA (a path, or a dataset name under --data-dir) into --out.

    Fields beyond id, title and text (BEIR's metadata object, other JSONL fields, or --metadata)
    are kept, typed, for filters."""
    from braid.engine.build import build_index
    from braid.eval.datasets import resolve_dataset

    dataset = resolve_dataset(data, data_dir)
    started = time.perf_counter()
    from braid.engine.registry import check_retriever_names

    names = check_retriever_names(retrievers.split(","))
    configs = {
        "bm25": BM25Config(k1=bm25_k1, b=bm25_b),
        "dense": DenseConfig(
            model=dense_model,
            precision=dense_precision,
            query_prefix=query_prefix,
            doc_prefix=doc_prefix,
            max_seq_length=dense_max_length,
            batch_size=dense_batch_size,
            hnsw_m=hnsw_m,
            ef_construction=ef_construction,
            ef_search=ef_search,
        ),
        "splade": SpladeConfig(
            model=sparse_model,
            precision=sparse_precision,
            max_seq_length=sparse_max_length,
            batch_size=sparse_batch_size,
            scale=impact_scale,
            doc_top_terms=doc_top_terms,
            query_stopwords=splade_query_stopwords,
            lucene_index=splade_lucene,
        ),
    }
    with document_encoding(ray_address, ray_workers) as encoding:

        def build(folder: str | Path, overwrite: bool = overwrite) -> Any:
            return build_index(
                dataset.require_corpus(),
                folder,
                retrievers=names,
                configs={name: config for name, config in configs.items() if name in names},
                overwrite=overwrite,
                threads=threads,
                metadata=metadata_path,
                vectors={name: path for name, path in (("dense", dense_vectors), ("splade", splade_vectors)) if path},
                encoding=encoding,
            )

        if shards is None:
            manifest = build(out)
        else:
            from braid.engine.shard_split import build_in_shards

            layout = build_in_shards(out, shards, lambda folder: build(folder, False), str(dataset.require_corpus()), overwrite, threads=threads)
            elapsed = time.perf_counter() - started
            click.echo(
                f"indexed {layout.doc_count} documents of {dataset.name} into {out} as {len(layout.shards)} shards ({', '.join(map(str, layout.docs))}) in {elapsed:.1f} s"
            )
            return
    elapsed = time.perf_counter() - started
    fields = f"; metadata fields: {', '.join(f'{name} ({kind})' for name, kind in manifest.metadata.items())}" if manifest.metadata else ""
    click.echo(f"indexed {manifest.doc_count} documents of {dataset.name} into {out} ({', '.join(manifest.retrievers)}) in {elapsed:.1f} s{fields}")
