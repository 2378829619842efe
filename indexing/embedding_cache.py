"""Document vectors cached on disk by (model, encoding settings, corpus fingerprint).

Encoding is the expensive step of building an index, so rebuilding an unchanged corpus, or
building HNSW variants of it, must never encode it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import scipy.sparse as sp

from braid.indexing.arrays import load_array

CACHE_ENV = "BRAID_CACHE"

Vectors = TypeVar("Vectors", np.ndarray, sp.csr_matrix)


def cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "braid"


def cache_key(kind: str, model_identity: str, settings: dict[str, Any], corpus_fingerprint: str) -> str:
    blob = json.dumps({"kind": kind, "model": model_identity, "settings": settings, "corpus": corpus_fingerprint}, sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


class EmbeddingCache:
    def __init__(self, root: Path | None = None) -> None:
        self.folder = (root or cache_root()) / "embeddings"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npy"

    def load(self, key: str, rows: int) -> np.ndarray | None:
        path = self.path(key)
        if not path.is_file():
            return None
        vectors = load_array(path, mmap=True)
        return vectors if vectors.shape[0] == rows else None

    def store(self, key: str, vectors: np.ndarray) -> None:
        self._write(self.path(key), lambda temporary: np.save(temporary, np.ascontiguousarray(vectors, dtype=np.float32)))

    def sparse_path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def load_sparse(self, key: str, rows: int) -> sp.csr_matrix | None:
        path = self.sparse_path(key)
        if not path.is_file():
            return None
        vectors = sp.load_npz(path).tocsr()
        return vectors if vectors.shape[0] == rows else None

    def store_sparse(self, key: str, vectors: sp.csr_matrix) -> None:
        self._write(self.sparse_path(key), lambda temporary: sp.save_npz(temporary, vectors.tocsr(), compressed=False))

    def _write(self, path: Path, write: Callable[[Path], None]) -> None:
        """Written to a temporary name and renamed, so a crash never leaves a truncated entry."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / f".{path.stem}.{uuid.uuid4().hex[:8]}{path.suffix}"
        write(temporary)
        temporary.rename(path)


def load_or_encode(cache: EmbeddingCache, key: str, rows: int, encode: Callable[[], Vectors], sparse: bool = False) -> tuple[Vectors, bool]:
    """A corpus's `rows` document vectors under `key` (see cache_key) from the cache, else `encode()`d
    and stored there; and whether they came from the cache. `sparse` vectors (CSR) are kept as .npz."""
    cached = cache.load_sparse(key, rows) if sparse else cache.load(key, rows)
    if cached is not None:
        return cast(Vectors, cached), True
    vectors = encode()
    if sparse:
        cache.store_sparse(key, vectors)
    else:
        cache.store(key, vectors)
    return vectors, False
