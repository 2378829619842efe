"""Writing to a built index: add (or replace) and delete documents, merge segments.

    with IndexWriter("indexes/scifact") as writer:
        writer.add(documents)        # an id already in the index replaces that document
        writer.delete(["4983", "5836"])
    # leaving the block commits one new generation; an exception discards the batch

A commit writes the new documents as a new segment (only they are encoded), lists deleted ordinals
per segment in new deletion files, and publishes a new manifest generation with one rename
(indexing/generations.py). Searches then combine every segment's live documents with statistics
over exactly those, so results equal a fresh build of the surviving corpus. A merge policy compacts
(one segment, deleted documents dropped, stored vectors reused) when segments or deletions pile up.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Self

import numpy as np

from braid.engine.registry import retriever_kind
from braid.fusion.errors import BraidError
from braid.indexing.arrays import load_array
from braid.indexing.build import BuilderFactory, write_documents
from braid.indexing.docstore import DocStore
from braid.indexing.generations import publish, remove_unreferenced, sync_tree
from braid.indexing.impact_matrix import ImpactMatrix
from braid.indexing.integrity import sha256
from braid.indexing.layout import DELETES_FOLDER, DOCSTORE_NAME, EMBEDDINGS_FILE, ROOT_SEGMENT
from braid.indexing.manifest import FORMAT_VERSION, FileRecord, Manifest, SegmentEntry
from braid.indexing.metadata import flatten, merge_schemas
from braid.indexing.readers import Document
from braid.indexing.segments import Segment, deletion_file, open_segments, segment_name, write_deleted
from braid.indexing.shards import is_sharded
from braid.indexing.write_lock import WriteLock


@dataclass(frozen=True)
class MergePolicy:
    """When a commit is followed by a compaction: more than `max_segments` segments, or more than
    `max_deleted_fraction` of the documents written into segments deleted since. Ten segments cost
    at most 1.2x a compacted index's search time (measured by braid.eval.bench_writes)."""

    max_segments: int = 10
    max_deleted_fraction: float = 0.2

    def __post_init__(self) -> None:
        if self.max_segments < 1:
            raise BraidError(f"max_segments must be at least 1, got {self.max_segments}")
        if not 0 < self.max_deleted_fraction <= 1:
            raise BraidError(f"max_deleted_fraction must be in (0, 1], got {self.max_deleted_fraction}")

    def wants_compaction(self, manifest: Manifest) -> bool:
        written = sum(segment.docs for segment in manifest.segments)
        return len(manifest.segments) > self.max_segments or manifest.deleted_docs > self.max_deleted_fraction * written


@dataclass
class CommitReport:
    """What one commit did (and the compaction the merge policy ran after it, if any)."""

    generation: int
    added: int = 0
    replaced: int = 0
    unchanged: int = 0  # given again with the same title and text: nothing to do
    deleted: int = 0
    unknown: list[str] = field(default_factory=list)  # ids asked to be deleted that the index does not hold
    encoded: int = 0  # documents whose vectors were computed (only new or changed ones)
    compacted: bool = False
    segments: int = 0
    documents: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class CommitsOnExit:
    """`with writer:` commits when the block ends (the report in `last_report`) and drops the
    queued changes on an exception; the writer closes either way."""

    last_report: CommitReport | None

    def commit(self) -> CommitReport:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, *rest: object) -> None:
        try:
            if kind is None:
                self.last_report = self.commit()
        finally:
            self.close()


