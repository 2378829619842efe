"""What every sub-index builder learns once the corpus has streamed past."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class BuildContext:
    staging: Path
    docstore_path: Path
    corpus_path: Path  # for errors that are the data's fault
    fingerprint: str
    doc_count: int
    progress: bool
    # Vectors already made for exactly these documents, in order, by retriever name (a compaction
    # merging segments passes them, so nothing is encoded twice): dense float32 rows, splade an ImpactMatrix.
    reuse: Mapping[str, Any] = field(default_factory=dict)
    # Vector files made elsewhere, by retriever name (`braid index --dense-vectors / --splade-vectors`), used instead of encoding.
    given: Mapping[str, Path] = field(default_factory=dict)

    def doc_ids(self) -> list[str]:
        """The corpus's ids in docstore order: the order of every sub-index's rows."""
        from braid.indexing.docstore import DocStore

        store = DocStore(self.docstore_path)
        try:
            return store.ids()
        finally:
            store.close()
