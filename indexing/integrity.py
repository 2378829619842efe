"""Is an index whole? Sizes are checked whenever an index opens (cheap); `braid check` re-reads every
byte against the SHA-256 recorded at build, as Lucene's CheckIndex does for its segments."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from braid.fusion.errors import BraidError
from braid.indexing.layout import DELETES_FOLDER, FUSION_FILE, MANIFEST_NAME, READERS_FOLDER, ROOT_SEGMENT, SEGMENTS_FOLDER, WRITE_LOCK
from braid.indexing.manifest import FileRecord, Manifest

# Written after the build (`braid tune`), by readers and the writer, or the record itself: not
# covered by the manifest. Later segments record their own files in their own manifests; the
# manifest records the deletion files it names (others are a killed writer's, removed by the next).
_UNRECORDED = {MANIFEST_NAME, FUSION_FILE, WRITE_LOCK}
_OWN_RECORDS = {SEGMENTS_FOLDER, READERS_FOLDER, DELETES_FOLDER}


def record_files(index: Path) -> dict[str, FileRecord]:
    """Size and SHA-256 of every file under `index`, by path relative to it."""
    return {name: FileRecord(path.stat().st_size, sha256(path)) for name, path in _files(index).items()}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(index: Path) -> dict[str, Path]:
    found = {}
    for path in sorted(index.rglob("*")):
        relative = path.relative_to(index)
        if relative.parts[0] in _OWN_RECORDS or relative.parts[0].startswith("."):
            continue  # later segments, reader leases, deletion files, a writer's unfinished work
        name = relative.as_posix()
        if path.is_file() and name not in _UNRECORDED:
            found[name] = path
    return found


def recorded_parts(index: Path, manifest: Manifest) -> list[tuple[Path, Manifest]]:
    """Each folder that records its own files, with its manifest: the index (its first segment and
    the deletion files) and every later segment."""
    return [(index, manifest)] + [(index / segment.name, Manifest.read(index / segment.name)) for segment in manifest.segments if segment.name != ROOT_SEGMENT]


def size_problems(index: Path, manifest: Manifest) -> list[str]:
    """Recorded files that are missing or whose size changed."""
    problems = []
    for folder, record_of in recorded_parts(index, manifest):
        for name, record in record_of.files.items():
            path = folder / name
            if not path.is_file():
                problems.append(f"{path} is missing")
            elif path.stat().st_size != record.size:
                problems.append(f"{path} is damaged ({path.stat().st_size} bytes, {record.size} when built)")
    return problems


def check_sizes(index: Path, manifest: Manifest) -> None:
    """Refuse to open an index whose files are missing or truncated, naming the first one."""
    problems = size_problems(index, manifest)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s); `braid check {index}` lists them)" if len(problems) > 1 else ""
        raise BraidError(f"{problems[0]}{more}; rebuild or restore the index")


def checksum_problems(index: Path, manifest: Manifest, progress: Callable[[str], None] | None = None) -> list[str]:
    """Every recorded file re-read and compared with its SHA-256, plus files nobody recorded."""
    problems = size_problems(index, manifest)
    broken = {problem.split(" ", 1)[0] for problem in problems}
    for folder, record_of in recorded_parts(index, manifest):
        for name, record in record_of.files.items():
            path = folder / name
            if str(path) in broken:
                continue
            if progress:
                progress(name)
            if sha256(path) != record.sha256:
                problems.append(f"{path} is damaged (its SHA-256 differs from the one recorded at build)")
        for name in _files(folder):
            if name not in record_of.files:
                problems.append(f"{folder / name} was not part of the index when it was built")
    return problems


def recorded_files(index: Path, manifest: Manifest) -> dict[str, FileRecord]:
    """Every file the generation records, by path relative to the index."""
    found = {}
    for folder, record_of in recorded_parts(index, manifest):
        prefix = folder.relative_to(index).as_posix()
        found.update({name if prefix == "." else f"{prefix}/{name}": record for name, record in record_of.files.items()})
    return found
