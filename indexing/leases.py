"""Reader leases: an open engine writes down which segment and deletion files it reads, so that a
writer's cleanup never removes them while it runs (files load lazily, at the first query). A lease
whose process has died is stale and ignored."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from braid.indexing.atomic import process_alive
from braid.indexing.layout import READERS_FOLDER
from braid.indexing.manifest import Manifest


def used_paths(manifest: Manifest) -> set[str]:
    """What a generation reads, relative to the index: its segment folders and deletion files."""
    used = {segment.name for segment in manifest.segments}
    used.update(segment.deleted for segment in manifest.segments if segment.deleted)
    return used


class Lease:
    """Held from Engine.open (or refresh) to close; writing it fails quietly on a read-only index."""

    def __init__(self, index: Path, manifest: Manifest) -> None:
        self.path: Path | None = index / READERS_FOLDER / f"{os.getpid()}-{uuid.uuid4().hex[:12]}.json"
        body = json.dumps({"generation": manifest.generation, "uses": sorted(used_paths(manifest))})
        for _ in range(3):  # the folder may vanish under us (the last lease's release removes it)
            try:
                self.path.parent.mkdir(exist_ok=True)
                # Written whole under a name the writer's glob skips, then renamed: never read half-written.
                partial = self.path.with_name(f".{self.path.name}.partial")
                partial.write_text(body, encoding="utf-8")
                partial.rename(self.path)
                return
            except FileNotFoundError:
                continue
            except OSError:  # a read-only copy of an index has no writer to protect against
                break
        self.path = None

    def release(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            try:
                self.path.parent.rmdir()  # only when no other reader holds a lease: a built index stays as built
            except OSError:
                pass
            self.path = None


def leased_paths(index: Path) -> set[str]:
    """Everything live readers still read; stale leases (their process is gone) are removed."""
    used: set[str] = set()
    for lease in _leases(index):
        pid = lease.name.split("-", 1)[0]
        if not pid.isdigit() or not process_alive(int(pid)):
            lease.unlink(missing_ok=True)
            continue
        try:
            used.update(json.loads(lease.read_text(encoding="utf-8"))["uses"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # released while we looked
    return used


def _leases(index: Path) -> Iterable[Path]:
    folder = index / READERS_FOLDER
    return sorted(folder.glob("*.json")) if folder.is_dir() else []
