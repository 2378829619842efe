"""The int8 dense query encoder: close to the model's own query vectors on real SciFact queries,
the same vector for a text alone or in a batch, and its quantized model made once into the cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from braid.indexing.config import DenseConfig
from braid.indexing.dense_encoder import DenseEncoder
from braid.indexing.int8_query_encoder import MODEL_FOLDER, Int8QueryEncoder


def _queries(scifact_dir: Path, count: int) -> list[str]:
    with (scifact_dir / "queries.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line)["text"] for _, line in zip(range(count), lines)]


def test_int8_vectors_stay_close_to_the_models_and_do_not_depend_on_the_batch(scifact_dir: Path, embedding_cache_dir: Path) -> None:
    queries = _queries(scifact_dir, 40)
    config = DenseConfig(precision="float32")
    exact = DenseEncoder(config).encode_queries(queries)
    int8 = Int8QueryEncoder(config)
    batch = int8.encode_queries(queries)
    assert batch.shape == exact.shape and batch.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    cosines = np.sum(batch * exact, axis=1)
    # Quantization moves each vector a little (measured: min 0.990, median 0.994 on these queries), never far.
    assert cosines.min() > 0.97 and np.median(cosines) > 0.98, cosines
    alone = np.stack([int8.encode_queries([query])[0] for query in queries[:5]])
    np.testing.assert_array_equal(alone, batch[:5])
    assert int8.encode_queries([]).shape[0] == 0


def test_the_quantized_model_is_made_once_and_reused(scifact_dir: Path, embedding_cache_dir: Path) -> None:
    query = _queries(scifact_dir, 1)
    first = Int8QueryEncoder(DenseConfig()).encode_queries(query)
    made = sorted((embedding_cache_dir / MODEL_FOLDER).glob("*.int8.onnx"))
    assert len(made) == 1
    stamp = made[0].stat().st_mtime_ns
    again = Int8QueryEncoder(DenseConfig()).encode_queries(query)
    assert made[0].stat().st_mtime_ns == stamp
    assert not [path for path in (embedding_cache_dir / MODEL_FOLDER).iterdir() if path.is_dir()]  # no staging left behind
    np.testing.assert_array_equal(first, again)