class IndexWriter(CommitsOnExit):
    """The one writer of an index (a lock file makes a second one fail with the holder's pid)."""

    def __init__(self, path: str | Path, policy: MergePolicy | None = None, progress: bool = False, threads: int = 2) -> None:
        self.path = Path(path)
        if is_sharded(self.path):
            raise BraidError(f"{self.path} is a sharded index: write to it with braid.engine.sharded_writer.open_writer (ShardedWriter)")
        self.policy = policy or MergePolicy()
        self.progress = progress
        self.threads = threads
        Manifest.read(self.path)  # a clear error when there is no index here
        self._lock = WriteLock(self.path)
        self._lock.acquire()
        try:
            remove_unreferenced(self.path, Manifest.read(self.path))  # what a killed writer left
        except BaseException:
            self._lock.release()
            raise
        self._adds: dict[str, Document] = {}
        self._deletes: dict[str, None] = {}
        self.last_report: CommitReport | None = None  # what leaving the `with` block committed

    # -- the batch -------------------------------------------------------------------------------

    def add(self, documents: Iterable[Document]) -> None:
        """Queue documents; one whose id the index holds replaces it at commit (update = delete + add)."""
        for document in documents:
            if not document.doc_id.strip() or any(character.isspace() for character in document.doc_id):
                raise BraidError(f"document id {document.doc_id!r} is empty or holds white space")
            if document.doc_id in self._adds:
                raise BraidError(f"document id {document.doc_id!r} appears twice in this batch")
            if document.metadata:  # as readers give it: nested objects as dotted names
                try:
                    document = replace(document, metadata=flatten(document.metadata) or None)
                except BraidError as error:
                    raise BraidError(f"document {document.doc_id!r}: {error}") from None
            self._adds[document.doc_id] = document

    def delete(self, doc_ids: Iterable[str]) -> None:
        """Queue deletions (and drop queued additions of those ids); unknown ids are reported at commit."""
        for doc_id in doc_ids:
            self._adds.pop(doc_id, None)
            self._deletes[doc_id] = None

    def rollback(self) -> None:
        self._adds.clear()
        self._deletes.clear()

    # -- commit and compaction -------------------------------------------------------------------

    def commit(self) -> CommitReport:
        """Publish the queued changes as one new generation (none when they change nothing)."""
        started = time.perf_counter()
        manifest = Manifest.read(self.path)
        segments = open_segments(self.path, manifest)
        where = _live_ordinals(segments)
        report = CommitReport(manifest.generation)
        doomed: dict[int, list[int]] = {}  # segment number -> ordinals deleted by this commit
        for doc_id in self._deletes:
            if doc_id in self._adds:
                continue  # deleted, then added again: the addition decides below
            if doc_id in where:
                number, ordinal = where[doc_id]
                doomed.setdefault(number, []).append(ordinal)
                report.deleted += 1
            else:
                report.unknown.append(doc_id)
        added = []
        stores = [DocStore(segment.folder / DOCSTORE_NAME) for segment in segments]
        try:
            for doc_id, document in self._adds.items():
                if doc_id in where:
                    number, ordinal = where[doc_id]
                    if stores[number].get(doc_id) == document:
                        report.unchanged += 1
                        continue
                    doomed.setdefault(number, []).append(ordinal)
                    report.replaced += 1
                else:
                    report.added += 1
                added.append(document)
        finally:
            for store in stores:
                store.close()
        self.rollback()
        if not added and sum(len(ordinals) for ordinals in doomed.values()) >= manifest.doc_count:
            raise BraidError(f"this would delete every document of {self.path}; an index cannot be empty (remove the folder instead)")
        if added or doomed:
            manifest = self._publish_changes(manifest, segments, added, doomed)
            report.generation, report.encoded = manifest.generation, len(added)
            if self.policy.wants_compaction(manifest):
                manifest = self._compact(manifest)
                report.generation, report.compacted = manifest.generation, True
            remove_unreferenced(self.path, manifest)
        report.segments, report.documents = len(manifest.segments), manifest.doc_count
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def compact(self) -> CommitReport:
        """Merge every segment into one and drop deleted documents (a no-op on an index that is
        already one segment with nothing deleted). Stored vectors are reused: nothing is encoded."""
        if self._adds or self._deletes:
            raise BraidError("commit or roll back the queued changes before compacting")
        started = time.perf_counter()
        manifest = Manifest.read(self.path)
        report = CommitReport(manifest.generation)
        if len(manifest.segments) > 1 or manifest.deleted_docs:
            manifest = self._compact(manifest)
            remove_unreferenced(self.path, manifest)
            report.generation, report.compacted = manifest.generation, True
        report.segments, report.documents = len(manifest.segments), manifest.doc_count
        report.seconds = round(time.perf_counter() - started, 3)
        return report

    def _publish_changes(self, manifest: Manifest, segments: Sequence[Segment], added: list[Document], doomed: dict[int, list[int]]) -> Manifest:
        generation = manifest.generation + 1
        entries = []
        for number, segment in enumerate(segments):
            entry = segment.entry
            if number in doomed:
                before = np.flatnonzero(~segment.live) if segment.live is not None else np.empty(0, dtype=np.int64)
                name = deletion_file(entry.name, generation)
                count = write_deleted(self.path / name, [*before.tolist(), *doomed[number]])
                entry = SegmentEntry(entry.name, entry.docs, name, count)
            if entry.live_docs:
                entries.append(entry)
        schema = manifest.metadata
        if added:
            name = segment_name(generation)
            written = self._write_segment(manifest, name, added, f"{len(added)} documents added in generation {generation}")
            entries.append(SegmentEntry(name, written.doc_count))
            schema = merge_schemas(schema, written.metadata)
        if doomed:
            sync_tree(self.path / DELETES_FOLDER)
        return self._commit(manifest, entries, generation, _fingerprint(manifest, added, doomed, segments), schema)

    def _compact(self, manifest: Manifest) -> Manifest:
        generation = manifest.generation + 1
        segments = open_segments(self.path, manifest)
        name = segment_name(generation)
        reuse = stored_vectors(manifest, segments)
        written = self._write_segment(manifest, name, live_documents(segments), f"compaction of generation {manifest.generation}", reuse)
        return self._commit(manifest, [SegmentEntry(name, written.doc_count)], generation, manifest.corpus_fingerprint, written.metadata)

    def _write_segment(self, manifest: Manifest, name: str, documents: Iterable[Document], label: str, reuse: dict[str, Any] | None = None) -> Manifest:
        builders = {retriever: builder_for(entry.kind, entry.params, self.threads) for retriever, entry in manifest.retrievers.items()}
        written = write_documents(documents, Path(f"<{label}>"), self.path / name, builders, progress=self.progress, reuse=reuse, declared=manifest.metadata)
        sync_tree(self.path / name)
        return written

    def _commit(self, manifest: Manifest, entries: list[SegmentEntry], generation: int, fingerprint: str, schema: dict[str, str]) -> Manifest:
        kept_root = any(entry.name == ROOT_SEGMENT for entry in entries)
        files: dict[str, FileRecord] = {name: record for name, record in manifest.files.items() if kept_root and not name.startswith(f"{DELETES_FOLDER}/")}
        for entry in entries:
            if entry.deleted:
                path = self.path / entry.deleted
                files[entry.deleted] = FileRecord(path.stat().st_size, sha256(path))
        fresh = replace(
            manifest,
            format_version=FORMAT_VERSION,
            generation=generation,
            segments=tuple(entries),
            doc_count=sum(entry.live_docs for entry in entries),
            corpus_fingerprint=fingerprint,
            files=files,
            metadata=schema,
        )
        publish(self.path, fresh)
        return fresh

    # -- closing ---------------------------------------------------------------------------------

    def close(self) -> None:
        """Release the lock; queued changes not committed are dropped."""
        self.rollback()
        self._lock.release()


