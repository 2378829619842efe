"""Starting Ray in a process whose JVM already runs must not take the JVM's SIGSEGV handler away
(Lucene's indexer then died with 'Fatal Python error: Segmentation fault')."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

SCRIPT = """
import sys
from braid.engine.build import build_index
build_index(sys.argv[1], sys.argv[2] + "/before", ["bm25"], progress=False)  # the JVM starts here
import ray
from braid.indexing.ray_cluster import kept_crash_handlers
with kept_crash_handlers():
    ray.init(num_cpus=1, include_dashboard=False, logging_level="warning")
build_index(sys.argv[3], sys.argv[2] + "/after", ["bm25"], progress=False)
ray.shutdown()
print("built")
"""


def test_lucene_indexes_after_ray_starts(scifact_small: Path, scifact_dir: Path, tmp_path: Path) -> None:
    """Indexing all of SciFact after ray.init aborted in 2 runs of 2 without kept_crash_handlers (Ray
    installing Python's faulthandler, as RAY_DISABLE_FAILURE_SIGNAL_HANDLER=1 makes it; absl's
    handler, Ray's default, killed a benchmark the same way)."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(scifact_small / "corpus.jsonl"), str(tmp_path), str(scifact_dir / "corpus.jsonl")],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "RAY_DISABLE_FAILURE_SIGNAL_HANDLER": "1"},
    )
    assert done.returncode == 0 and done.stdout.strip().endswith("built"), done.stderr[-3000:]


def test_connections_share_the_cluster_the_first_one_started() -> None:
    """Two engines on Ray in one process: closing the first must not stop Ray under the second."""
    import ray

    from braid.indexing.ray_cluster import RayConnection

    if ray.is_initialized():
        pytest.skip("a Ray session is already running in this process")
    first, second = RayConnection("local"), RayConnection("local")
    try:
        first.close()
        assert ray.is_initialized()
        first.close()  # twice is harmless
        assert ray.is_initialized()
    finally:
        second.close()
    assert not ray.is_initialized()
