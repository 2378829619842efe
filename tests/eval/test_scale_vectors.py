"""Scale-corpus vectors: each distractor's vector comes from exactly its own title and sentences
(the draws the corpus writer made), summed and normalized (dense) or max-pooled (SPLADE)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from braid.eval.scale_corpus import DistractorBlock, distractor_blocks, sentences_of, write_scale_corpus
from braid.eval.scale_vectors import max_pooled, summed_unit
from braid.indexing.readers import read_corpus

# Two documents: titles 0 and 2; texts [1] and [3, 1].
BLOCK = DistractorBlock(titles=np.array([0, 2]), lengths=np.array([1, 2]), picks=np.array([1, 3, 1]))


def test_dense_vectors_are_the_normalized_sum_of_the_documents_sentences() -> None:
    sentences = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [3.0, 0.0, 0.0]], dtype=np.float32)
    # Document 0: [1, 1, 0] / sqrt(2). Document 1: [3, 1, 2] / sqrt(14).
    expected = np.array([[1, 1, 0] / np.sqrt(2), [3, 1, 2] / np.sqrt(14)], dtype=np.float32)
    assert np.allclose(summed_unit(sentences, BLOCK), expected, atol=1e-7)


def test_splade_weights_are_the_elementwise_maximum_over_the_documents_sentences() -> None:
    sentences = sp.csr_matrix(np.array([[0.5, 0.0, 2.0, 0.0], [1.5, 0.0, 1.0, 0.0], [0.0, 0.25, 0.0, 0.0], [2.5, 0.0, 0.0, 4.0]], dtype=np.float32))
    expected = np.array([[1.5, 0.0, 2.0, 0.0], [2.5, 0.25, 1.0, 4.0]], dtype=np.float32)
    pooled = max_pooled(sentences, BLOCK)
    assert np.array_equal(pooled.toarray(), expected)
    assert pooled.nnz == 6  # no explicit zeros


def test_the_blocks_are_the_documents_the_corpus_writer_wrote(data_root: Path, scifact_dir: Path, tmp_path: Path) -> None:
    write_scale_corpus(data_root, tmp_path / "corpus", 5_400, progress=False)
    documents = list(read_corpus(tmp_path / "corpus" / "corpus.jsonl"))
    real = sum(1 for _ in read_corpus(scifact_dir / "corpus.jsonl"))
    pool = sentences_of([scifact_dir / "corpus.jsonl", data_root / "nfcorpus" / "corpus.jsonl"])
    drawn = [(pool[title], [pool[pick] for pick in picks]) for block in distractor_blocks(len(pool), 5_400 - real) for title, picks in block.documents()]
    assert len(drawn) == len(documents) - real
    for document, (title, sentences) in zip(documents[real:], drawn):
        assert document.title == title
        assert document.text == " ".join(sentences)
