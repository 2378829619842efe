"""Build the BM25 sub-index with Anserini's own indexer, exactly as its BEIR "flat" runs do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TextIO

from braid.engine.config import BM25Config
from braid.engine.errors import BraidError
from braid.engine.jvm import java_class
from braid.indexing.manifest import RetrieverEntry
from braid.indexing.readers import Document

_SHARD_SIZE = 100_000  # docs per staged file; Anserini indexes files in parallel


def bm25_contents(document: Document) -> str:
    """Anserini's BEIR flat field: title and text in one field (published numbers depend on it)."""
    return f"{document.title} {document.text}"


class BM25Builder:
    """Stage documents as Anserini JsonCollection files, then run IndexCollection over them."""

    name = "bm25"

    def __init__(self, index_root: Path, config: BM25Config, threads: int = 2) -> None:
        self._index_path = index_root / self.name
        self._input = index_root / "_bm25_input"
        self._input.mkdir()
        self._config = config
        self._threads = threads
        self._handle: TextIO | None = None
        self._count = 0

    def add(self, document: Document) -> None:
        if self._count % _SHARD_SIZE == 0:
            self._close_shard()
            self._handle = (self._input / f"part-{self._count // _SHARD_SIZE:05d}.jsonl").open("w", encoding="utf-8")
        assert self._handle is not None
        self._handle.write(json.dumps({"id": document.doc_id, "contents": bm25_contents(document)}) + "\n")
        self._count += 1

    def _close_shard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def finish(self) -> RetrieverEntry:
        self._close_shard()
        indexer = java_class("io.anserini.index.IndexCollection")
        indexer.main([
            "-collection", "JsonCollection",
            "-generator", "DefaultLuceneDocumentGenerator",
            "-input", str(self._input),
            "-index", str(self._index_path),
            "-threads", str(self._threads),
            "-storePositions", "-storeDocvectors",
            "-quiet",
        ])  # fmt: skip
        shutil.rmtree(self._input)
        indexed = self._indexed_count()
        return RetrieverEntry(
            kind="bm25",
            path=self.name,
            params=self._config.to_dict(),
            details={
                "engine": "lucene (anserini IndexCollection)",
                "contents": "title + ' ' + text",
                "analyzer": "anserini default english (porter stemmer, stopwords)",
                # Anserini skips documents whose contents are blank; they cannot match any query.
                "indexed_docs": indexed,
            },
        )

    def _indexed_count(self) -> int:
        if not any(self._index_path.glob("segments_*")):
            raise BraidError(f"Lucene produced no index at {self._index_path}; see the Java log above")
        reader = java_class("io.anserini.index.IndexReaderUtils").getReader(str(self._index_path))
        try:
            return int(reader.numDocs())
        finally:
            reader.close()
