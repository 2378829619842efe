"""What every sub-index builder learns once the corpus has streamed past."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BuildContext:
    staging: Path
    docstore_path: Path
    corpus_path: Path  # for errors that are the data's fault
    fingerprint: str
    doc_count: int
    progress: bool
