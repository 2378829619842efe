"""Model identity keys the embedding cache: it must follow the weights' bytes, not their shapes."""

from __future__ import annotations

import os
import re
from pathlib import Path

from braid.indexing.models import model_identity


def _checkpoint(folder: Path, weights: bytes) -> Path:
    folder.mkdir()
    (folder / "config.json").write_text('{"hidden_size": 4}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def test_same_shape_checkpoints_with_different_weights_differ(tmp_path: Path) -> None:
    original = model_identity(str(_checkpoint(tmp_path / "base", b"\x00" * 64)))
    fine_tuned = model_identity(str(_checkpoint(tmp_path / "tuned", b"\x00" * 63 + b"\x01")))
    assert re.fullmatch(r"local:[0-9a-f]{16}", original) and original != fine_tuned
    assert model_identity(str(_checkpoint(tmp_path / "copy", b"\x00" * 64))) == original


def test_bookkeeping_files_and_hub_names_do_not_change_identity(tmp_path: Path) -> None:
    folder = _checkpoint(tmp_path / "model", b"weights")
    before = model_identity(str(folder))
    (folder / ".cache").mkdir()
    (folder / ".cache" / "download.metadata").write_text("etag, timestamp", encoding="utf-8")
    assert model_identity(str(folder)) == before
    assert model_identity("sentence-transformers/all-MiniLM-L6-v2") == "sentence-transformers/all-MiniLM-L6-v2"


def test_bytes_are_hashed_once_per_size_and_mtime(tmp_path: Path) -> None:
    weights = _checkpoint(tmp_path / "model", b"A" * 32) / "model.safetensors"
    before = model_identity(str(weights.parent))
    stat = weights.stat()
    # Same size and mtime: the cached digest is reused, the bytes are not read again.
    weights.write_bytes(b"B" * 32)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert model_identity(str(weights.parent)) == before
    # A new mtime is a new key: the rewritten bytes are read and the identity changes.
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert model_identity(str(weights.parent)) != before
