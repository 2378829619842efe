"""An index directory appears complete or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.engine.errors import BraidError
from braid.indexing.atomic import MANIFEST_NAME, atomic_directory


def test_directory_appears_only_when_the_block_finishes(tmp_path: Path) -> None:
    target = tmp_path / "index"
    with atomic_directory(target) as staging:
        (staging / "part").write_text("x")
        assert not target.exists()
    assert (target / "part").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["index"]


@pytest.mark.parametrize("failure", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_or_interrupt_leaves_nothing(tmp_path: Path, failure: BaseException) -> None:
    with pytest.raises(type(failure)):
        with atomic_directory(tmp_path / "index") as staging:
            (staging / "half").write_text("x")
            raise failure
    assert list(tmp_path.iterdir()) == []


def test_existing_index_needs_overwrite_and_survives_a_failed_rebuild(tmp_path: Path) -> None:
    target = tmp_path / "index"
    with atomic_directory(target) as staging:
        (staging / MANIFEST_NAME).write_text("old")
    with pytest.raises(BraidError, match="already exists; pass --overwrite"):
        with atomic_directory(target):
            pass
    with pytest.raises(RuntimeError):
        with atomic_directory(target, overwrite=True) as staging:
            (staging / MANIFEST_NAME).write_text("new")
            raise RuntimeError
    assert (target / MANIFEST_NAME).read_text() == "old"
    with atomic_directory(target, overwrite=True) as staging:
        (staging / MANIFEST_NAME).write_text("new")
    assert (target / MANIFEST_NAME).read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["index"]


def test_never_replaces_a_folder_that_is_not_an_index(tmp_path: Path) -> None:
    precious = tmp_path / "thesis"
    precious.mkdir()
    (precious / "chapter1.tex").write_text("years of work")
    with pytest.raises(BraidError, match="not a braid index"):
        with atomic_directory(precious, overwrite=True):
            pass
    assert (precious / "chapter1.tex").read_text() == "years of work"
