"""Ctrl-C and SIGTERM during `braid index`: one line, the shell's exit code, nothing left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("signum", "code", "after"), [(signal.SIGINT, 130, 0.5), (signal.SIGTERM, 143, 0.5), (signal.SIGINT, 130, 6.0), (signal.SIGTERM, 143, 12.0)]
)
def test_an_interrupted_build_says_so_and_leaves_nothing(
    scifact_dir: Path, embedding_cache_dir: Path, tmp_path: Path, signum: int, code: int, after: float
) -> None:
    """The moments fall while Python imports braid (0.5 s: before braid's own handling is set up, a
    signal ended the process with a traceback or silently), in model loading / the JVM start (6 s)
    and in indexing or encoding (12 s) on 2 cores. The whole SciFact corpus keeps the build running
    past 12 s on every host (200 documents were built in under 12 s on an Intel AMX host)."""
    out = tmp_path / "out"
    out.mkdir()
    build = subprocess.Popen(
        [sys.executable, "-m", "braid.cli", "index", str(scifact_dir), "--out", str(out / "index"), "--retrievers", "bm25,splade,dense"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BRAID_CACHE": str(tmp_path / "cache")},  # nothing cached: the build must encode
    )
    time.sleep(after)
    build.send_signal(signum)
    stdout, stderr = build.communicate(timeout=120)
    assert build.returncode == code, stderr[-2000:]
    assert stderr.strip().splitlines()[-1] == "braid: interrupted", stderr[-2000:]
    assert list(out.iterdir()) == []  # no index, no hidden staging folder
    assert not list(tmp_path.glob("hs_err_pid*.log"))  # the JVM did not crash
