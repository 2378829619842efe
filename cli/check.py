"""`braid check`: re-read every file of an index against the checksums recorded when it was built."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click


@click.command("check")
@click.argument("index_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object: files checked, bytes read, problems.")
def check_command(index_dir: str, as_json: bool) -> None:
    """Verify INDEX_DIR: every file present, of its recorded size and SHA-256; exit 1 on damage."""
    from tqdm import tqdm

    from braid.fusion.errors import BraidError
    from braid.indexing.integrity import checksum_problems, recorded_files
    from braid.indexing.manifest import Manifest

    index = Path(index_dir)
    manifest = Manifest.read(index)
    files = recorded_files(index, manifest)
    if not files:
        raise BraidError(f"{index} records no checksums (built by an older braid); rebuild it to make it checkable")
    total = sum(record.size for record in files.values())
    with tqdm(total=len(files), desc="checking", unit=" files", file=sys.stderr, disable=None) as bar:
        problems = checksum_problems(index, manifest, progress=lambda name: _advance(bar))
    summary = {"index": str(index), "generation": manifest.generation, "segments": len(manifest.segments), "files": len(files), "bytes": total}
    if as_json:
        click.echo(json.dumps({**summary, "ok": not problems, "problems": problems}))
    elif not problems:
        click.echo(
            f"{index}: generation {manifest.generation}, {len(manifest.segments)} segment(s), {len(files)} files, {total / 2**20:.1f} MB, every checksum matches"
        )
    else:
        for problem in problems:
            click.echo(problem, err=True)
    if problems:
        raise BraidError(f"{index}: {len(problems)} damaged or unexpected file(s); rebuild or restore the index")


def _advance(bar: Any) -> None:
    bar.update(1)
