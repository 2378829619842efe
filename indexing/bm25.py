"""Build the BM25 sub-index: Anserini's own Lucene index, exactly as its BEIR "flat" runs do, plus a
term x document matrix of the same analyzed tokens for fast bulk scoring (see engine/lucene_bm25.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TextIO

from braid.fusion.errors import BraidError, DataError
from braid.indexing.analysis import LuceneAnalyzer
from braid.indexing.build_context import BuildContext
from braid.indexing.config import BM25Config
from braid.indexing.jvm import java_class
from braid.indexing.layout import LUCENE_FOLDER
from braid.indexing.manifest import RetrieverEntry
from braid.indexing.readers import Document
from braid.indexing.term_docs import TermDocWriter

_SHARD_SIZE = 100_000  # docs per staged file; Anserini indexes files in parallel


def bm25_contents(document: Document) -> str:
    """Anserini's BEIR flat field: title and text in one field (published numbers depend on it)."""
    return f"{document.title} {document.text}"


# braid's term-matrix statistic -> the Lucene index statistic that must equal it.
_MATCHING_STATS = {"doc_count": "non_empty_documents", "total_terms": "total_terms", "vocabulary": "unique_terms"}


def check_term_matrix(matrix_stats: dict[str, int], lucene_stats: dict[str, int]) -> None:
    """Fail when braid's term matrix and Lucene's index disagree (the two must score alike).

    Only what Lucene states is compared: it reports -1 for a statistic it cannot give cheaply, such as
    unique terms over an index of several segments (any large corpus), which is no disagreement.
    """
    stated = {mine: lucene_stats[theirs] for mine, theirs in _MATCHING_STATS.items() if lucene_stats[theirs] >= 0}
    found = {name: matrix_stats[name] for name in stated}
    if found != stated:
        raise BraidError(f"braid's term matrix disagrees with Lucene's index statistics: {found} vs {stated}")


class BM25Builder:
    """Stage documents as Anserini JsonCollection files, then run IndexCollection over them."""

    name = "bm25"

    def __init__(self, index_root: Path, config: BM25Config, threads: int = 2) -> None:
        self._folder = index_root / self.name
        self._folder.mkdir()
        self._index_path = self._folder / LUCENE_FOLDER
        self._input = index_root / "_bm25_input"
        self._input.mkdir()
        self._analyzer = LuceneAnalyzer.shared()
        self._term_docs = TermDocWriter(spill=self._folder / "_postings")
        self._config = config
        self._threads = threads
        self._handle: TextIO | None = None
        self._count = 0

    def add(self, document: Document) -> None:
        if self._count % _SHARD_SIZE == 0:
            self._close_shard()
            self._handle = (self._input / f"part-{self._count // _SHARD_SIZE:05d}.jsonl").open("w", encoding="utf-8")
        assert self._handle is not None
        contents = bm25_contents(document)
        self._handle.write(json.dumps({"id": document.doc_id, "contents": contents}) + "\n")
        self._term_docs.add(self._analyzer.tokens(contents))
        self._count += 1

    def _close_shard(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def finish(self, context: BuildContext) -> RetrieverEntry:
        self._close_shard()
        indexer = java_class("io.anserini.index.IndexCollection")
        indexer.main([
            "-collection", "JsonCollection",
            "-generator", "DefaultLuceneDocumentGenerator",
            "-input", str(self._input),
            "-index", str(self._index_path),
            "-threads", str(self._threads),
            # No positions or document vectors: BM25's scores and Lucene's statistics need neither,
            # and leaving them out roughly halves the index (braid has no phrase or RM3 search).
            "-quiet",
        ])  # fmt: skip
        shutil.rmtree(self._input)
        lucene = self._lucene_stats()
        matrix_stats = self._term_docs.save(self._folder)
        if matrix_stats["total_terms"] == 0:
            raise DataError(context.corpus_path, None, "no document has an indexable word (every title and text is empty or stopwords only)")
        check_term_matrix(matrix_stats, lucene)
        indexed = lucene["documents"]
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
                "lucene_index": LUCENE_FOLDER,
                "term_matrix": matrix_stats,
            },
        )

    def _lucene_stats(self) -> dict[str, int]:
        if not any(self._index_path.glob("segments_*")):
            raise BraidError(f"Lucene produced no index at {self._index_path}; see the Java log above")
        utils = java_class("io.anserini.index.IndexReaderUtils")
        reader = utils.getReader(str(self._index_path))
        try:
            stats = utils.getIndexStats(reader)
            return {str(key): int(stats.get(key)) for key in stats.keySet().toArray()}
        finally:
            reader.close()
