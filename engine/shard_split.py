"""Split an index into shards (`braid shard`): each document goes to the shard its id hashes to.

Shards are written from the index's live documents with their stored vectors (nothing is
encoded again, as in compaction), each as a complete index; the corpus-wide BM25 statistics are
written beside them, and the directory appears only when every shard is complete.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from braid.engine.writer import builder_for, live_documents, stored_vectors
from braid.fusion.errors import BraidError
from braid.indexing.atomic import atomic_directory
from braid.indexing.build import write_documents
from braid.indexing.impact_matrix import ImpactMatrix
from braid.indexing.layout import FUSION_FILE
from braid.indexing.manifest import Manifest
from braid.indexing.readers import Document
from braid.indexing.segments import Segment, open_segments
from braid.indexing.shards import ShardLayout, shard_of, statistics_path
from braid.indexing.term_statistics import TermStatistics

# Most shards an index may be split into (each is a process holding its own models when searched).
MAX_SHARDS = 256


def split_index(source: str | Path, out: str | Path, shards: int, overwrite: bool = False, progress: bool = True, threads: int = 2) -> ShardLayout:
    """Write the index at `source` as `shards` shards in directory `out` (see the module docstring)."""
    source, out = Path(source), Path(out)
    check_shards(shards)
    if out.absolute() == source.absolute():
        raise BraidError(f"write the shards to another directory than the index itself ({source})")
    Manifest.read(source)  # a clear error when there is no index, before anything is written
    with atomic_directory(out, overwrite=overwrite) as staging:
        layout = write_shards(source, staging, shards, str(source.absolute()), progress, threads)
    return layout


def build_in_shards(
    out: str | Path, shards: int, build: Callable[[Path], Manifest], source: str, overwrite: bool = False, progress: bool = True, threads: int = 2
) -> ShardLayout:
    """`build(folder)` writes one index, which is then split into `shards` in `out` (`braid index
    --shards`); the whole index lives only inside the staging folder, so nothing of it stays."""
    check_shards(shards)
    with atomic_directory(out, overwrite=overwrite) as staging:
        whole = staging / ".whole"
        build(whole)
        layout = write_shards(whole, staging, shards, source, progress, threads)
        shutil.rmtree(whole)
    return layout


def check_shards(shards: int) -> None:
    if not 2 <= shards <= MAX_SHARDS:
        raise BraidError(f"--shards must be between 2 and {MAX_SHARDS}, got {shards}")


def write_shards(source: Path, staging: Path, shards: int, label: str, progress: bool, threads: int) -> ShardLayout:
    """The shards of the index at `source`, their statistics and layout, written into `staging`."""
    manifest = Manifest.read(source)
    segments = open_segments(source, manifest)
    live_ids = [doc_id for segment in segments for doc_id in segment.live_ids]
    owner = np.fromiter((shard_of(doc_id, shards) for doc_id in live_ids), dtype=np.int64, count=len(live_ids))
    counts = np.bincount(owner, minlength=shards)
    if not counts.all():
        empty = int(np.flatnonzero(counts == 0)[0])
        raise BraidError(f"shard {empty} of {shards} would hold no document ({len(live_ids)} documents in {label}); use fewer shards")
    vectors = stored_vectors(manifest, segments)
    names = tuple(f"shard-{number:03d}" for number in range(shards))
    for number, name in enumerate(names):
        mine = owner == number
        builders = {retriever: builder_for(entry.kind, entry.params, threads) for retriever, entry in manifest.retrievers.items()}
        write_documents(
            _owned(segments, mine),
            Path(f"<shard {number} of {label}>"),
            staging / name,
            builders,
            progress=progress,
            reuse={retriever: _rows(value, mine) for retriever, value in vectors.items()},
            declared=manifest.metadata,
            expected=int(counts[number]),
        )
    statistics = []
    for retriever, entry in manifest.retrievers.items():
        if entry.kind == "bm25":
            TermStatistics.of_segments(segments, entry.path, (1,) * shards).save(statistics_path(staging, retriever))  # every shard is new
            statistics.append(retriever)
    if (source / FUSION_FILE).is_file():
        shutil.copyfile(source / FUSION_FILE, staging / FUSION_FILE)
    layout = ShardLayout(names, tuple(int(count) for count in counts), label, tuple(statistics))
    layout.write(staging)
    return layout


def _owned(segments: list[Segment], mine: np.ndarray) -> Iterator[Document]:
    """The live documents a shard owns, in the index's order."""
    for document, keep in zip(live_documents(segments), mine.tolist()):
        if keep:
            yield document


def _rows(vectors: Any, mine: np.ndarray) -> Any:
    """A shard's part of stored vectors (dense rows) or impacts (SPLADE columns)."""
    if isinstance(vectors, ImpactMatrix):
        return ImpactMatrix.combine([(vectors, mine)])
    return vectors[mine]
