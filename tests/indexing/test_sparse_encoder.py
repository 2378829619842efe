"""braid's memory-bounded SPLADE encoder against sentence-transformers' SparseEncoder on real documents."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from braid.engine import BraidError
from braid.indexing.config import SpladeConfig
from braid.indexing.readers import read_corpus
from braid.indexing.sparse_encoder import SpladeEncoder
from braid.indexing.text_chunks import encoder_text


@pytest.fixture(scope="module")
def texts(scifact_small: Path) -> list[str]:
    return [encoder_text(document) for document in read_corpus(scifact_small / "corpus.jsonl")][:48]


@pytest.fixture(scope="module")
def float32_vectors(texts: list[str]) -> np.ndarray:
    return SpladeEncoder(SpladeConfig(precision="float32")).encode_documents(texts).toarray()


def test_float32_vectors_equal_sentence_transformers(texts: list[str], float32_vectors: np.ndarray) -> None:
    from sentence_transformers import SparseEncoder

    encoder = SpladeEncoder(SpladeConfig(precision="float32"))
    reference = SparseEncoder(encoder.resolved, device="cpu")
    reference.max_seq_length = 256
    expected = reference.encode(texts, batch_size=16, convert_to_tensor=True).to_dense().numpy()
    assert float32_vectors.shape == expected.shape == (48, 30522)
    assert np.abs(float32_vectors - expected).max() < 1e-4
    assert ((float32_vectors > 0) == (expected > 0)).mean() > 0.9999


def test_batch_size_and_order_do_not_change_vectors(texts: list[str], float32_vectors: np.ndarray) -> None:
    reordered = texts[::-1]
    vectors = SpladeEncoder(SpladeConfig(precision="float32", batch_size=5)).encode_documents(reordered).toarray()
    assert np.allclose(vectors[::-1], float32_vectors, atol=1e-5)


def test_bfloat16_vectors_agree_with_float32(texts: list[str], float32_vectors: np.ndarray) -> None:
    vectors = SpladeEncoder(SpladeConfig(precision="bfloat16")).encode_documents(texts).toarray()
    cosine = (vectors * float32_vectors).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(float32_vectors, axis=1)
    assert cosine.min() > 0.995


def test_vocabulary_maps_columns_to_tokens() -> None:
    encoder = SpladeEncoder(SpladeConfig(precision="float32"))
    vector = encoder.encode_queries(["vitamin deficiency"])
    heaviest = [encoder.vocabulary[i] for i in vector.indices[np.argsort(-vector.data)][:5]]
    assert "vitamin" in heaviest and "deficiency" in heaviest
    assert len(encoder.vocabulary) == 30522 and encoder.vocabulary[0] == "[PAD]"


def test_a_model_without_a_masked_language_model_head_is_refused() -> None:
    encoder = SpladeEncoder(SpladeConfig(model="sentence-transformers/all-MiniLM-L6-v2"))
    with pytest.raises(BraidError, match="not a SPLADE model"):
        encoder.encode_queries(["anything"])


def test_empty_input_gives_an_empty_matrix() -> None:
    assert SpladeEncoder(SpladeConfig(precision="float32")).encode_documents([]).shape == (0, 30522)


def test_single_query_trace_equals_the_eager_batch(texts: list[str]) -> None:
    encoder = SpladeEncoder(SpladeConfig(precision="float32"))
    queries = [text[:80] for text in texts[:12]]
    batch = encoder.encode_queries(queries).toarray()
    one_by_one = np.vstack([encoder.encode_queries([query]).toarray() for query in queries])
    assert encoder._trace._traced is not None  # the single-text path really ran traced
    assert not list(encoder._trace._traced.parameters())  # frozen: the weights are constants of the trace
    assert np.abs(batch - one_by_one).max() < 1e-4
    single = encoder.encode_queries([queries[0]])
    assert np.all(np.diff(single.indices) > 0) and np.all(single.data > 0)  # one row, columns ascending, no zeros kept


def test_a_query_read_once_gives_its_vector_and_the_word_pieces_the_model_read(texts: list[str]) -> None:
    encoder = SpladeEncoder(SpladeConfig(precision="float32"))
    for query in [text[:120] for text in texts[:8]] + ["", "the of and"]:
        vector, (read,) = encoder.encode_queries_read([query])
        assert (vector != encoder.encode_queries([query])).nnz == 0
        assert read == encoder.input_tokens([query])[0]
    long_text = " ".join(texts)  # past the model's length: what it read, [CLS] and [SEP] aside
    _, (read,) = encoder.encode_queries_read([long_text])
    assert read == encoder.input_tokens([long_text])[0][: encoder.config.max_seq_length - 2]
    batch, read_each = encoder.encode_queries_read(["bone density", "the of and"])
    assert (batch != encoder.encode_queries(["bone density", "the of and"])).nnz == 0 and read_each == encoder.input_tokens(["bone density", "the of and"])
