"""What every sub-index builder learns once the corpus has streamed past."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from braid.indexing.host import use_torch_threads


class DocumentEncoding(Protocol):
    """Encodes documents somewhere other than this process (braid.indexing.ray_encoding.RayEncoding)."""

    def wrap(self, local: Any) -> Any:
        """An object whose `encode_documents` gives what `local.encode_documents` would."""
        ...


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
    # Where documents are encoded when not here (e.g. a Ray cluster); None: in this process.
    encoding: DocumentEncoding | None = None

    def document_encoder(self, local: Any) -> Any:
        """What encodes this build's documents: `local` (on every core of this thread), or its twin
        on the encoding's workers."""
        if self.encoding is None:
            use_torch_threads()  # documents are encoded in batches that spread over every core
            return local
        return self.encoding.wrap(local)

    def doc_ids(self) -> list[str]:
        """The corpus's ids in docstore order: the order of every sub-index's rows."""
        from braid.indexing.docstore import DocStore

        store = DocStore(self.docstore_path)
        try:
            return store.ids()
        finally:
            store.close()
