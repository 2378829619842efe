"""The index's own copy of every document (id, title, text, metadata), by id and by build order.

Kept apart from Lucene so that any retriever (dense, HTTP /doc) can show titles and text, and so
that encoders can re-read the corpus in length order without holding it in memory.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from braid.indexing.readers import Document

_BATCH = 2000


class DocStoreWriter:
    def __init__(self, path: str | Path) -> None:
        self._connection = sqlite3.connect(str(path))
        self._connection.execute("PRAGMA journal_mode=OFF")
        self._connection.execute("PRAGMA synchronous=OFF")
        self._connection.execute(
            "CREATE TABLE docs (ordinal INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, text TEXT NOT NULL, metadata TEXT)"
        )
        self._pending: list[tuple[int, str, str, str, str | None]] = []
        self.count = 0

    def add(self, document: Document) -> None:
        metadata = json.dumps(document.metadata, ensure_ascii=False) if document.metadata else None
        self._pending.append((self.count, document.doc_id, document.title, document.text, metadata))
        self.count += 1
        if len(self._pending) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        self._connection.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", self._pending)
        self._pending.clear()

    def close(self) -> None:
        self._flush()
        self._connection.commit()
        self._connection.close()


class DocStore:
    """Read-only, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self._connection = sqlite3.connect(f"file:{Path(path).absolute()}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        columns = {row[1] for row in self._connection.execute("PRAGMA table_info(docs)")}
        # Docstores written before metadata existed have no such column: their documents have none.
        self._fields = "id, title, text, metadata" if "metadata" in columns else "id, title, text, NULL"

    def ids(self) -> list[str]:
        """Every doc id, by ordinal (the column order of braid's matrices)."""
        with self._lock:
            return [row[0] for row in self._connection.execute("SELECT id FROM docs ORDER BY ordinal")]

    def get(self, doc_id: str) -> Document | None:
        with self._lock:
            row = self._connection.execute(f"SELECT {self._fields} FROM docs WHERE id = ?", (doc_id,)).fetchone()
        return _document(row) if row else None

    def titles(self, doc_ids: Iterable[str]) -> dict[str, str]:
        return self._column(doc_ids, "title")

    def snippets(self, doc_ids: Iterable[str], length: int = 300) -> dict[str, str]:
        """The first `length` characters of each found document's text."""
        return self._column(doc_ids, f"substr(text, 1, {int(length)})")

    def _column(self, doc_ids: Iterable[str], column: str) -> dict[str, str]:
        wanted = list(dict.fromkeys(doc_ids))
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                marks = ",".join("?" * len(chunk))
                found.update(self._connection.execute(f"SELECT id, {column} FROM docs WHERE id IN ({marks})", chunk).fetchall())
        return found

    def __iter__(self) -> Iterator[Document]:
        """All documents in build order (a separate cursor; does not hold the corpus in memory)."""
        with self._lock:
            cursor = self._connection.cursor()
            cursor.execute(f"SELECT {self._fields} FROM docs ORDER BY ordinal")
        while True:
            with self._lock:
                rows = cursor.fetchmany(_BATCH)
            if not rows:
                return
            yield from (_document(row) for row in rows)

    def close(self) -> None:
        self._connection.close()


def _document(row: tuple[str, str, str, str | None]) -> Document:
    doc_id, title, text, metadata = row
    return Document(doc_id, title, text, json.loads(metadata) if metadata else None)
