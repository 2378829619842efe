"""Write a directory completely or not at all: build in a hidden sibling, then rename into place."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from braid.engine.errors import BraidError

MANIFEST_NAME = "manifest.json"


@contextmanager
def atomic_directory(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield a fresh staging directory that becomes `target` only if the block finishes.

    Any exception (Ctrl-C included) removes the staging directory, so a failed build leaves
    nothing behind and an existing index stays untouched. A non-empty directory that is not a
    braid index is never replaced, even with `overwrite`, to protect unrelated user data.
    """
    target = Path(target).absolute()
    if target.exists():
        if not overwrite:
            raise BraidError(f"{target} already exists; pass --overwrite to replace it")
        if not target.is_dir() or (any(target.iterdir()) and not (target / MANIFEST_NAME).is_file()):
            raise BraidError(f"{target} exists and is not a braid index; refusing to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    staging = target.parent / f".{target.name}.building-{token}"
    staging.mkdir()
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
