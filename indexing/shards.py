"""A sharded index: N complete braid indexes (shards) in one directory, described by shards.json.

Each document lives in the shard a hash of its id names (shard_of), so a write finds its owner
without a lookup. Beside the shards lie the corpus-wide statistics BM25 needs (term_statistics), so
each shard scores as the whole corpus. Searching scatters a query to every shard and merges their
lists (braid.engine.sharded).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from braid.fusion.errors import BraidError
from braid.indexing.layout import SHARDS_NAME, STATISTICS_FOLDER
from braid.indexing.manifest import Manifest

SHARDS_FORMAT = 1


def shard_of(doc_id: str, shards: int) -> int:
    """The shard that owns `doc_id`: the same on every machine and Python (unlike hash())."""
    return zlib.crc32(doc_id.encode("utf-8")) % shards


def is_sharded(path: str | Path) -> bool:
    return (Path(path) / SHARDS_NAME).is_file()


def statistics_path(root: Path, retriever: str) -> Path:
    return root / STATISTICS_FOLDER / retriever


def index_manifest(path: str | Path) -> Manifest:
    """The manifest of the index at `path`; of a sharded index, its first shard's (what it holds and
    how it was built are the same in every shard)."""
    if is_sharded(path):
        return Manifest.read(ShardLayout.read(path).folders(path)[0])
    return Manifest.read(path)


@dataclass(frozen=True)
class ShardLayout:
    """The shards' folders (relative to the directory), their document counts, and where they came from."""

    shards: tuple[str, ...]
    docs: tuple[int, ...]
    source: str
    statistics: tuple[str, ...] = ()  # retrievers with corpus-wide statistics under statistics/
    format_version: int = SHARDS_FORMAT

    @property
    def doc_count(self) -> int:
        return sum(self.docs)

    def folders(self, root: str | Path) -> list[Path]:
        return [Path(root) / name for name in self.shards]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "shards": [{"folder": name, "docs": docs} for name, docs in zip(self.shards, self.docs)],
            "source": self.source,
            "statistics": list(self.statistics),
            "assignment": "crc32(doc id) mod shards",
        }

    def write(self, root: Path, name: str = SHARDS_NAME) -> None:
        (root / name).write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, root: str | Path) -> ShardLayout:
        path = Path(root) / SHARDS_NAME
        if not path.is_file():
            raise BraidError(f"{root} is not a sharded braid index (no {SHARDS_NAME}); make one with `braid shard`")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw["format_version"] != SHARDS_FORMAT:
                raise BraidError(f"{path}: shard layout format {raw['format_version']} is not supported (this braid reads {SHARDS_FORMAT})")
            shards = raw["shards"]
            return cls(
                tuple(str(shard["folder"]) for shard in shards),
                tuple(int(shard["docs"]) for shard in shards),
                str(raw["source"]),
                tuple(str(name) for name in raw.get("statistics", ())),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
            raise BraidError(f"{path}: damaged shard layout ({type(error).__name__}: {error})") from None
