"""`braid encode`: document vectors written to files, so encoding can run on another machine."""

from __future__ import annotations

import time

import click

from braid.cli.index import dense_encoding_options, sparse_encoding_options
from braid.cli.options import data_dir_option, document_encoding, ray_options


@click.command("encode")
@click.argument("data")
@click.option(
    "--retriever",
    type=click.Choice(["dense", "splade"]),
    default="dense",
    show_default=True,
    help="Which vectors to make: dense rows (NAME.npy) or SPLADE term weights (NAME.jsonl).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="dense: NAME.npy (NAME.ids and NAME.json go beside it); splade: NAME.jsonl (NAME.json beside it).",
)
@dense_encoding_options
@sparse_encoding_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object describing the files.")
@ray_options
@data_dir_option
def encode_command(
    data: str,
    retriever: str,
    out: str,
    dense_model: str,
    dense_precision: str,
    doc_prefix: str,
    dense_max_length: int,
    dense_batch_size: int,
    sparse_model: str,
    sparse_precision: str,
    sparse_max_length: int,
    sparse_batch_size: int,
    as_json: bool,
    ray_address: str | None,
    ray_workers: int | None,
    data_dir: str | None,
) -> None:
    """Encode the corpus of DATA as `braid index` would, into --out; build from them anywhere with
    `braid index DATA --out DIR --dense-vectors OUT` or `--splade-vectors OUT` (same model and
    settings, checked)."""
    import json

    from braid.eval.datasets import resolve_dataset
    from braid.indexing.config import DenseConfig, SpladeConfig

    dataset = resolve_dataset(data, data_dir)
    started = time.perf_counter()
    report: dict[str, object]
    if retriever == "dense":
        from braid.indexing.vector_files import encode_to_files, read_info

        dense = DenseConfig(model=dense_model, precision=dense_precision, doc_prefix=doc_prefix, max_seq_length=dense_max_length, batch_size=dense_batch_size)
        with document_encoding(ray_address, ray_workers) as encoding:
            files = encode_to_files(dataset.require_corpus(), dense, out, progress=not as_json, encoding=encoding)
        info = read_info(files)
        report = {"retriever": retriever, "vectors": str(files.vectors), "ids": str(files.ids), "info": str(files.info), **info}
        shape = f"{info['dimension']}-d"
    else:
        from braid.indexing.splade_vector_files import encode_splade_to_files, read_splade_info

        splade = SpladeConfig(model=sparse_model, precision=sparse_precision, max_seq_length=sparse_max_length, batch_size=sparse_batch_size)
        with document_encoding(ray_address, ray_workers) as encoding:
            sparse_files = encode_splade_to_files(dataset.require_corpus(), splade, out, progress=not as_json, encoding=encoding)
        info = read_splade_info(sparse_files)
        report = {"retriever": retriever, "vectors": str(sparse_files.vectors), "info": str(sparse_files.info), **info}
        shape = f"{info['vocabulary']:,}-token vocabulary"
    seconds = time.perf_counter() - started
    report["seconds"] = round(seconds, 1)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"encoded {info['documents']:,} documents of {dataset.name} with {info['model']} ({shape}) into {report['vectors']} in {seconds:.1f} s")
