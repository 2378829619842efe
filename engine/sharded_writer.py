"""Writing to a sharded index: each added or deleted document goes to the shard that owns it.

The shard is the one `shard_of` names, so no lookup is needed; each shard commits through its own
IndexWriter (one new generation per changed shard, crash-safe as on any index). A batch is atomic
per shard, not across shards: a writer killed between two shards' commits leaves the first
committed and the second not, each shard whole (as in Elasticsearch). Searches then sum BM25's
statistics over the shards' current generations (braid.engine.sharded.shard_plan), so results
stay equal to one index of the surviving documents.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from braid.engine.writer import CommitReport, CommitsOnExit, IndexWriter, MergePolicy
from braid.indexing.layout import SHARDS_NAME
from braid.indexing.readers import Document
from braid.indexing.shards import ShardLayout, is_sharded, shard_of


class ShardedWriter(CommitsOnExit):
    """The one writer of a sharded index: one IndexWriter (and its lock) per shard."""

    def __init__(self, path: str | Path, policy: MergePolicy | None = None, progress: bool = False, threads: int = 2) -> None:
        self.path = Path(path)
        self.layout = ShardLayout.read(self.path)
        self.writers: list[IndexWriter] = []
        try:
            for folder in self.layout.folders(self.path):
                self.writers.append(IndexWriter(folder, policy, progress, threads))
        except BaseException:
            self.close()
            raise
        self.last_report: CommitReport | None = None
        self._docs = self.layout.docs  # each shard's documents after the last commit

    def add(self, documents: Iterable[Document]) -> None:
        """Queue documents for their shards; one whose id is already there replaces it at commit."""
        for document in documents:
            self.writers[shard_of(document.doc_id, len(self.writers))].add([document])

    def delete(self, doc_ids: Iterable[str]) -> None:
        for doc_id in doc_ids:
            self.writers[shard_of(doc_id, len(self.writers))].delete([doc_id])

    def rollback(self) -> None:
        for writer in self.writers:
            writer.rollback()

    def commit(self) -> CommitReport:
        """Commit every shard's queued changes (shards without any are left as they are)."""
        return self._record(self._combined([writer.commit() for writer in self.writers]))

    def compact(self) -> CommitReport:
        return self._record(self._combined([writer.compact() for writer in self.writers]))

    def _combined(self, reports: list[CommitReport]) -> CommitReport:
        total = CommitReport(max(report.generation for report in reports))
        for report in reports:
            total.added += report.added
            total.replaced += report.replaced
            total.unchanged += report.unchanged
            total.deleted += report.deleted
            total.unknown += report.unknown
            total.encoded += report.encoded
            total.compacted = total.compacted or report.compacted
            total.segments += report.segments
            total.documents += report.documents
            total.seconds = round(total.seconds + report.seconds, 3)
        total.unknown.sort()
        self._docs = tuple(report.documents for report in reports)
        return total

    def _record(self, report: CommitReport) -> CommitReport:
        """Keep shards.json's document counts true (written aside, then renamed over it)."""
        if self._docs != self.layout.docs:
            self.layout = replace(self.layout, docs=self._docs)
            staging = self.path / f".{SHARDS_NAME}.{os.getpid()}"
            self.layout.write(self.path, staging.name)
            os.replace(staging, self.path / SHARDS_NAME)
        return report

    def close(self) -> None:
        for writer in self.writers:
            writer.close()


def open_writer(path: str | Path, policy: MergePolicy | None = None, progress: bool = False, threads: int = 2) -> IndexWriter | ShardedWriter:
    """The writer of the index at `path`: its IndexWriter, or of a sharded index, a ShardedWriter."""
    if is_sharded(path):
        return ShardedWriter(path, policy, progress, threads)
    return IndexWriter(path, policy, progress, threads)
