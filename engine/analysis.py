"""Anserini's default English analyzer, called from Python: the exact terms Lucene indexes and searches."""

from __future__ import annotations

import threading
from typing import Any

from braid.engine.jvm import java_class


class LuceneAnalyzer:
    """Tokenize, lower-case, drop Lucene's English stopwords and Porter-stem, as IndexCollection does.

    Lucene analyzers are safe to share between threads.
    """

    _shared: LuceneAnalyzer | None = None
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        self._utils: Any = java_class("io.anserini.analysis.AnalyzerUtils")
        self._analyzer: Any = java_class("io.anserini.analysis.DefaultEnglishAnalyzer").newDefaultInstance()

    @classmethod
    def shared(cls) -> LuceneAnalyzer:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def tokens(self, text: str) -> list[str]:
        # toArray() crosses the bridge once; tokens may hold commas, so List.toString() is not safe.
        return list(self._utils.analyze(self._analyzer, text).toArray()) if text.strip() else []
