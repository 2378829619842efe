"""Vector files: dense vectors made elsewhere (a GPU machine, an embedding API, published
embeddings, or `braid encode`), checked against the index's settings before one of them is used.

A vector file is three files side by side, as `braid encode` writes them:
  NAME.npy   float32 (or float16) rows, one per document
  NAME.ids   the documents' ids, one per line, in row order
  NAME.json  how they were made: {"model": ..., "dimension": ..., "normalize": true, ...}
Every check fails with one line naming the file (and the line or row): a model other than the
index's, another dimension, unnormalized rows where the index wants unit vectors, NaN or infinite
values, an id twice, an id the corpus lacks, or a corpus document without a vector.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from braid.fusion.errors import BraidError, DataError
from braid.indexing.build_context import DocumentEncoding
from braid.indexing.config import DenseConfig
from braid.indexing.readers import numbered_lines

# Rows checked and copied at a time: bounds memory whatever the corpus size.
_ROWS = 65_536
# How far from 1 a row's norm may be when the index wants unit vectors (float16 files reach ~1e-3).
_NORM_TOLERANCE = 1e-2


@dataclass(frozen=True)
class VectorFiles:
    vectors: Path
    ids: Path
    info: Path

    @classmethod
    def at(cls, path: str | Path) -> VectorFiles:
        """The three files of the vector file named by `path` (NAME.npy, or NAME)."""
        path = Path(path)
        stem = path.with_suffix("") if path.suffix == ".npy" else path
        return cls(stem.with_name(stem.name + ".npy"), stem.with_name(stem.name + ".ids"), stem.with_name(stem.name + ".json"))


def describe(config: DenseConfig, dimension: int, count: int) -> dict[str, Any]:
    """What NAME.json records: the encoding settings and the shape."""
    return {**config.encoding_settings(), "dimension": dimension, "documents": count}


def write_vector_files(path: str | Path, ids: Sequence[str], vectors: np.ndarray, info: dict[str, Any]) -> VectorFiles:
    """Write all three files (the .json last, so a reader never finds a half-written set complete)."""
    files = VectorFiles.at(path)
    files.vectors.parent.mkdir(parents=True, exist_ok=True)
    np.save(files.vectors, np.asarray(vectors, dtype=np.float32))
    files.ids.write_text("".join(doc_id + "\n" for doc_id in ids), encoding="utf-8")
    files.info.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return files


def encode_to_files(corpus: Path, config: DenseConfig, path: str | Path, progress: bool = True, encoding: DocumentEncoding | None = None) -> VectorFiles:
    """Encode every document of `corpus` as `braid index` would and write the vector file at `path`:
    the vectors go straight to a mapped file chunk by chunk; all three files appear only at the end.
    `encoding` encodes elsewhere (e.g. on Ray)."""
    from tqdm import tqdm

    from braid.indexing.dense_encoder import DenseEncoder
    from braid.indexing.readers import read_corpus
    from braid.indexing.text_chunks import ENCODE_CHUNK, encoder_text

    files = VectorFiles.at(path)
    files.info.unlink(missing_ok=True)  # an older set's description must not vouch for new vectors
    ids = [document.doc_id for document in read_corpus(corpus)]
    if not ids:
        raise DataError(corpus, None, "the corpus holds no documents")
    encoder = DenseEncoder(config)
    documents = encoder if encoding is None else encoding.wrap(encoder)
    files.vectors.parent.mkdir(parents=True, exist_ok=True)
    partial = files.vectors.with_name(files.vectors.name + ".partial")
    try:
        vectors = np.lib.format.open_memmap(partial, mode="w+", dtype=np.float32, shape=(len(ids), encoder.dimension))
        written = 0
        chunk: list[str] = []
        with tqdm(total=len(ids), desc=f"encoding ({config.model})", unit=" docs", disable=None if progress else True) as bar:
            for document in read_corpus(corpus):
                chunk.append(encoder_text(document))
                if len(chunk) == ENCODE_CHUNK:
                    vectors[written : written + len(chunk)] = documents.encode_documents(chunk)
                    written += len(chunk)
                    bar.update(len(chunk))
                    chunk = []
            if chunk:
                vectors[written : written + len(chunk)] = documents.encode_documents(chunk)
                bar.update(len(chunk))
        vectors.flush()
        del vectors
        files.ids.write_text("".join(doc_id + "\n" for doc_id in ids), encoding="utf-8")
        partial.replace(files.vectors)
        files.info.write_text(json.dumps(describe(encoder.config, encoder.dimension, len(ids)), indent=2) + "\n", encoding="utf-8")
    finally:
        partial.unlink(missing_ok=True)
    return files


def read_info(files: VectorFiles) -> dict[str, Any]:
    return read_description(files.info, (files.vectors, files.ids, files.info), "a vector file is NAME.npy, NAME.ids and NAME.json together")


def read_description(info_path: Path, needed: Sequence[Path], layout: str) -> dict[str, Any]:
    """NAME.json of a vector file, once every file of the set (`needed`) is there."""
    for path in needed:
        if not path.is_file():
            raise BraidError(f"{path}: missing ({layout}, as `braid encode` writes them)")
    try:
        info = json.loads(info_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise DataError(info_path, error.lineno, f"not JSON ({error.msg})") from None
    if not isinstance(info, dict) or not isinstance(info.get("model"), str):
        raise DataError(info_path, None, 'expected an object with at least "model" (the name of the model that made the vectors)')
    return info


def read_ids(files: VectorFiles) -> dict[str, int]:
    rows: dict[str, int] = {}
    for number, line in numbered_lines(files.ids):
        doc_id = line.rstrip("\n").rstrip("\r")
        if not doc_id or doc_id != doc_id.strip():
            raise DataError(files.ids, number, f"expected one document id per line, got {doc_id!r}")
        if doc_id in rows:
            raise DataError(files.ids, number, f"document id {doc_id!r} appears twice")
        rows[doc_id] = len(rows)
    return rows


def place_given_vectors(path: str | Path, doc_ids: Sequence[str], config: DenseConfig, dimension: int, out: Path) -> dict[str, Any]:
    """Check the vector file at `path` against the index's dense `config` (whose model gives
    `dimension`) and the corpus's `doc_ids`, then write its rows in `doc_ids` order to `out` (.npy);
    returns what the file says of itself, for the manifest."""
    files = VectorFiles.at(path)
    info = read_info(files)
    if info["model"] != config.model:
        raise DataError(
            files.info, None, f"the vectors were made by {info['model']!r} but the index's dense model is {config.model!r} (pass --dense-model {info['model']})"
        )
    if "normalize" in info and bool(info["normalize"]) != config.normalize:
        raise DataError(files.info, None, f"normalize is {info['normalize']} but the index's dense setting is {config.normalize}")
    try:
        given = np.load(files.vectors, mmap_mode="r")
    except ValueError as error:
        raise DataError(files.vectors, None, f"not a numeric .npy array ({error})") from None
    if given.ndim != 2 or given.dtype.kind != "f":
        raise DataError(files.vectors, None, f"expected a 2-d float array (one row per document), got shape {given.shape} of {given.dtype}")
    if given.shape[1] != dimension:
        raise DataError(files.vectors, None, f"rows have {given.shape[1]} dimensions but model {config.model!r} gives {dimension}")
    rows = read_ids(files)
    if len(rows) != given.shape[0]:
        raise DataError(files.ids, None, f"{len(rows):,} ids for {given.shape[0]:,} rows of {files.vectors.name}")
    order = rows_in_corpus_order(rows, doc_ids, files.ids, lambda row: row + 1)
    placed = np.lib.format.open_memmap(out, mode="w+", dtype=np.float32, shape=(len(doc_ids), dimension))
    for start in range(0, len(order), _ROWS):
        block = np.asarray(given[order[start : start + _ROWS]], dtype=np.float32)
        _check_block(block, start, order, doc_ids, files, config.normalize)
        placed[start : start + len(block)] = block
    placed.flush()
    del placed
    return info


def rows_in_corpus_order(rows: dict[str, int], doc_ids: Sequence[str], source: Path, line_of: Callable[[int], int]) -> np.ndarray:
    """For each of `doc_ids`, its row in a file whose ids are `rows` (id -> row; `line_of` gives a
    row's line in `source`, for errors): every corpus document needs a row, and every row a document."""
    order = np.empty(len(doc_ids), dtype=np.int64)
    missing: list[str] = []
    for position, doc_id in enumerate(doc_ids):
        row = rows.get(doc_id)
        if row is None:
            missing.append(doc_id)
        else:
            order[position] = row
    if missing:
        raise DataError(source, None, f"no vector for {len(missing):,} document(s) of the corpus, first {_shown(missing)}")
    if len(rows) > len(doc_ids):
        corpus = set(doc_ids)
        unknown = [doc_id for doc_id in rows if doc_id not in corpus]
        raise DataError(source, line_of(rows[unknown[0]]), f"{len(unknown):,} id(s) are not in the corpus, first {unknown[0]!r}")
    return order


def _check_block(block: np.ndarray, start: int, order: np.ndarray, doc_ids: Sequence[str], files: VectorFiles, normalize: bool) -> None:
    bad = np.flatnonzero(~np.isfinite(block).all(axis=1))
    if len(bad):
        position = start + int(bad[0])
        raise DataError(files.vectors, None, f"row {int(order[position])} (document {doc_ids[position]!r}) holds NaN or infinite values")
    if normalize:
        norms = np.linalg.norm(block.astype(np.float64), axis=1)
        off = np.flatnonzero(np.abs(norms - 1.0) > _NORM_TOLERANCE)
        if len(off):
            position = start + int(off[0])
            raise DataError(
                files.vectors,
                None,
                f"row {int(order[position])} (document {doc_ids[position]!r}) has norm {norms[off[0]]:.4f}; the index wants unit vectors "
                "(normalize them, or build with normalization off)",
            )


def _shown(ids: Iterable[str]) -> str:
    return ", ".join(repr(doc_id) for doc_id in list(ids)[:3])


__all__ = ["VectorFiles", "describe", "encode_to_files", "place_given_vectors", "read_description", "read_info", "rows_in_corpus_order", "write_vector_files"]