def builder_for(kind_name: str, params: dict[str, Any], threads: int) -> BuilderFactory:
    """A builder with exactly the settings the index was built with (dense's stored dimension aside)."""
    kind = retriever_kind(kind_name)
    config = kind.config.from_dict({name: value for name, value in params.items() if name != "dimension"})
    return lambda staging: kind.builder(staging, config, threads)


def _live_ordinals(segments: Sequence[Segment]) -> dict[str, tuple[int, int]]:
    where = {}
    for number, segment in enumerate(segments):
        alive = segment.live.tolist() if segment.live is not None else None
        for ordinal, doc_id in enumerate(segment.doc_ids):
            if alive is None or alive[ordinal]:
                where[doc_id] = (number, ordinal)
    return where


def live_documents(segments: Sequence[Segment]) -> Iterator[Document]:
    """Every live document, segment by segment in each one's order (the order of stored_vectors)."""
    for segment in segments:
        store = DocStore(segment.folder / DOCSTORE_NAME)
        try:
            alive = segment.live.tolist() if segment.live is not None else None
            for ordinal, document in enumerate(store):
                if alive is None or alive[ordinal]:
                    yield document
        finally:
            store.close()


def stored_vectors(manifest: Manifest, segments: Sequence[Segment]) -> dict[str, Any]:
    """The live documents' dense vectors and SPLADE impacts as stored in the segments."""
    reuse: dict[str, Any] = {}
    for name, entry in manifest.retrievers.items():
        folders = [segment.folder / entry.path for segment in segments]
        if entry.kind == "dense":
            blocks = [load_array(folder / EMBEDDINGS_FILE, mmap=True) for folder in folders]
            reuse[name] = np.concatenate([block if segment.live is None else block[segment.live] for block, segment in zip(blocks, segments)])
        elif entry.kind == "splade":
            reuse[name] = ImpactMatrix.combine([(ImpactMatrix.load(folder), segment.live) for folder, segment in zip(folders, segments)])
    return reuse


def _fingerprint(manifest: Manifest, added: Sequence[Document], doomed: dict[int, list[int]], segments: Sequence[Segment]) -> str:
    """Names this generation's documents: the previous fingerprint, what was added and what deleted."""
    digest = hashlib.sha256(manifest.corpus_fingerprint.encode("utf-8"))
    for document in added:
        digest.update(b"\x00+" + "\x1f".join((document.doc_id, document.title, document.text)).encode("utf-8"))
    for number, ordinals in sorted(doomed.items()):
        digest.update(b"\x00-" + "\x1f".join(segments[number].doc_ids[ordinal] for ordinal in sorted(ordinals)).encode("utf-8"))
    return "sha256:" + digest.hexdigest()
