"""Anserini's default English analyzer, called from Python: the exact terms Lucene indexes and searches."""

from __future__ import annotations

import threading
from typing import Any

from braid.indexing.jvm import java_class

_SEPARATOR = "\u0001"


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
        self._string: Any = java_class("java.lang.String")
        from jnius import cast  # only once java_class has started the JVM with braid's settings

        self._separator: Any = cast("java.lang.CharSequence", self._string(_SEPARATOR))
        self._cast = cast
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> LuceneAnalyzer:
        with cls._shared_lock:
            if cls._shared is None:
                cls._shared = cls()
            return cls._shared

    def tokens(self, text: str) -> list[str]:
        # The tokens cross the bridge as one string, joined in Java by a control character no token
        # can hold (the tokenizer breaks on it): 2.4x faster than converting each Java string (a
        # third of a BM25 build). Tokens may hold commas, so List.toString() is not safe.
        if not text.strip():
            return []
        with self._lock:
            found = self._utils.analyze(self._analyzer, text)
            joined = self._string.join(self._separator, self._cast("java.lang.Iterable", found))
        return joined.split(_SEPARATOR) if joined else []
