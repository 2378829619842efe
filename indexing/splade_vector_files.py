"""SPLADE vector files: document term weights made elsewhere (a GPU machine, published Anserini
collections, or `braid encode --retriever splade`), checked against the index's settings first.

A SPLADE vector file is Anserini's JsonVectorCollection layout plus a description beside it:
  NAME.jsonl  one document per line: {"id": ..., "contents": ..., "vector": {token: weight, ...}}
  NAME.json   how the weights were made: {"model": ..., "max_seq_length": ..., ...}; with "scale"
              the weights are integer impacts already multiplied by it (as Anserini's published
              SPLADE collections are), otherwise they are the model's float weights
Checks fail with one line naming the file and line: a model other than the index's, a token the
model's vocabulary lacks, a weight that is not a finite number >= 0, an id twice, an id the corpus
lacks, or a corpus document without a vector.
"""

from __future__ import annotations

import json
import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from braid.fusion.errors import DataError
from braid.indexing.build_context import DocumentEncoding
from braid.indexing.config import SpladeConfig
from braid.indexing.readers import json_object, numbered_lines
from braid.indexing.vector_files import read_description, rows_in_corpus_order


@dataclass(frozen=True)
class SpladeVectorFiles:
    vectors: Path
    info: Path

    @classmethod
    def at(cls, path: str | Path) -> SpladeVectorFiles:
        """The two files of the SPLADE vector file named by `path` (NAME.jsonl, or NAME)."""
        path = Path(path)
        stem = path.with_suffix("") if path.suffix == ".jsonl" else path
        return cls(stem.with_name(stem.name + ".jsonl"), stem.with_name(stem.name + ".json"))


def describe_splade(config: SpladeConfig, vocabulary: int, count: int) -> dict[str, Any]:
    """What NAME.json records for float weights from braid's encoder."""
    return {**config.encoding_settings(), "vocabulary": vocabulary, "documents": count}


def vector_line(doc_id: str, row: sp.csr_matrix, vocabulary: Sequence[str]) -> str:
    """One JsonVectorCollection line; float32 weights written so that they read back bit-identical."""
    weights = {vocabulary[column]: float(value) for column, value in zip(row.indices.tolist(), row.data.tolist())}
    return json.dumps({"id": doc_id, "contents": "", "vector": weights}) + "\n"


def encode_splade_to_files(
    corpus: Path, config: SpladeConfig, path: str | Path, progress: bool = True, encoding: DocumentEncoding | None = None
) -> SpladeVectorFiles:
    """Encode every document of `corpus` as `braid index` would and write the SPLADE vector file at
    `path` (NAME.jsonl appears only when complete, NAME.json after it); `encoding` encodes elsewhere (e.g. on Ray)."""
    from tqdm import tqdm

    from braid.indexing.readers import read_corpus
    from braid.indexing.sparse_encoder import SpladeEncoder
    from braid.indexing.text_chunks import ENCODE_CHUNK, encoder_text

    files = SpladeVectorFiles.at(path)
    files.info.unlink(missing_ok=True)  # an older set's description must not vouch for new weights
    encoder = SpladeEncoder(config)
    documents = encoder if encoding is None else encoding.wrap(encoder)
    files.vectors.parent.mkdir(parents=True, exist_ok=True)
    partial = files.vectors.with_name(files.vectors.name + ".partial")
    written = 0
    try:
        with partial.open("w", encoding="utf-8") as handle, tqdm(desc=f"encoding ({config.model})", unit=" docs", disable=None if progress else True) as bar:
            chunk: list[tuple[str, str]] = []
            for document in read_corpus(corpus):
                chunk.append((document.doc_id, encoder_text(document)))
                if len(chunk) == ENCODE_CHUNK:
                    written += _write_chunk(handle, chunk, documents, encoder.vocabulary)
                    bar.update(len(chunk))
                    chunk = []
            if chunk:
                written += _write_chunk(handle, chunk, documents, encoder.vocabulary)
                bar.update(len(chunk))
        if written == 0:
            raise DataError(corpus, None, "the corpus holds no documents")
        partial.replace(files.vectors)
        files.info.write_text(json.dumps(describe_splade(encoder.config, len(encoder.vocabulary), written), indent=2) + "\n", encoding="utf-8")
    finally:
        partial.unlink(missing_ok=True)
    return files


