"""`braid encode`: document vectors written to files, so encoding can run on another machine."""

from __future__ import annotations

import time

import click

from braid.cli.index import dense_encoding_options
from braid.cli.options import data_dir_option


@click.command("encode")
@click.argument("data")
@click.option("--retriever", type=click.Choice(["dense"]), default="dense", show_default=True, help="Which vectors to make.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="NAME.npy to write (NAME.ids and NAME.json go beside it).")
@dense_encoding_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object describing the files.")
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
    as_json: bool,
    data_dir: str | None,
) -> None:
    """Encode the corpus of DATA as `braid index` would, into --out; build from them anywhere with
    `braid index DATA --out DIR --dense-vectors OUT` (same model and settings, checked)."""
    import json

    from braid.eval.datasets import resolve_dataset
    from braid.indexing.config import DenseConfig
    from braid.indexing.vector_files import encode_to_files, read_info

    dataset = resolve_dataset(data, data_dir)
    config = DenseConfig(model=dense_model, precision=dense_precision, doc_prefix=doc_prefix, max_seq_length=dense_max_length, batch_size=dense_batch_size)
    started = time.perf_counter()
    files = encode_to_files(dataset.require_corpus(), config, out, progress=not as_json)
    seconds = time.perf_counter() - started
    info = read_info(files)
    report = {"retriever": retriever, "vectors": str(files.vectors), "ids": str(files.ids), "info": str(files.info), **info, "seconds": round(seconds, 1)}
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(
        f"encoded {info['documents']:,} documents of {dataset.name} with {info['model']} ({info['dimension']}-d) into {files.vectors} in {seconds:.1f} s"
    )
