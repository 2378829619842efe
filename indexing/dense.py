"""Build the dense sub-index: document vectors (cached) and an HNSW graph over them (hnswlib)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from braid.indexing.build_context import BuildContext
from braid.indexing.config import DenseConfig
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.embedding_cache import EmbeddingCache, cache_key, load_or_encode
from braid.indexing.layout import EMBEDDINGS_FILE, HNSW_FILE
from braid.indexing.manifest import RetrieverEntry
from braid.indexing.models import model_identity
from braid.indexing.readers import Document
from braid.indexing.text_chunks import text_chunks
from braid.indexing.vector_files import place_given_vectors

_HNSW_SEED = 100


def build_hnsw(vectors: np.ndarray, config: DenseConfig, threads: int) -> Any:
    import hnswlib

    graph = hnswlib.Index(space="ip", dim=vectors.shape[1])
    graph.init_index(max_elements=max(len(vectors), 1), ef_construction=config.ef_construction, M=config.hnsw_m, random_seed=_HNSW_SEED)
    graph.add_items(vectors, np.arange(len(vectors)), num_threads=threads)
    return graph


class DenseBuilder:
    name = "dense"

    def __init__(self, index_root: Path, config: DenseConfig, threads: int = 2, cache: EmbeddingCache | None = None) -> None:
        self._folder = index_root / self.name
        self._folder.mkdir()
        self._config = config.with_concrete_precision()
        self._threads = threads
        self._cache = cache or EmbeddingCache()

    def add(self, document: Document) -> None:
        """Encoding waits for finish(): it reads the docstore back in bounded chunks."""

    def finish(self, context: BuildContext) -> RetrieverEntry:
        encoder = DenseEncoder(self._config)
        started = time.perf_counter()
        reused = context.reuse.get(self.name)
        given = context.given.get(self.name)
        made_by: dict[str, Any] | None = None
        if reused is not None:  # merging segments: their stored vectors
            vectors, source = np.ascontiguousarray(reused, dtype=np.float32), "segments"
        elif given is not None:  # made elsewhere: checked, then laid out in corpus order
            made_by = place_given_vectors(given, context.doc_ids(), self._config, encoder.dimension, self._folder / EMBEDDINGS_FILE)
            vectors, source = np.load(self._folder / EMBEDDINGS_FILE, mmap_mode="r"), "given"
        else:
            key = cache_key("dense", model_identity(encoder.resolved), self._config.encoding_settings(), context.fingerprint)
            vectors, cached = load_or_encode(self._cache, key, context.doc_count, lambda: self._encode_corpus(encoder, context))
            source = "cache" if cached else "encoded"
        if source in ("segments", "cache"):  # encoded and given vectors are written into the index folder as they go
            np.save(self._folder / EMBEDDINGS_FILE, vectors)
        encode_seconds = time.perf_counter() - started
        started = time.perf_counter()
        build_hnsw(np.asarray(vectors), self._config, self._threads).save_index(str(self._folder / HNSW_FILE))
        return RetrieverEntry(
            kind="dense",
            path=self.name,
            params={**self._config.to_dict(), "dimension": int(vectors.shape[1])},
            details={
                "model_path": encoder.resolved,
                "vectors": source,
                **({"vectors_file": str(given), "vectors_made_with": made_by} if made_by is not None else {}),
                "encode_seconds": round(encode_seconds, 2),
                "docs_per_second": round(context.doc_count / encode_seconds, 1) if source == "encoded" else None,
                "hnsw_seconds": round(time.perf_counter() - started, 2),
            },
        )

    def _encode_corpus(self, encoder: DenseEncoder, context: BuildContext) -> np.ndarray:
        vectors = np.lib.format.open_memmap(self._folder / EMBEDDINGS_FILE, mode="w+", dtype=np.float32, shape=(context.doc_count, encoder.dimension))
        written = 0
        documents = context.document_encoder(encoder)
        for chunk in text_chunks(context, "dense"):
            vectors[written : written + len(chunk)] = documents.encode_documents(chunk)
            written += len(chunk)
        vectors.flush()
        return vectors
