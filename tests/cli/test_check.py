"""Damaged index files: opening names the file; `braid check` finds every damaged byte."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from braid.engine.build import build_index
from tests.support.cli import assert_one_line_error, braid


@pytest.fixture
def index(scifact_slice_index: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(scifact_slice_index, copy)
    return copy


def test_a_whole_index_checks_clean(index: Path) -> None:
    result = braid("check", str(index), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["problems"] == [] and report["files"] >= 4


@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_a_truncated_or_missing_file_is_named_when_the_index_opens(index: Path, damage: str) -> None:
    victim = index / "bm25" / "term_docs.npz"
    if damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:100])
    else:
        victim.unlink()
    assert_one_line_error(braid("search", str(index), "vitamin D"), str(victim), "rebuild or restore")
    checked = braid("check", str(index))
    assert checked.returncode == 1 and str(victim) in checked.stderr


def test_a_flipped_byte_of_the_same_size_is_found_by_check(index: Path) -> None:
    victim = index / "docs.sqlite"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    checked = braid("check", str(index), "--json")
    assert checked.returncode == 1
    assert json.loads(checked.stdout)["problems"] == [f"{victim} is damaged (its SHA-256 differs from the one recorded at build)"]


def test_an_index_without_checksums_says_how_to_get_them(index: Path) -> None:
    manifest = json.loads((index / "manifest.json").read_text())
    del manifest["files"]
    (index / "manifest.json").write_text(json.dumps(manifest))
    assert braid("search", str(index), "vitamin D").returncode == 0  # still opens
    assert_one_line_error(braid("check", str(index)), "records no checksums", "rebuild")


def test_files_are_recorded_at_build(scifact_slice: Path, tmp_path: Path) -> None:
    manifest = build_index(scifact_slice / "corpus.jsonl", tmp_path / "index", ["bm25"], progress=False)
    assert "docs.sqlite" in manifest.files and "bm25/term_docs.npz" in manifest.files
    assert all(len(record.sha256) == 64 and record.size >= 0 for record in manifest.files.values())
