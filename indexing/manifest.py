"""manifest.json: the single record of how an index was built, so opening it needs no flags."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from braid.fusion.errors import BraidError
from braid.indexing.layout import MANIFEST_NAME, ROOT_SEGMENT

# 1: one build, never written to. 2: adds a generation number and the list of segments with their
# deletions (an index of format 1 reads as one segment with none).
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


def braid_version() -> str:
    try:
        return version("braid")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class RetrieverEntry:
    """One sub-index: its kind, its folder inside the index, and everything needed to query it."""

    kind: str
    path: str
    params: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FileRecord:
    size: int
    sha256: str


@dataclass(frozen=True)
class SegmentEntry:
    """One immutable segment: its folder relative to the index (ROOT_SEGMENT for the top level),
    how many documents it was written with, and the file listing those deleted since (if any)."""

    name: str
    docs: int
    deleted: str | None = None
    deleted_docs: int = 0

    @property
    def live_docs(self) -> int:
        return self.docs - self.deleted_docs

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "docs": self.docs, **({"deleted": self.deleted, "deleted_docs": self.deleted_docs} if self.deleted else {})}


@dataclass(frozen=True)
class Manifest:
    corpus_source: str
    corpus_fingerprint: str
    doc_count: int
    retrievers: dict[str, RetrieverEntry]
    format_version: int = FORMAT_VERSION
    braid_version: str = field(default_factory=braid_version)
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    # Every file of the index (path relative to it) -> its size and SHA-256, recorded at build;
    # empty for indexes built before braid recorded them.
    files: dict[str, FileRecord] = field(default_factory=dict)
    # Each committed write makes a new generation; a fresh build is generation 1 with one segment.
    generation: int = 1
    segments: tuple[SegmentEntry, ...] = ()
    # Metadata field -> type (indexing/metadata.py) over every segment: what filters may test.
    metadata: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.segments:
            object.__setattr__(self, "segments", (SegmentEntry(ROOT_SEGMENT, self.doc_count),))

    @property
    def deleted_docs(self) -> int:
        return sum(segment.deleted_docs for segment in self.segments)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "braid_version": self.braid_version,
            "created_at": self.created_at,
            "corpus": {"source": self.corpus_source, "fingerprint": self.corpus_fingerprint, "doc_count": self.doc_count},
            "retrievers": {
                name: {"kind": entry.kind, "path": entry.path, "params": entry.params, **({"details": entry.details} if entry.details else {})}
                for name, entry in self.retrievers.items()
            },
            "files": {name: {"size": record.size, "sha256": record.sha256} for name, record in self.files.items()},
            "generation": self.generation,
            "segments": [segment.to_dict() for segment in self.segments],
            **({"metadata": self.metadata} if self.metadata else {}),
        }

    def write(self, directory: str | Path) -> None:
        path = Path(directory) / MANIFEST_NAME
        path.write_text(self.to_json(), encoding="utf-8")

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    @classmethod
    def read(cls, directory: str | Path) -> Manifest:
        path = Path(directory) / MANIFEST_NAME
        if not path.is_file():
            raise BraidError(f"{directory} is not a braid index (no {MANIFEST_NAME}); build one with `braid index`")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            found_version = raw["format_version"]
            if found_version not in READABLE_VERSIONS:
                raise BraidError(
                    f"{path}: index format {found_version} is not supported (this braid reads {', '.join(map(str, READABLE_VERSIONS))}); "
                    "rebuild it with `braid index`"
                )
            corpus = raw["corpus"]
            retrievers = {
                name: RetrieverEntry(entry["kind"], entry["path"], dict(entry["params"]), dict(entry.get("details", {})))
                for name, entry in raw["retrievers"].items()
            }
            return cls(
                corpus_source=corpus["source"],
                corpus_fingerprint=corpus["fingerprint"],
                doc_count=int(corpus["doc_count"]),
                retrievers=retrievers,
                format_version=found_version,
                braid_version=raw.get("braid_version", "unknown"),
                created_at=raw.get("created_at", ""),
                files={name: FileRecord(int(record["size"]), str(record["sha256"])) for name, record in raw.get("files", {}).items()},
                generation=int(raw.get("generation", 1)),
                segments=tuple(
                    SegmentEntry(str(entry["name"]), int(entry["docs"]), entry.get("deleted"), int(entry.get("deleted_docs", 0)))
                    for entry in raw.get("segments", ())
                ),
                metadata={str(name): str(kind) for name, kind in raw.get("metadata", {}).items()},
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise BraidError(f"{path}: damaged manifest ({type(error).__name__}: {error})") from error
