"""An index directory appears complete or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from braid.fusion.errors import BraidError
from braid.indexing.atomic import atomic_directory
from braid.indexing.layout import MANIFEST_NAME


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


def _dead_pid() -> int:
    """A pid that belonged to a process which has exited."""
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_folders_left_by_a_killed_build_are_removed_by_the_next_build(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "index"
    dead = _dead_pid()
    leftovers = [tmp_path / f".index.building-{dead}-0badc0de", tmp_path / f".index.replaced-{dead}-0badc0de"]
    for folder in leftovers:
        (folder / "bm25").mkdir(parents=True)
    unrelated = tmp_path / f".other.building-{dead}-0badc0de"
    unrelated.mkdir()
    with atomic_directory(target) as staging:
        (staging / "part").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == [unrelated.name, "index"]
    assert capsys.readouterr().err.count("left by an interrupted build") == 2


def test_a_running_build_keeps_its_staging_folder(tmp_path: Path) -> None:
    import os

    live = tmp_path / f".index.building-{os.getppid()}-0badc0de"  # the test runner's parent: alive
    live.mkdir()
    with atomic_directory(tmp_path / "index"):
        pass
    assert live.is_dir()


def test_an_output_path_that_cannot_be_created_is_named(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(BraidError, match=f"cannot create {blocker}"):
        with atomic_directory(blocker / "sub" / "index"):
            pass
