"""A sentence-transformers bi-encoder, loaded once, with braid's prefixes, length limit and batching."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from braid.indexing.config import DenseConfig
from braid.indexing.models import load_on_cpu, resolve_model
from braid.indexing.traced import SingleTextTrace


class DenseEncoder:
    """bfloat16 runs the model's matrix products on the CPU's bf16 units (about 3x faster than
    float32 on AMX machines, cosine to float32 vectors >= 0.9999); vectors come back as float32."""

    def __init__(self, config: DenseConfig) -> None:
        config = config.with_concrete_precision()
        self.config = config
        self.resolved = resolve_model(config.model)
        self._model: Any = None
        self._trace: Any = None
        self._lock = threading.Lock()

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                model = load_on_cpu(SentenceTransformer, self.resolved, self.config.model, self.config.precision)
                model.max_seq_length = self.config.max_seq_length
                self._model = model
                self._trace = SingleTextTrace(model, lambda module, features: module(features)["sentence_embedding"], f"dense model {self.config.model}")
            return self._model

    @property
    def dimension(self) -> int:
        model = self._loaded()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _encode(self, texts: Sequence[str], prefix: str, progress: bool) -> np.ndarray:
        model = self._loaded()
        # sentence-transformers sorts each call's texts by length, so batches carry little padding.
        vectors = model.encode(
            [prefix + text for text in texts],
            batch_size=self.config.batch_size,
            normalize_embeddings=self.config.normalize,
            convert_to_numpy=True,
            show_progress_bar=progress,
        )
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
        if self.config.normalize:  # again in float32: bfloat16 normalization leaves norms ~1e-3 off
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.float32(1e-12))
        return vectors

    def encode_documents(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        return self._encode(texts, self.config.doc_prefix, progress)

    def batch_plan(self, texts: Sequence[str]) -> list[np.ndarray]:
        """The positions of `texts` each forward pass of encode_documents takes, in order: the
        batches sentence-transformers makes (texts sorted by length, longest first). Another process
        encoding exactly these batches pads them alike (braid.indexing.ray_encoding)."""
        order = np.argsort([-len(self.config.doc_prefix + text) for text in texts])
        return [order[start : start + self.config.batch_size] for start in range(0, len(texts), self.config.batch_size)]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1:
            traced = self._encode_one_traced(self.config.query_prefix + texts[0])
            if traced is not None:
                return traced
        return self._encode(texts, self.config.query_prefix, False)

    def _encode_one_traced(self, text: str) -> np.ndarray | None:
        model = self._loaded()
        prepare = getattr(model, "preprocess", None) or model.tokenize
        features = dict(prepare([text]))
        output = self._trace(features)
        if output is None:
            return None
        vector = output.float().numpy().reshape(1, -1).astype(np.float32)
        if self.config.normalize:
            vector /= np.maximum(np.linalg.norm(vector, axis=1, keepdims=True), np.float32(1e-12))
        return vector
