"""`braid add`, `braid delete`, `braid compact`: change a built index without rebuilding it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from braid.cli.options import data_dir_option, metadata_option

F = TypeVar("F", bound=Callable[..., Any])


def merge_policy_options(function: F) -> F:
    function = click.option(
        "--max-segments",
        type=click.IntRange(min=1),
        default=None,
        help="Compact after this commit when the index has more segments than this [default: 10].",
    )(function)
    return click.option(
        "--max-deleted",
        type=click.FloatRange(min=0, max=1, min_open=True),
        default=None,
        help="Compact after this commit when more than this fraction of documents is deleted [default: 0.2].",
    )(function)


def json_option(function: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object describing the commit.")(function)


@click.command("add")
@click.argument("index_dir", type=click.Path(file_okay=False))
@click.argument("data")
@merge_policy_options
@click.option("--threads", type=click.IntRange(min=1), default=2, show_default=True, help="Indexing threads.")
@json_option
@metadata_option
@data_dir_option
def add_command(
    index_dir: str, data: str, max_segments: int | None, max_deleted: float | None, threads: int, as_json: bool, metadata_path: str | None, data_dir: str | None
) -> None:
    """Add the documents of DATA to INDEX_DIR (a document whose id is already there replaces it).

    DATA is anything `braid index` reads: a BEIR folder, a dataset name, a JSONL or TSV file. Only
    new or changed documents are encoded; the change is one new generation of the index. Metadata
    (in the documents or from --metadata) must keep the types the index's fields have."""
    from braid.engine.sharded_writer import open_writer
    from braid.eval.datasets import resolve_dataset
    from braid.indexing.readers import read_corpus

    corpus = resolve_dataset(data, data_dir).require_corpus()
    with open_writer(index_dir, _policy(max_segments, max_deleted), progress=not as_json, threads=threads) as writer:
        writer.add(read_corpus(corpus, metadata_path))
    _report(writer.last_report, as_json, index_dir)


@click.command("delete")
@click.argument("index_dir", type=click.Path(file_okay=False))
@click.argument("doc_ids", nargs=-1)
@click.option("--ids", "ids_file", type=click.Path(dir_okay=False), help="A file of document ids, one per line.")
@merge_policy_options
@json_option
def delete_command(index_dir: str, doc_ids: tuple[str, ...], ids_file: str | None, max_segments: int | None, max_deleted: float | None, as_json: bool) -> None:
    """Delete documents from INDEX_DIR by id; ids the index does not hold are reported."""
    from braid.engine.sharded_writer import open_writer
    from braid.fusion.errors import BraidError

    wanted = list(doc_ids) + (_read_ids(Path(ids_file)) if ids_file else [])
    if not wanted:
        raise BraidError("no document id given: name them, or pass --ids FILE")
    with open_writer(index_dir, _policy(max_segments, max_deleted)) as writer:
        writer.delete(wanted)
    _report(writer.last_report, as_json, index_dir)


@click.command("compact")
@click.argument("index_dir", type=click.Path(file_okay=False))
@json_option
def compact_command(index_dir: str, as_json: bool) -> None:
    """Merge INDEX_DIR's segments into one and drop deleted documents (stored vectors are reused).

    Afterwards the Lucene backends can search it again."""
    from braid.engine.sharded_writer import open_writer

    writer = open_writer(index_dir, progress=not as_json)
    try:
        report = writer.compact()
    finally:
        writer.close()
    _report(report, as_json, index_dir)


def _policy(max_segments: int | None, max_deleted: float | None) -> Any:
    from braid.engine.writer import MergePolicy

    default = MergePolicy()
    return MergePolicy(max_segments or default.max_segments, max_deleted or default.max_deleted_fraction)


def _read_ids(path: Path) -> list[str]:
    from braid.fusion.errors import DataError
    from braid.indexing.readers import numbered_lines

    ids = []
    for number, line in numbered_lines(path):
        value = line.strip()
        if any(character.isspace() for character in value):
            raise DataError(path, number, f"expected one document id per line, got {value!r}")
        ids.append(value)
    return ids


def _report(report: Any, as_json: bool, index_dir: str) -> None:
    if report is None:
        return
    if as_json:
        click.echo(json.dumps({"index": index_dir, **report.to_dict()}))
        return
    done = [f"{count} {label}" for count, label in ((report.added, "added"), (report.replaced, "replaced"), (report.deleted, "deleted")) if count]
    if report.unchanged:
        done.append(f"{report.unchanged} unchanged (skipped)")
    what = ", ".join(done) or ("compacted" if report.compacted else "nothing to change")
    if report.compacted and done:
        what += "; then compacted"
    click.echo(
        f"{index_dir}: {what}; generation {report.generation}, {report.segments} segment(s), {report.documents} documents "
        f"({report.encoded} encoded, {report.seconds:.1f} s)"
    )
    if report.unknown:
        shown = ", ".join(report.unknown[:10]) + (f" and {len(report.unknown) - 10} more" if len(report.unknown) > 10 else "")
        click.echo(f"braid: {len(report.unknown)} id(s) not in the index, nothing deleted for them: {shown}", err=True)
