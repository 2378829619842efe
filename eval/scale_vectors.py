"""Dense and SPLADE vectors for a scale corpus, made without encoding a million documents.

    python -m braid.eval.scale_vectors --docs 1000000 --out scale/vectors-1000000

Encoding 1M documents takes hours on two CPU cores (SPLADE ~40 SciFact documents/s, measured), so
the scale benchmark builds its 1M index from vectors supplied the way a user with a GPU would
(`braid index --dense-vectors / --splade-vectors`). They are made once per sentence of the pool
the scale corpus draws from (braid.eval.scale_corpus), with braid's default models and settings,
then combined per document: the real SciFact documents get their own encodings; a distractor's
dense vector is the normalized sum of its title's and sentences' vectors, its SPLADE weights the
element-wise maximum of theirs (SPLADE's own pooling is a maximum over tokens). These are
benchmark inputs for build and search costs; they are not what the models would give the whole
documents, and quality claims never rest on them.

Writes OUT/dense.npy (+ .ids, .json) and OUT/splade.jsonl (+ .json).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import click
import numpy as np
import scipy.sparse as sp
from tqdm import tqdm

from braid.eval.datasets import default_data_dir
from braid.eval.scale_corpus import DistractorBlock, distractor_blocks, sentences_of
from braid.fusion.errors import BraidError
from braid.indexing.config import DenseConfig, SpladeConfig
from braid.indexing.embedding_cache import EmbeddingCache, cache_key, load_or_encode
from braid.indexing.fingerprint import CorpusFingerprint
from braid.indexing.models import model_identity
from braid.indexing.readers import Document, read_corpus
from braid.indexing.text_chunks import encoder_text

MADE_FROM = "sentence vectors combined per document (braid.eval.scale_vectors); real SciFact documents encoded whole"


def _real_documents(data_dir: Path) -> tuple[list[Document], str]:
    real = list(read_corpus(data_dir / "scifact" / "corpus.jsonl"))
    fingerprint = CorpusFingerprint()
    for document in real:
        fingerprint.update(document)
    return real, fingerprint.hexdigest()


def _pool_fingerprint(pool: list[str]) -> str:
    digest = hashlib.sha256()
    for sentence in pool:
        digest.update(sentence.encode("utf-8") + b"\x00")
    return "sha256:" + digest.hexdigest()


def _throughput(count: int, seconds: float | None) -> dict[str, Any]:
    """Sentences encoded per second (None: read from the cache, not encoded in this run)."""
    return {"sentences_per_second": round(count / seconds, 1) if seconds else None}


def _block_sentences(block: DistractorBlock) -> tuple[np.ndarray, np.ndarray]:
    """Pool indexes of each document's title and sentences, and the document each belongs to."""
    members = [np.concatenate([[title], picks]) for title, picks in block.documents()]
    return np.concatenate(members), np.repeat(np.arange(block.count), block.lengths + 1)


def write_dense(out: Path, pool: list[str], real: list[Document], fingerprint: str, docs: int, seed: int, progress: bool) -> dict[str, Any]:
    from braid.indexing.dense_encoder import DenseEncoder
    from braid.indexing.vector_files import VectorFiles, describe

    config = DenseConfig().with_concrete_precision()
    encoder = DenseEncoder(config)
    started = time.perf_counter()
    pool_key = cache_key("dense-sentences", model_identity(encoder.resolved), config.encoding_settings(), _pool_fingerprint(pool))
    sentences, cached = load_or_encode(EmbeddingCache(), pool_key, len(pool), lambda: encoder.encode_documents(pool))
    sentences = np.asarray(sentences, dtype=np.float32)
    sentence_seconds = None if cached else time.perf_counter() - started
    key = cache_key("dense", model_identity(encoder.resolved), config.encoding_settings(), fingerprint)
    real_vectors, _ = load_or_encode(EmbeddingCache(), key, len(real), lambda: encoder.encode_documents([encoder_text(document) for document in real]))
    files = VectorFiles.at(out / "dense.npy")
    vectors = np.lib.format.open_memmap(files.vectors, mode="w+", dtype=np.float32, shape=(docs, encoder.dimension))
    vectors[: len(real)] = real_vectors
    row = len(real)
    with files.ids.open("w", encoding="utf-8") as ids:
        ids.write("".join(document.doc_id + "\n" for document in real))
        for block in tqdm(distractor_blocks(len(pool), docs - len(real), seed), desc="dense vectors", unit=" blocks", disable=None if progress else True):
            vectors[row : row + block.count] = summed_unit(sentences, block)
            ids.write("".join(f"scale-{row + number}\n" for number in range(block.count)))
            row += block.count
    vectors.flush()
    del vectors
    info = {**describe(config, encoder.dimension, docs), "made_from": MADE_FROM}
    files.info.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return _throughput(len(pool), sentence_seconds)


