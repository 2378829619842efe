"""SPLADE weights made elsewhere (Anserini's JSON-vector layout): braid's own weights given back
build the same index, integer impacts with their scale too, and every mismatch is a one-line error
naming the file and line that leaves no index behind."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from braid.engine import Engine, build_index
from braid.fusion.errors import BraidError
from braid.indexing.config import SpladeConfig
from braid.indexing.impact_matrix import ImpactMatrix
from braid.indexing.splade_vector_files import SpladeVectorFiles, encode_splade_to_files
from tests.conftest import write_beir_slice
from tests.support.cli import assert_one_line_error, braid

QUERIES = ["vitamin D and bone density", "statins and breast cancer survival", "gene expression in the developing brain"]
Records = list[dict[str, Any]]


@pytest.fixture(scope="module")
def encoded(scifact_small: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> SpladeVectorFiles:
    return encode_splade_to_files(scifact_small / "corpus.jsonl", SpladeConfig(), tmp_path_factory.mktemp("weights") / "scifact-small.jsonl", progress=False)


@pytest.fixture(scope="module")
def own_index(scifact_small: Path, embedding_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("own") / "index"
    build_index(scifact_small / "corpus.jsonl", out, ["splade"], progress=False)
    return out


def _records(files: SpladeVectorFiles) -> Records:
    return [json.loads(line) for line in files.vectors.read_text(encoding="utf-8").splitlines()]


def _write(folder: Path, records: Records, info: dict[str, Any]) -> Path:
    (folder / "variant.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    (folder / "variant.json").write_text(json.dumps(info), encoding="utf-8")
    return folder / "variant.jsonl"


def test_encode_writes_anserini_lines_and_a_description(encoded: SpladeVectorFiles, scifact_small: Path) -> None:
    info = json.loads(encoded.info.read_text(encoding="utf-8"))
    assert info["model"] == SpladeConfig.model and info["documents"] == 200 and info["vocabulary"] == 30522
    records = _records(encoded)
    corpus_ids = [json.loads(line)["_id"] for line in (scifact_small / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [record["id"] for record in records] == corpus_ids
    assert all(set(record) == {"id", "contents", "vector"} and record["vector"] for record in records)
    assert all(isinstance(weight, float) and weight > 0 for record in records for weight in record["vector"].values())
    assert not list(encoded.vectors.parent.glob("*.partial"))


def _matrix(index: Path) -> Any:
    return ImpactMatrix.load(index / "splade").impacts


def test_own_weights_given_back_build_the_same_index(scifact_small: Path, encoded: SpladeVectorFiles, own_index: Path, tmp_path: Path) -> None:
    records = _records(encoded)
    shuffled = [records[row] for row in np.random.default_rng(0).permutation(len(records))]  # the file's order need not be the corpus's
    given = _write(tmp_path, shuffled, json.loads(encoded.info.read_text(encoding="utf-8")))
    out = tmp_path / "given"
    manifest = build_index(scifact_small / "corpus.jsonl", out, ["splade"], progress=False, vectors={"splade": given})
    assert manifest.retrievers["splade"].details["vectors"] == "given"
    assert (_matrix(out) != _matrix(own_index)).nnz == 0
    with Engine.open(out) as from_file, Engine.open(own_index) as own:
        assert from_file.retrieve(QUERIES, 20) == own.retrieve(QUERIES, 20)


def test_integer_impacts_with_their_scale_build_the_same_index(scifact_small: Path, encoded: SpladeVectorFiles, own_index: Path, tmp_path: Path) -> None:
    # Anserini's published SPLADE collections carry round(weight x 100) as integers.
    records = [
        {**record, "vector": {token: round(weight * 100) for token, weight in record["vector"].items() if round(weight * 100)}} for record in _records(encoded)
    ]
    given = _write(tmp_path, records, {**json.loads(encoded.info.read_text(encoding="utf-8")), "scale": 100})
    out = tmp_path / "given"
    build_index(scifact_small / "corpus.jsonl", out, ["splade"], progress=False, vectors={"splade": given})
    assert (_matrix(out) != _matrix(own_index)).nnz == 0


def _first_token(records: Records) -> str:
    return next(iter(records[4]["vector"]))


def _set_weight(value: Any) -> Callable[[Records, dict[str, Any]], tuple[Records, dict[str, Any]]]:
    def change(records: Records, info: dict[str, Any]) -> tuple[Records, dict[str, Any]]:
        records[4]["vector"][_first_token(records)] = value
        return records, info

    return change


def _unknown_token(records: Records, info: dict[str, Any]) -> tuple[Records, dict[str, Any]]:
    records[6]["vector"]["notatoken"] = 1.0
    return records, info


MISMATCHES: dict[str, tuple[Callable[[Records, dict[str, Any]], tuple[Records, dict[str, Any]]], list[str]]] = {
    "unknown id": (lambda records, info: ([*records, {**records[0], "id": "not-in-corpus"}], info), ["variant.jsonl:201", "not in the corpus"]),
    "missing id": (lambda records, info: (records[1:], info), ["variant.jsonl", "no vector for 1 document"]),
    "duplicate id": (lambda records, info: ([*records, records[3]], info), ["variant.jsonl:201", "appears twice", "first on line 4"]),
    "unknown token": (_unknown_token, ["variant.jsonl:7", "'notatoken'", "not in the vocabulary"]),
    "negative weight": (_set_weight(-0.5), ["variant.jsonl:5", "-0.5", ">= 0"]),
    "NaN": (_set_weight(float("nan")), ["variant.jsonl:5", "nan"]),
    "not a number": (_set_weight("high"), ["variant.jsonl:5", "'high'"]),
    "no vector": (lambda records, info: ([*records[:2], {"id": records[2]["id"]}, *records[3:]], info), ["variant.jsonl:3", '"vector"']),
    "wrong model": (lambda records, info: (records, {**info, "model": "naver/splade-v3"}), ["variant.json", "'naver/splade-v3'", "--sparse-model"]),
    "bad scale": (lambda records, info: (records, {**info, "scale": 0}), ["variant.json", '"scale"']),
}


@pytest.mark.parametrize("case", list(MISMATCHES))
def test_every_mismatch_is_an_error_naming_the_file(scifact_small: Path, encoded: SpladeVectorFiles, tmp_path: Path, case: str) -> None:
    change, fragments = MISMATCHES[case]
    given = _write(tmp_path, *change(_records(encoded), json.loads(encoded.info.read_text(encoding="utf-8"))))
    with pytest.raises(BraidError) as raised:
        build_index(scifact_small / "corpus.jsonl", tmp_path / "index", ["bm25", "splade"], progress=False, vectors={"splade": given})
    for fragment in fragments:
        assert fragment in str(raised.value), str(raised.value)
    assert "\n" not in str(raised.value)
    assert not (tmp_path / "index").exists()


def test_the_cli_encodes_and_takes_weights(scifact_dir: Path, tmp_path: Path, embedding_cache_dir: Path) -> None:
    tiny = write_beir_slice(scifact_dir, tmp_path / "tiny", 30)  # the CLI's own path; the checks above cover the rest
    made = braid("encode", str(tiny), "--retriever", "splade", "--out", str(tmp_path / "weights.jsonl"), "--json")
    assert made.returncode == 0, made.stderr
    report = json.loads(made.stdout)
    assert report["retriever"] == "splade" and report["documents"] == 30 and report["vectors"].endswith("weights.jsonl")
    built = braid("index", str(tiny), "--out", str(tmp_path / "index"), "--retrievers", "splade", "--splade-vectors", str(tmp_path / "weights.jsonl"))
    assert built.returncode == 0, built.stderr
    assert json.loads((tmp_path / "index" / "manifest.json").read_text(encoding="utf-8"))["retrievers"]["splade"]["details"]["vectors"] == "given"
    (tmp_path / "weights.json").unlink()
    assert_one_line_error(
        braid("index", str(tiny), "--out", str(tmp_path / "other"), "--retrievers", "splade", "--splade-vectors", str(tmp_path / "weights.jsonl")),
        "weights.json: missing",
    )
    assert_one_line_error(
        braid("index", str(tiny), "--out", str(tmp_path / "other"), "--retrievers", "bm25", "--splade-vectors", str(tmp_path / "weights.jsonl")),
        "vectors given for 'splade'",
    )
    assert not (tmp_path / "other").exists()
