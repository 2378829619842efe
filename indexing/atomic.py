"""Write a directory completely or not at all: build in a hidden sibling, then rename into place."""

from __future__ import annotations

import os
import re
import shutil
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from braid.fusion.errors import BraidError
from braid.indexing.layout import MANIFEST_NAME, SHARDS_NAME

# Hidden siblings of a target: `.NAME.building-PID-TOKEN` while a build runs, `.NAME.replaced-PID-TOKEN`
# for the old index during the final swap. The owner's pid tells a live build from a dead one.
_SIBLING = re.compile(r"^\.(?P<name>.+)\.(?:building|replaced)-(?P<pid>[0-9]+)-[0-9a-f]+$")


@contextmanager
def atomic_directory(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh staging directory that becomes `target` only if the block finishes.

    Any exception (Ctrl-C included) removes the staging directory, so a failed build leaves
    nothing behind and an existing index stays untouched. A non-empty directory that is not a
    braid index is never replaced, even with `overwrite`, to protect unrelated user data. Staging
    folders that a killed build (SIGKILL, power loss) left beside `target` are removed first.
    """
    target = Path(target).absolute()
    if target.exists():
        if not overwrite:
            raise BraidError(f"{target} already exists; pass --overwrite to replace it")
        if not target.is_dir() or (any(target.iterdir()) and not any((target / name).is_file() for name in (MANIFEST_NAME, SHARDS_NAME))):
            raise BraidError(f"{target} exists and is not a braid index; refusing to replace it")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BraidError(f"cannot create {target.parent}: {error.strerror or error}") from error
    for stale in stale_siblings(target):
        shutil.rmtree(stale, ignore_errors=True)
        print(f"braid: removed {stale.name}, left by an interrupted build (process {_owner(stale)} is gone)", file=sys.stderr)
    token = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
    staging = target.parent / f".{target.name}.building-{token}"
    try:
        staging.mkdir()
    except OSError as error:
        raise BraidError(f"cannot write in {target.parent}: {error.strerror or error}") from error
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if target.exists():
        retired = target.parent / f".{target.name}.replaced-{token}"
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(target)


def stale_siblings(target: Path) -> list[Path]:
    """Staging and retired folders of `target` whose owning process no longer runs."""
    return [entry for entry in stale_siblings_in(target.parent) if _target_name(entry) == target.name]


def stale_siblings_in(folder: Path) -> list[Path]:
    """Staging and retired folders of any target in `folder` whose owning process no longer runs."""
    if not folder.is_dir():
        return []
    found = []
    for entry in folder.iterdir():
        match = _SIBLING.match(entry.name)
        if match and entry.is_dir() and not process_alive(int(match["pid"])):
            found.append(entry)
    return sorted(found)


def _target_name(folder: Path) -> str | None:
    match = _SIBLING.match(folder.name)
    return match["name"] if match else None


def _owner(folder: Path) -> str:
    match = _SIBLING.match(folder.name)
    return match["pid"] if match else "?"


def process_alive(pid: int) -> bool:
    """Whether process `pid` runs (this process counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True
