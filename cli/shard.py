"""`braid shard`: split an index into shards that search as one (in this process, or on Ray)."""

from __future__ import annotations

import json
import time

import click


@click.command("shard")
@click.argument("index_dir", type=click.Path(file_okay=False))
@click.option("--shards", type=click.IntRange(min=2), required=True, help="How many shards to write (documents go by a hash of their id).")
@click.option("--out", "out", type=click.Path(file_okay=False), required=True, help="The directory to write the shards to.")
@click.option("--overwrite", is_flag=True, help="Replace OUT if it holds a braid index or shards.")
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Indexing threads.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object describing the shards.")
def shard_command(index_dir: str, shards: int, out: str, overwrite: bool, threads: int, as_json: bool) -> None:
    """Write INDEX_DIR's live documents as SHARDS complete indexes in OUT.

    Nothing is encoded again (the stored vectors are reused); BM25's corpus-wide statistics are
    written beside the shards, so `braid search OUT ...` (add `--ray ADDRESS` for one Ray actor per
    shard) gives the lists and scores of INDEX_DIR itself. OUT appears only when every shard is complete."""
    from braid.engine.shard_split import split_index

    started = time.perf_counter()
    layout = split_index(index_dir, out, shards, overwrite=overwrite, progress=not as_json, threads=threads)
    seconds = round(time.perf_counter() - started, 3)
    if as_json:
        click.echo(json.dumps({"index": index_dir, "out": out, **layout.to_dict(), "seconds": seconds}))
        return
    sizes = ", ".join(str(docs) for docs in layout.docs)
    click.echo(f"{out}: {len(layout.shards)} shards of {index_dir} ({layout.doc_count} documents: {sizes}) in {seconds:.1f} s")
