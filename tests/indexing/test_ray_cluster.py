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
with kept_crash_handlers():
    ray.shutdown()
build_index(sys.argv[3], sys.argv[2] + "/after-shutdown", ["bm25"], progress=False)
print("built")
"""


def test_lucene_indexes_after_ray_starts_and_stops(scifact_small: Path, scifact_dir: Path, tmp_path: Path) -> None:
    """Indexing all of SciFact after ray.init aborted in 2 runs of 2 without kept_crash_handlers (Ray
    installing Python's faulthandler, as RAY_DISABLE_FAILURE_SIGNAL_HANDLER=1 makes it; absl's
    handler, Ray's default, killed a benchmark the same way); after ray.shutdown, which resets
    SIGSEGV to the default action, the test suite died with 'Segmentation fault'."""
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


HANDLERS = """
import ctypes, signal
import ray
from braid.indexing.analysis import LuceneAnalyzer
from braid.indexing.ray_cluster import kept_crash_handlers

libc = ctypes.CDLL(None, use_errno=True)

def segv_handler():
    action = ctypes.create_string_buffer(512)
    libc.sigaction(int(signal.SIGSEGV), None, action)
    return action.raw[:8]

LuceneAnalyzer.shared().tokens("start the jvm")
jvm = segv_handler()
with kept_crash_handlers():
    ray.init(num_cpus=1, include_dashboard=False, logging_level="warning")
kept_after_init = segv_handler() == jvm
with kept_crash_handlers():
    ray.shutdown()
kept_after_shutdown = segv_handler() == jvm
ray.init(num_cpus=1, include_dashboard=False, logging_level="warning")
ray.shutdown()
print(kept_after_init, kept_after_shutdown, segv_handler() == jvm)
"""


def test_the_jvm_keeps_its_sigsegv_handler_across_ray_init_and_shutdown(tmp_path: Path) -> None:
    """Without kept_crash_handlers, ray.shutdown leaves SIGSEGV at the default action (the last value)."""
    done = subprocess.run([sys.executable, "-c", HANDLERS], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["True", "True", "False"]
