"""An index as its manifest generation sees it: immutable segments, each with its deleted documents.

A segment is a folder laid out like a one-build index (docstore, one sub-folder per retriever, its
own manifest); the first is the index's top level, later ones live under segments/. Deletions never
touch a segment: a new generation lists, per segment, a file of deleted ordinals. Readers combine
the live documents of every segment, so statistics such as BM25's document frequencies are those
of the surviving corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from braid.indexing.arrays import load_array
from braid.indexing.docstore import DocStore
from braid.indexing.layout import DELETES_FOLDER, DOCSTORE_NAME, ROOT_SEGMENT, SEGMENTS_FOLDER
from braid.indexing.manifest import Manifest, SegmentEntry
from braid.indexing.readers import Document


def segment_name(generation: int) -> str:
    """The folder (relative to the index) of the segment that generation `generation` writes."""
    return f"{SEGMENTS_FOLDER}/seg-{generation:06d}"


def deletion_file(segment: str, generation: int) -> str:
    """Where generation `generation` lists the deleted ordinals of `segment` (relative to the index)."""
    stem = "root" if segment == ROOT_SEGMENT else segment.rsplit("/", 1)[-1]
    return f"{DELETES_FOLDER}/{stem}.{generation:06d}.npy"


def read_deleted(index: Path, entry: SegmentEntry) -> np.ndarray:
    """The sorted deleted ordinals of one segment (empty when it has none)."""
    if entry.deleted is None:
        return np.empty(0, dtype=np.int64)
    return load_array(index / entry.deleted).astype(np.int64)


def write_deleted(path: Path, ordinals: Iterable[int]) -> int:
    """Write a deletion file (sorted, unique ordinals); returns how many it lists."""
    values = np.unique(np.fromiter(ordinals, dtype=np.int64))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.save(handle, values)
    return len(values)


@dataclass(frozen=True)
class Segment:
    """One segment of an open generation: where it is, its doc ids by ordinal, which are live."""

    entry: SegmentEntry
    folder: Path
    doc_ids: list[str]
    live: np.ndarray | None  # bool per ordinal; None when nothing is deleted

    @property
    def live_ids(self) -> list[str]:
        if self.live is None:
            return self.doc_ids
        return [doc for doc, alive in zip(self.doc_ids, self.live.tolist()) if alive]


def open_segments(index: Path, manifest: Manifest) -> list[Segment]:
    """Every segment of `manifest` with its doc ids and live mask (reads each docstore's ids)."""
    segments = []
    for entry in manifest.segments:
        folder = index if entry.name == ROOT_SEGMENT else index / entry.name
        store = DocStore(folder / DOCSTORE_NAME)
        try:
            ids = store.ids()
        finally:
            store.close()
        deleted = read_deleted(index, entry)
        live = None
        if len(deleted):
            live = np.ones(len(ids), dtype=bool)
            live[deleted] = False
        segments.append(Segment(entry, folder, ids, live))
    return segments


class LiveDocStore:
    """The documents of every segment that are not deleted: what search shows, by id.

    A document id is live in at most one segment (an update deletes the old copy in the same
    commit that adds the new one).
    """

    def __init__(self, segments: Sequence[Segment]) -> None:
        self.segments = list(segments)
        self._stores = [DocStore(segment.folder / DOCSTORE_NAME) for segment in self.segments]
        self._where: dict[str, int] | None = None

    def ids(self) -> list[str]:
        """Every live doc id: segment by segment, in each segment's order (the retrievers' column order)."""
        if len(self.segments) == 1:
            return list(self.segments[0].live_ids)
        return [doc for segment in self.segments for doc in segment.live_ids]

    def segment_of(self, doc_id: str) -> int | None:
        """Which segment holds the live copy of `doc_id` (None: no live document has that id)."""
        if self._where is None:
            self._where = {doc: number for number, segment in enumerate(self.segments) for doc in segment.live_ids}
        return self._where.get(doc_id)

    def get(self, doc_id: str) -> Document | None:
        number = self.segment_of(doc_id)
        return None if number is None else self._stores[number].get(doc_id)

    def titles(self, doc_ids: Iterable[str]) -> dict[str, str]:
        return self._by_segment(doc_ids, DocStore.titles)

    def snippets(self, doc_ids: Iterable[str], length: int = 300) -> dict[str, str]:
        return self._by_segment(doc_ids, lambda store, wanted: store.snippets(wanted, length))

    def _by_segment(self, doc_ids: Iterable[str], read: Callable[[DocStore, list[str]], dict[str, str]]) -> dict[str, str]:
        wanted = list(dict.fromkeys(doc_ids))
        if len(self._stores) == 1 and self.segments[0].live is None:
            return dict(read(self._stores[0], wanted))
        groups: dict[int, list[str]] = {}
        for doc in wanted:
            number = self.segment_of(doc)
            if number is not None:
                groups.setdefault(number, []).append(doc)
        found: dict[str, str] = {}
        for number, docs in groups.items():
            found.update(read(self._stores[number], docs))
        return found

    def close(self) -> None:
        for store in self._stores:
            store.close()
