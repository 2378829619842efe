"""Publishing a generation and removing what no generation needs any more.

A writer makes every new file first (a segment folder, deletion files), flushes them to disk, and
only then renames a new manifest over the old one: that rename is the commit. A writer killed
before it leaves the previous generation in place, plus files nothing references, which the next
writer removes (unless a live reader's lease still names them).
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from braid.indexing.atomic import process_alive, stale_siblings_in
from braid.indexing.layout import DELETES_FOLDER, DOCSTORE_NAME, MANIFEST_NAME, ROOT_SEGMENT, SEGMENTS_FOLDER
from braid.indexing.leases import leased_paths, used_paths
from braid.indexing.manifest import Manifest

_PARTIAL_PREFIX = f".{MANIFEST_NAME}."


def publish(index: Path, manifest: Manifest) -> None:
    """Make `manifest` the index's current generation, all at once (readers see the old or the new)."""
    partial = index / f"{_PARTIAL_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    with partial.open("w", encoding="utf-8") as handle:
        handle.write(manifest.to_json())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, index / MANIFEST_NAME)
    sync_folder(index)


def sync_tree(folder: Path) -> None:
    """Flush every file under `folder`, and the folders themselves, to disk (before a commit names them)."""
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        elif path.is_dir():
            sync_folder(path)
    sync_folder(folder)


def sync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def remove_unreferenced(index: Path, manifest: Manifest) -> list[str]:
    """Delete segments, deletion files and a writer's leftovers that neither `manifest` nor any live
    reader uses; returns what was removed (relative to the index)."""
    keep = used_paths(manifest) | leased_paths(index)
    removed: list[str] = []
    segments = index / SEGMENTS_FOLDER
    if segments.is_dir():
        for stale in stale_siblings_in(segments):
            shutil.rmtree(stale, ignore_errors=True)
            removed.append(f"{SEGMENTS_FOLDER}/{stale.name}")
        for folder in sorted(segments.iterdir()):
            name = f"{SEGMENTS_FOLDER}/{folder.name}"
            if not folder.name.startswith(".") and name not in keep:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(name)
    deletes = index / DELETES_FOLDER
    if deletes.is_dir():
        for path in sorted(deletes.iterdir()):
            name = f"{DELETES_FOLDER}/{path.name}"
            if name not in keep and not _in_progress(path.name):
                path.unlink(missing_ok=True)
                removed.append(name)
    if ROOT_SEGMENT not in keep:  # compacted away: the first segment's files go too
        for name in [DOCSTORE_NAME, *(entry.path for entry in manifest.retrievers.values())]:
            path = index / name
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(name)
            elif path.is_file():
                path.unlink()
                removed.append(name)
    for path in sorted(index.glob(f"{_PARTIAL_PREFIX}*")):
        if not _in_progress(path.name.removeprefix(_PARTIAL_PREFIX)):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


def _in_progress(name: str) -> bool:
    """A temporary file named PID-TOKEN... whose writing process still runs."""
    pid = name.split("-", 1)[0].lstrip(".")
    return pid.isdigit() and process_alive(int(pid))
