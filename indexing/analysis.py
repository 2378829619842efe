"""Anserini's default English analyzer, called from Python: the exact terms Lucene indexes and searches."""

from __future__ import annotations

import threading
from typing import Any

from braid.indexing.jvm import java_class


class LuceneAnalyzer:
    """Tokenize, lower-case, drop Lucene's English stopwords and Porter-stem, as IndexCollection does.

    Calls are serialized: concurrent analyze() calls from several Python threads through the JNI
    bridge raised NullPointerExceptions now and then (seen under 8 concurrent HTTP clients), and one
    call takes tens of microseconds.
    """

    _shared: LuceneAnalyzer | None = None
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        self._utils: Any = java_class("io.anserini.analysis.AnalyzerUtils")
        self._analyzer: Any = java_class("io.anserini.analysis.DefaultEnglishAnalyzer").newDefaultInstance()
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> LuceneAnalyzer:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def tokens(self, text: str) -> list[str]:
        # toArray() crosses the bridge once; tokens may hold commas, so List.toString() is not safe.
        if not text.strip():
            return []
        with self._lock:
            return list(self._utils.analyze(self._analyzer, text).toArray())
