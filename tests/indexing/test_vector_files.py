"""Bring your own vectors: braid's own vectors given back build the same index, and every mismatch
between a vector file and the index is a one-line error that leaves no index behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from braid.engine import Engine, build_index
from braid.fusion.errors import BraidError
from braid.indexing.config import DenseConfig
from braid.indexing.vector_files import VectorFiles, encode_to_files, write_vector_files
from tests.support.cli import assert_one_line_error, braid


@pytest.fixture(scope="module")
def encoded(scifact_small: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> VectorFiles:
    return encode_to_files(scifact_small / "corpus.jsonl", DenseConfig(), tmp_path_factory.mktemp("vectors") / "scifact-small.npy", progress=False)


@pytest.fixture(scope="module")
def own_index(scifact_small: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("own") / "index"
    build_index(scifact_small / "corpus.jsonl", out, ["dense"], progress=False)
    return out


def test_encode_writes_three_files_describing_the_vectors(encoded: VectorFiles) -> None:
    info = json.loads(encoded.info.read_text(encoding="utf-8"))
    assert info["model"] == DenseConfig.model and info["dimension"] == 384 and info["documents"] == 200 and info["normalize"] is True
    assert np.load(encoded.vectors).shape == (200, 384)
    assert len(encoded.ids.read_text(encoding="utf-8").splitlines()) == 200
    assert not list(encoded.vectors.parent.glob("*.partial"))


def test_own_vectors_given_back_build_the_same_index(scifact_small: Path, encoded: VectorFiles, own_index: Path, tmp_path: Path) -> None:
    # Rows shuffled: the file's order need not be the corpus's.
    ids = encoded.ids.read_text(encoding="utf-8").splitlines()
    order = np.random.default_rng(0).permutation(len(ids))
    shuffled = write_vector_files(
        tmp_path / "shuffled.npy", [ids[row] for row in order], np.load(encoded.vectors)[order], json.loads(encoded.info.read_text(encoding="utf-8"))
    )
    out = tmp_path / "given"
    manifest = build_index(scifact_small / "corpus.jsonl", out, ["dense"], progress=False, vectors={"dense": shuffled.vectors})
    assert manifest.retrievers["dense"].details["vectors"] == "given"
    assert np.array_equal(np.load(out / "dense" / "embeddings.npy"), np.load(own_index / "dense" / "embeddings.npy"))
    queries = ["vitamin D and bone density", "statins and breast cancer survival", "gene expression in the developing brain"]
    with Engine.open(out) as given, Engine.open(own_index) as own:
        assert given.retrieve(queries, 20) == own.retrieve(queries, 20)


def _variant(
    encoded: VectorFiles, folder: Path, change: Callable[[list[str], np.ndarray, dict[str, Any]], tuple[list[str], np.ndarray, dict[str, Any]]]
) -> Path:
    ids = encoded.ids.read_text(encoding="utf-8").splitlines()
    vectors = np.load(encoded.vectors).copy()
    info = json.loads(encoded.info.read_text(encoding="utf-8"))
    return write_vector_files(folder / "variant.npy", *change(ids, vectors, info)).vectors


def _nan(ids: list[str], vectors: np.ndarray, info: dict[str, Any]) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    vectors[7, 3] = np.nan
    return ids, vectors, info


def _unscaled(ids: list[str], vectors: np.ndarray, info: dict[str, Any]) -> tuple[list[str], np.ndarray, dict[str, Any]]:
    vectors[5] *= 3
    return ids, vectors, info


MISMATCHES = {
    "unknown id": (lambda ids, v, info: ([*ids, "not-in-corpus"], np.vstack([v, v[:1]]), info), ["variant.ids:201", "not in the corpus", "'not-in-corpus'"]),
    "missing id": (lambda ids, v, info: (ids[1:], v[1:], info), ["variant.ids", "no vector for 1 document"]),
    "duplicate id": (lambda ids, v, info: ([ids[0], *ids[1:-1], ids[0]], v, info), ["variant.ids:200", "appears twice"]),
    "wrong dimension": (lambda ids, v, info: (ids, v[:, :128], info), ["variant.npy", "128 dimensions", "gives 384"]),
    "NaN": (_nan, ["variant.npy", "NaN or infinite"]),
    "not normalized": (_unscaled, ["variant.npy", "row 5", "unit vectors"]),
    "wrong model": (lambda ids, v, info: (ids, v, {**info, "model": "BAAI/bge-small-en-v1.5"}), ["variant.json", "'BAAI/bge-small-en-v1.5'", "--dense-model"]),
    "rows and ids differ": (lambda ids, v, info: (ids, v[:-1], info), ["variant.ids", "200 ids for 199 rows"]),
}


@pytest.mark.parametrize("case", list(MISMATCHES))
def test_every_mismatch_is_an_error_naming_the_file(scifact_small: Path, encoded: VectorFiles, tmp_path: Path, case: str) -> None:
    change, fragments = MISMATCHES[case]
    given = _variant(encoded, tmp_path, change)
    with pytest.raises(BraidError) as raised:
        build_index(scifact_small / "corpus.jsonl", tmp_path / "index", ["bm25", "dense"], progress=False, vectors={"dense": given})
    for fragment in fragments:
        assert fragment in str(raised.value), str(raised.value)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "index").exists()


def test_the_cli_takes_vectors_and_refuses_a_missing_description(scifact_small: Path, encoded: VectorFiles, tmp_path: Path, embedding_cache_dir: Path) -> None:
    result = braid("index", str(scifact_small), "--out", str(tmp_path / "index"), "--retrievers", "bm25,dense", "--dense-vectors", str(encoded.vectors))
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))["retrievers"]["dense"]["details"]["vectors"] == "given"
    lonely = tmp_path / "lonely.npy"
    np.save(lonely, np.load(encoded.vectors))
    assert_one_line_error(
        braid("index", str(scifact_small), "--out", str(tmp_path / "other"), "--retrievers", "dense", "--dense-vectors", str(lonely)), "lonely.ids: missing"
    )
    assert not (tmp_path / "other").exists()
