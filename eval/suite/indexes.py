"""Build a benchmark's index (in a child process, so its peak memory is its own) or reuse one."""

from __future__ import annotations

import json
import multiprocessing
import resource
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from braid.eval.report import folder_megabytes
from braid.fusion.errors import BraidError
from braid.indexing.config import DEFAULT_PRECISION, DenseConfig, SpladeConfig
from braid.indexing.layout import MANIFEST_NAME
from braid.indexing.manifest import Manifest

BUILD_RECORD = "build.json"


@dataclass(frozen=True)
class IndexRecord:
    """How an index came to be: the cost columns of the benchmark table."""

    path: str
    documents: int
    retrievers: list[str]
    build_seconds: float | None
    peak_memory_mb: float | None
    size_mb: dict[str, float]  # per retriever sub-folder, and "total"
    reused: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def ensure_index(
    corpus: Path, index_dir: Path, retrievers: Sequence[str], record_dir: Path, rebuild: bool = False, precision: str = DEFAULT_PRECISION
) -> IndexRecord:
    """Reuse `index_dir` when it holds these retrievers over this corpus, encoded at `precision`
    (dense and SPLADE; "auto" is what this machine would pick), else build it.

    The build's time and peak memory are kept in `record_dir/build.json`, so a reused index still
    reports what it cost to build.
    """
    record_path = record_dir / BUILD_RECORD
    if not rebuild and _reusable(index_dir, corpus, retrievers, precision):
        previous = _read_record(record_path)
        manifest = Manifest.read(index_dir)
        return IndexRecord(
            str(index_dir), manifest.doc_count, list(retrievers),
            previous.get("build_seconds"), previous.get("peak_memory_mb"), sizes(index_dir, manifest), reused=True,
        )  # fmt: skip
    seconds, peak_mb = _build_in_child(corpus, index_dir, retrievers, precision)
    manifest = Manifest.read(index_dir)
    record = IndexRecord(str(index_dir), manifest.doc_count, list(retrievers), round(seconds, 1), peak_mb, sizes(index_dir, manifest))
    record_dir.mkdir(parents=True, exist_ok=True)
    record_path.write_text(json.dumps(record.to_dict(), indent=2) + "\n", encoding="utf-8")
    return record


def _reusable(index_dir: Path, corpus: Path, retrievers: Sequence[str], precision: str) -> bool:
    if not (index_dir / MANIFEST_NAME).is_file():
        return False
    manifest = Manifest.read(index_dir)
    if Path(manifest.corpus_source) != corpus.absolute() or not all(name in manifest.retrievers for name in retrievers):
        return False
    if manifest.generation != 1:  # written to since its build: no longer that corpus
        return False
    wanted = _encodings(retrievers, precision)
    return all(manifest.retrievers[name].params.get("precision") == config.with_concrete_precision().precision for name, config in wanted.items())


def _read_record(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def sizes(index_dir: Path, manifest: Manifest) -> dict[str, float]:
    """Megabytes on disk per retriever sub-folder, and for the whole index directory."""
    result = {name: folder_megabytes(index_dir / entry.path) for name, entry in manifest.retrievers.items()}
    result["total"] = folder_megabytes(index_dir)
    return result


def _build_in_child(corpus: Path, index_dir: Path, retrievers: Sequence[str], precision: str) -> tuple[float, float]:
    """(seconds, peak resident MB) of `braid index` run in a fresh process."""
    context = multiprocessing.get_context("spawn")
    with context.Pool(1) as pool:
        outcome = pool.apply(_build, (str(corpus), str(index_dir), list(retrievers), precision))
    if "error" in outcome:
        raise BraidError(f"building {index_dir} failed: {outcome['error']}")
    return outcome["seconds"], outcome["peak_memory_mb"]


def _build(corpus: str, index_dir: str, retrievers: list[str], precision: str) -> dict[str, Any]:
    from braid.engine.build import build_index
    from braid.indexing.interrupts import raise_on_termination

    raise_on_termination()  # the parent's pool ends this child with SIGTERM on Ctrl-C: clean up first
    started = time.perf_counter()
    try:
        build_index(corpus, index_dir, retrievers, configs=dict(_encodings(retrievers, precision)), overwrite=True, progress=False)
    except BraidError as error:  # crosses the process boundary as text: the parent re-raises it
        return {"error": str(error)}
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
    return {"seconds": time.perf_counter() - started, "peak_memory_mb": round(peak, 1)}


def _encodings(retrievers: Sequence[str], precision: str) -> dict[str, DenseConfig | SpladeConfig]:
    """Dense and SPLADE settings at `precision` for the retrievers built; everything else default."""
    chosen: dict[str, DenseConfig | SpladeConfig] = {"dense": DenseConfig(precision=precision), "splade": SpladeConfig(precision=precision)}
    return {name: config for name, config in chosen.items() if name in retrievers}
