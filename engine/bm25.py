"""BM25 over the Lucene sub-index, with two paths chosen by batch size.

A few queries go through Anserini's searcher one by one (lowest latency). Larger batches go
through Anserini's SearchCollection, which runs the whole batch on Java threads and writes a run
file: moving hits across the Python/Java bridge costs ~35 µs each, reading them from a file ~1 µs.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from braid.engine.config import BM25Config
from braid.engine.jvm import java_class
from braid.engine.retriever import Ranking

# Below this many queries the per-query path is faster than starting a SearchCollection run.
BATCH_PATH_MIN_QUERIES = 32
# Queries per SearchCollection call: bounds the Java heap a single call can fill.
BATCH_CHUNK = 2000

_WHITESPACE = re.compile(r"\s+")


class BM25Retriever:
    name = "bm25"

    def __init__(self, index_path: str | Path, config: BM25Config = BM25Config(), threads: int = 2) -> None:
        self.index_path = Path(index_path)
        self.config = config
        self.threads = threads
        self._searcher: Any = None
        self._lock = threading.Lock()

    def _simple_searcher(self) -> Any:
        with self._lock:
            if self._searcher is None:
                searcher = java_class("io.anserini.search.SimpleSearcher")(str(self.index_path))
                searcher.set_bm25(float(self.config.k1), float(self.config.b))
                self._searcher = searcher
            return self._searcher

    def search(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        if depth <= 0 or not queries:
            return [[] for _ in queries]
        if len(queries) < BATCH_PATH_MIN_QUERIES:
            return [self._search_one(query, depth) for query in queries]
        results: list[Ranking] = []
        for start in range(0, len(queries), BATCH_CHUNK):
            results.extend(self._search_batch(queries[start : start + BATCH_CHUNK], depth))
        return results

    def _search_one(self, query: str, depth: int) -> Ranking:
        text = _WHITESPACE.sub(" ", query).strip()
        if not text:
            return []
        # Rounded as SearchCollection prints them, so both paths return identical scores.
        return [(hit.docid, round(float(hit.score), 6)) for hit in self._simple_searcher().search(text, depth)]

    def _search_batch(self, queries: Sequence[str], depth: int) -> list[Ranking]:
        """Run Anserini's SearchCollection over a temporary topics file.

        Topics get synthetic ids 0..n-1 so that any query id or text survives the TSV round trip.
        """
        with tempfile.TemporaryDirectory(prefix="braid-bm25-") as scratch:
            topics = Path(scratch) / "topics.tsv"
            output = Path(scratch) / "run.txt"
            with topics.open("w", encoding="utf-8") as handle:
                for position, query in enumerate(queries):
                    text = _WHITESPACE.sub(" ", query).strip()
                    if text:
                        handle.write(f"{position}\t{text}\n")
            args = java_class("io.anserini.search.SearchCollection$Args")()
            java_class("org.kohsuke.args4j.CmdLineParser")(args).parseArgument(
                "-index", str(self.index_path),
                "-topics", str(topics),
                "-topicReader", "TsvString",
                "-output", str(output),
                "-bm25", "-bm25.k1", repr(float(self.config.k1)), "-bm25.b", repr(float(self.config.b)),
                "-hits", str(depth),
                "-threads", str(self.threads),
            )  # fmt: skip
            collection = java_class("io.anserini.search.SearchCollection")(args)
            try:
                collection.run()
            finally:
                collection.close()
            results: list[Ranking] = [[] for _ in queries]
            if output.exists():
                with output.open("r", encoding="utf-8") as handle:
                    for line in handle:
                        position, _, doc_id, _, score, _ = line.split()
                        results[int(position)].append((doc_id, float(score)))
            return results

    def close(self) -> None:
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
                self._searcher = None
