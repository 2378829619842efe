"""Run the `braid` command as a user does: a real process, its exit code, stdout and stderr."""

from __future__ import annotations

import os
import subprocess
import sys


def braid(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """`timeout` only catches a hung command: a slow machine is not a failure."""
    return subprocess.run(
        [sys.executable, "-m", "braid.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
