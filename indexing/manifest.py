"""manifest.json: the single record of how an index was built, so opening it needs no flags."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from braid.fusion.errors import BraidError
from braid.indexing.layout import MANIFEST_NAME

FORMAT_VERSION = 1


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
        }

    def write(self, directory: str | Path) -> None:
        path = Path(directory) / MANIFEST_NAME
        path.write_text(json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, directory: str | Path) -> Manifest:
        path = Path(directory) / MANIFEST_NAME
        if not path.is_file():
            raise BraidError(f"{directory} is not a braid index (no {MANIFEST_NAME}); build one with `braid index`")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            found_version = raw["format_version"]
            if found_version != FORMAT_VERSION:
                raise BraidError(f"{path}: index format {found_version} is not supported (this braid reads {FORMAT_VERSION}); rebuild it")
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
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise BraidError(f"{path}: damaged manifest ({type(error).__name__}: {error})") from error