def write_splade(out: Path, pool: list[str], real: list[Document], fingerprint: str, docs: int, seed: int, progress: bool) -> dict[str, Any]:
    from braid.indexing.sparse_encoder import SpladeEncoder
    from braid.indexing.splade_vector_files import SpladeVectorFiles, describe_splade, vector_line

    config = SpladeConfig().with_concrete_precision()
    encoder = SpladeEncoder(config)
    started = time.perf_counter()
    pool_key = cache_key("splade-sentences", model_identity(encoder.resolved), config.encoding_settings(), _pool_fingerprint(pool))
    encoded, cached = load_or_encode(EmbeddingCache(), pool_key, len(pool), lambda: encoder.encode_documents(pool), sparse=True)
    sentences = sp.csr_matrix(encoded, dtype=np.float32)
    sentence_seconds = None if cached else time.perf_counter() - started
    vocabulary = encoder.vocabulary
    key = cache_key("splade", model_identity(encoder.resolved), config.encoding_settings(), fingerprint)
    real_weights, _ = load_or_encode(
        EmbeddingCache(), key, len(real), lambda: encoder.encode_documents([encoder_text(document) for document in real]), sparse=True
    )
    real_weights = sp.csr_matrix(real_weights)
    files = SpladeVectorFiles.at(out / "splade.jsonl")
    partial = files.vectors.with_name(files.vectors.name + ".partial")
    row = len(real)
    with partial.open("w", encoding="utf-8") as handle:
        for number, document in enumerate(real):
            handle.write(vector_line(document.doc_id, real_weights[number], vocabulary))
        for block in tqdm(distractor_blocks(len(pool), docs - len(real), seed), desc="splade vectors", unit=" blocks", disable=None if progress else True):
            pooled = max_pooled(sentences, block)
            for number in range(block.count):
                handle.write(vector_line(f"scale-{row + number}", pooled[number], vocabulary))
            row += block.count
    partial.replace(files.vectors)
    info = {**describe_splade(config, len(vocabulary), docs), "made_from": MADE_FROM}
    files.info.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return _throughput(len(pool), sentence_seconds)


def summed_unit(sentences: np.ndarray, block: DistractorBlock) -> np.ndarray:
    """Each document's normalized sum of its title's and sentences' vectors."""
    members, owner = _block_sentences(block)
    membership = sp.csr_matrix((np.ones(len(members), dtype=np.float32), (owner, members)), shape=(block.count, len(sentences)))
    summed = np.asarray(membership @ sentences, dtype=np.float64)
    return (summed / np.linalg.norm(summed, axis=1, keepdims=True)).astype(np.float32)


def max_pooled(sentences: sp.csr_matrix, block: DistractorBlock) -> sp.csr_matrix:
    """Each document's element-wise maximum over its sentences' weight vectors."""
    members, owner = _block_sentences(block)
    rows = sentences[members].tocoo()
    width = sentences.shape[1]
    keys = owner[rows.row].astype(np.int64) * width + rows.col
    order = np.lexsort((rows.data, keys))  # within a (document, token) group the largest comes last
    keys, values = keys[order], rows.data[order]
    last = np.append(keys[1:] != keys[:-1], True)
    return sp.csr_matrix((values[last], (keys[last] // width, keys[last] % width)), shape=(block.count, width))


def write_scale_vectors(data_dir: Path, out: Path, docs: int, retrievers: tuple[str, ...], seed: int = 0, progress: bool = True) -> dict[str, Any]:
    """Vector files for the scale corpus of `docs` documents (same seed as the corpus)."""
    real, fingerprint = _real_documents(data_dir)
    if docs < len(real):
        raise BraidError(f"--docs must be at least {len(real):,}: every SciFact document is included")
    pool = sentences_of([data_dir / "scifact" / "corpus.jsonl", data_dir / "nfcorpus" / "corpus.jsonl"])
    out.mkdir(parents=True, exist_ok=True)
    summary: dict[str, Any] = {"documents": docs, "sentences": len(pool)}
    writers = {"dense": write_dense, "splade": write_splade}
    for name in retrievers:
        started = time.perf_counter()
        summary[name] = {**writers[name](out, pool, real, fingerprint, docs, seed, progress), "seconds": round(time.perf_counter() - started, 1)}
    return summary


@click.command()
@click.option("--docs", type=click.IntRange(min=1), required=True, help="Documents in the scale corpus (as given to braid.eval.scale_corpus).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for dense.npy/.ids/.json and splade.jsonl/.json.")
@click.option("--retrievers", default="dense,splade", show_default=True, help="Which vectors to make.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None, help="Where scifact/ and nfcorpus/ live (env BRAID_DATA).")
@click.option("--seed", type=int, default=0, show_default=True, help="The scale corpus's seed.")
def main(docs: int, out: Path, retrievers: str, data_dir: Path | None, seed: int) -> None:
    """Write dense and SPLADE vector files for a scale corpus from its sentences' encodings."""
    names = tuple(name.strip() for name in retrievers.split(",") if name.strip())
    unknown = [name for name in names if name not in ("dense", "splade")]
    if unknown:
        raise click.ClickException(f"--retrievers takes dense and splade, got {', '.join(unknown)}")
    try:
        summary = write_scale_vectors(data_dir or default_data_dir(), out, docs, names, seed)
    except BraidError as error:
        raise click.ClickException(str(error)) from None
    click.echo(json.dumps(summary))


if __name__ == "__main__":
    main()