def _write_chunk(handle: Any, chunk: list[tuple[str, str]], documents: Any, vocabulary: list[str]) -> int:
    weights = documents.encode_documents([text for _, text in chunk])
    for row, (doc_id, _) in enumerate(chunk):
        handle.write(vector_line(doc_id, weights[row], vocabulary))
    return len(chunk)


def read_splade_info(files: SpladeVectorFiles) -> dict[str, Any]:
    info = read_description(files.info, (files.vectors, files.info), "a SPLADE vector file is NAME.jsonl and NAME.json together")
    scale = info.get("scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int | float) or not scale > 0):
        raise DataError(files.info, None, f'"scale" must be a number > 0 (the factor the integer impacts were multiplied by), got {scale!r}')
    return info


def read_given_weights(path: str | Path, doc_ids: Sequence[str], config: SpladeConfig, vocabulary: Sequence[str]) -> tuple[sp.csr_matrix, dict[str, Any]]:
    """The float weights of the SPLADE vector file at `path` as a documents x vocabulary matrix in
    `doc_ids` order, after checking it against the index's `config` and the model's `vocabulary`;
    and what the file says of itself, for the manifest."""
    files = SpladeVectorFiles.at(path)
    info = read_splade_info(files)
    if info["model"] != config.model:
        raise DataError(
            files.info,
            None,
            f"the weights were made by {info['model']!r} but the index's SPLADE model is {config.model!r} (pass --sparse-model {info['model']})",
        )
    divide_by = float(info.get("scale") or 1.0)
    column_of = {token: column for column, token in enumerate(vocabulary) if token}
    rows: dict[str, int] = {}
    lines = array("q")
    indptr = array("q", [0])
    indices, data = array("i"), array("f")  # grown in place: no per-line arrays held (1M lines: ~200M entries)
    for number, line in numbered_lines(files.vectors):
        doc_id, columns, weights = _parse_line(files.vectors, number, line, column_of, config.model)
        if doc_id in rows:
            raise DataError(files.vectors, number, f"document id {doc_id!r} appears twice (first on line {lines[rows[doc_id]]})")
        rows[doc_id] = len(rows)
        lines.append(number)
        indices.frombytes(columns.tobytes())
        data.frombytes(weights.tobytes())
        indptr.append(indptr[-1] + len(columns))
    values = np.frombuffer(data, dtype=np.float32)
    given = sp.csr_matrix(
        (values / np.float32(divide_by) if divide_by != 1.0 else values, np.frombuffer(indices, dtype=np.int32), np.frombuffer(indptr, dtype=np.int64)),
        shape=(len(rows), len(vocabulary)),
    )
    order = rows_in_corpus_order(rows, doc_ids, files.vectors, lambda row: lines[row])
    placed = given if np.array_equal(order, np.arange(len(order))) else given[order]  # a file in corpus order is not copied
    placed.sort_indices()
    return placed, info


def _parse_line(path: Path, number: int, line: str, column_of: dict[str, int], model: str) -> tuple[str, np.ndarray, np.ndarray]:
    record = json_object(path, number, line)
    doc_id = record.get("id")
    if not isinstance(doc_id, str) or not doc_id or doc_id != doc_id.strip():
        raise DataError(path, number, f'"id" must be a non-empty string without surrounding spaces, got {doc_id!r}')
    vector = record.get("vector")
    if not isinstance(vector, dict):
        raise DataError(path, number, f'"vector" must be an object of token: weight, got {type(vector).__name__}')
    try:  # the common case in bulk; a bad value falls through to the search for it below
        weights = np.fromiter(vector.values(), dtype=np.float64, count=len(vector))
    except (TypeError, ValueError):
        weights = None
    if weights is None or not np.isfinite(weights).all() or (weights < 0).any() or bool in set(map(type, vector.values())):
        token, weight = next((token, weight) for token, weight in vector.items() if not _is_weight(weight))
        raise DataError(path, number, f"token {token!r} (document {doc_id!r}) has weight {weight!r}: expected a finite number >= 0")
    columns = np.fromiter((column_of.get(token, -1) for token in vector), dtype=np.int32, count=len(vector))
    if (columns < 0).any():
        token = next(token for token in vector if token not in column_of)
        raise DataError(path, number, f"token {token!r} (document {doc_id!r}) is not in the vocabulary of {model!r}")
    return doc_id, columns, weights.astype(np.float32)


def _is_weight(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value) and value >= 0


__all__ = ["SpladeVectorFiles", "describe_splade", "encode_splade_to_files", "read_given_weights", "read_splade_info", "vector_line"]
