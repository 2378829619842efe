"""A corpus fingerprint that depends on the documents, not on how the file happens to be serialized."""

from __future__ import annotations

import hashlib

from braid.indexing.readers import Document


class CorpusFingerprint:
    """SHA-256 over (id, title, text) of every document in order; caches and manifests key on it."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.doc_count = 0

    def update(self, document: Document) -> None:
        for part in (document.doc_id, document.title, document.text):
            encoded = part.encode("utf-8")
            # Length prefixes keep ("ab", "c") and ("a", "bc") apart.
            self._hash.update(len(encoded).to_bytes(8, "little"))
            self._hash.update(encoded)
        self.doc_count += 1

    def hexdigest(self) -> str:
        return "sha256:" + self._hash.hexdigest()
