"""The dense model's query side in int8, run by ONNX Runtime (a search-time option: documents stay
encoded as the index was built).

One short query's encoding is a few small matrix products over all of the model's weights, with
nothing to spread over cores. Exported to ONNX once and its linear layers quantized to int8 per
output channel (ONNX Runtime's dynamic quantization), MiniLM encodes one SciFact query in ~2 ms on
one core against ~3.8 ms for bfloat16 torch on two (Intel Xeon with AMX, 2026-12-04); on one core,
so another retriever's encoder can run on the other. What it does to rankings is measured on whole
test sets by `python -m braid.eval.bench_query_encoders` (README, "Cheaper query encoders").

The quantized model is kept in braid's cache, keyed by the model's identity and the versions that
made it, and written whole (a temporary file renamed into place) so concurrent first uses are safe.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from braid.fusion.errors import BraidError
from braid.indexing.config import DenseConfig
from braid.indexing.embedding_cache import cache_root
from braid.indexing.models import model_identity

MODEL_FOLDER = "query-encoders"


class Int8QueryEncoder:
    """`encode_queries` as DenseEncoder's (same prefix, length limit, normalization), in int8."""

    def __init__(self, config: DenseConfig) -> None:
        # The export starts from float32 weights whatever precision documents were encoded in.
        self.config = dataclasses.replace(config, precision="float32")
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._inputs: tuple[str, ...] = ()
        self._loaded: Any = None  # the ONNX Runtime session

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors (float32), one row per text. Each text runs alone, on one thread: int8
        activations are scaled per call, so a text batched with others would come out slightly
        different from the same text searched alone; alone, a run's vectors equal a search's."""
        session = self._session()
        prefix = self.config.query_prefix
        rows = [self._run(session, prefix + text) for text in texts]
        vectors = np.stack(rows).astype(np.float32, copy=False) if rows else np.empty((0, 0), dtype=np.float32)
        if self.config.normalize and len(vectors):
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), np.float32(1e-12))
        return vectors

    def _run(self, session: Any, text: str) -> np.ndarray:
        features = self._tokenizer([text], truncation=True, max_length=self.config.max_seq_length, return_tensors="np")
        return np.asarray(session.run(None, {name: np.asarray(features[name], dtype=np.int64) for name in self._inputs})[0][0])

    def _session(self) -> Any:
        with self._lock:
            if self._loaded is None:
                import onnxruntime
                from transformers import AutoTokenizer

                from braid.indexing.dense_encoder import DenseEncoder

                encoder = DenseEncoder(self.config)
                self._tokenizer = AutoTokenizer.from_pretrained(encoder.resolved)
                path = self._model_file(encoder)
                options = onnxruntime.SessionOptions()
                # One core: a short query gains little from two, and the other is free for another retriever.
                options.intra_op_num_threads = 1
                options.inter_op_num_threads = 1
                self._loaded = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            return self._loaded

    def _model_file(self, encoder: Any) -> Path:
        """The quantized model of `encoder` (a DenseEncoder, not loaded unless it must be exported):
        from the cache, else exported and quantized now (a few seconds)."""
        path = cache_root() / MODEL_FOLDER / f"{_model_key(encoder.resolved)}.int8.onnx"
        inputs_file = path.with_suffix(".inputs.json")
        if not path.exists() or not inputs_file.exists():
            _export_quantized(encoder, path, inputs_file)
        self._inputs = tuple(json.loads(inputs_file.read_text(encoding="utf-8")))
        return path


def _model_key(resolved: str) -> str:
    import onnxruntime
    import torch

    described = {"model": model_identity(resolved), "torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "version": 1}
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:24]


def _export_quantized(encoder: Any, path: Path, inputs_file: Path) -> None:
    """Export the float32 sentence-transformers model (transformer, pooling, normalization) to
    ONNX, quantize its weights to int8 per output channel, and move both files into place."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = encoder._loaded()
    prepare = getattr(model, "preprocess", None) or model.tokenize
    example = dict(prepare(["an example query for export"]))
    names = sorted(key for key, value in example.items() if isinstance(value, torch.Tensor))
    fixed = {key: value for key, value in example.items() if key not in names}

    class Positional(torch.nn.Module):
        def __init__(self, wrapped: Any) -> None:
            super().__init__()
            self.wrapped = wrapped

        def forward(self, *tensors: Any) -> Any:
            return self.wrapped({**fixed, **dict(zip(names, tensors))})["sentence_embedding"]

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=path.parent) as staging:
            float_file = Path(staging) / "float32.onnx"
            int8_file = Path(staging) / "int8.onnx"
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    Positional(model).eval(),
                    tuple(example[name] for name in names),
                    str(float_file),
                    input_names=names,
                    output_names=["embedding"],
                    dynamic_axes={name: {0: "batch", 1: "tokens"} for name in names},
                    dynamo=False,
                    opset_version=17,
                )
            logging.disable(logging.WARNING)  # ONNX Runtime suggests its pre-processing step on every call
            try:
                quantize_dynamic(str(float_file), str(int8_file), weight_type=QuantType.QInt8, per_channel=True)
            finally:
                logging.disable(logging.NOTSET)
            listed = Path(staging) / "inputs.json"
            listed.write_text(json.dumps(names), encoding="utf-8")
            os.replace(listed, inputs_file)
            os.replace(int8_file, path)
    except (OSError, RuntimeError, ValueError) as error:
        raise BraidError(f"could not make the int8 query encoder of {encoder.config.model!r}: {' '.join(str(error).split())[:300]}") from error
