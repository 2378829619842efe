"""`braid search`: one query, a readable table or JSON."""

from __future__ import annotations

import json
from typing import Any

import click

from braid.cli.options import execution_option, filter_option, fusion_options, open_engine, read_filter, retrievers_option, search_overrides, shard_ray_option
from braid.fusion.types import SEARCH_DEPTH

_TITLE_WIDTH = 70


@click.command("search")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("query")
@click.option("-k", "k", type=click.IntRange(min=1, max=10_000), default=10, show_default=True, help="Hits to return.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table (always with per-retriever explanations).")
@click.option("--explain", is_flag=True, help="Show each retriever's rank, raw score and normalized score under every hit.")
@click.option("--depth", type=click.IntRange(min=1), default=SEARCH_DEPTH, show_default=True, help="Candidates per retriever before fusion.")
@click.option(
    "--offset",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Skip this many hits (page 2 of 10: --offset 10); offset + k must fit in --depth.",
)
@click.option("--partial", is_flag=True, help="A sharded index: leave out shards that fail instead of failing (--json says which answered).")
@filter_option
@retrievers_option
@search_overrides
@fusion_options
@shard_ray_option
@execution_option
def search_command(
    index_dir: str,
    query: str,
    k: int,
    as_json: bool,
    explain: bool,
    depth: int,
    offset: int,
    partial: bool,
    filter_text: str | None,
    retrievers: str | None,
    **overrides: Any,
) -> None:
    """Search INDEX_DIR for QUERY (plain words; Lucene syntax has no special meaning)."""
    filter_json = read_filter(filter_text)
    with open_engine(index_dir, retrievers, **overrides) as engine:
        applied = engine.apply_filter(filter_json) if filter_json is not None else None  # a bad filter fails before any search
        answers = _partial_answers(index_dir) if partial else None
        hits = engine.search(query, k=k, depth=depth, offset=offset, filter=filter_json, partial=answers)
        if as_json:
            fusion = engine.fusion.applied(list(engine.retrievers)) if len(engine.retrievers) > 1 else None
            payload = {
                "query": query, "k": k, "offset": offset, "retrievers": list(engine.retrievers), "fusion": fusion,
                "filter": applied.to_dict() if applied else None, "hits": [hit.to_dict() for hit in hits],
                **({"shards": answers.to_dict()} if answers is not None else {}),
            }  # fmt: skip
            click.echo(json.dumps(payload, ensure_ascii=False))
            return
        if applied is not None:
            click.echo(applied.describe())
        if answers is not None and answers.missing:
            click.echo(f"partial results: shard(s) {', '.join(map(str, sorted(answers.missing)))} of {answers.shards} did not answer", err=True)
        if not hits:
            click.echo("no hits")
            return
        width = max(len(hit.doc_id) for hit in hits)
        click.echo(f"{'rank':>4}  {'doc id':<{width}}  {'score':>9}  title")
        for hit in hits:
            label = hit.title or _text_start(engine, hit.doc_id)
            click.echo(f"{hit.rank:>4}  {hit.doc_id:<{width}}  {hit.score:>9.4f}  {_shorten(label)}")
            if explain:
                for name, part in hit.sources.items():
                    found = f"rank {part.rank:>4}" if part.rank else "not found"
                    raw = "" if part.score is None else f"score {part.score:.4f}, "
                    click.echo(f"{'':>6}{name:<8} {found}  ({raw}normalized {part.normalized:.4f})")


def _text_start(engine: object, doc_id: str) -> str:
    document = engine.docstore.get(doc_id)  # type: ignore[attr-defined]
    return document.text if document else ""


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TITLE_WIDTH else text[: _TITLE_WIDTH - 1] + "…"


def _partial_answers(index_dir: str) -> Any:
    from braid.engine.shard_answers import ShardAnswers
    from braid.fusion.errors import BraidError
    from braid.indexing.shards import ShardLayout, is_sharded

    if not is_sharded(index_dir):
        raise BraidError(f"--partial is for sharded indexes; {index_dir} is one index")
    return ShardAnswers(len(ShardLayout.read(index_dir).shards))
