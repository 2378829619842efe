"""A real `braid serve` process on 127.0.0.1, shared by the API and page tests of a module."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(index: Path) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")  # not a pipe: a chatty server must never block on a full one
    process = subprocess.Popen([sys.executable, "-m", "braid.cli.main", "serve", str(index), "--port", str(port)], stderr=log, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise AssertionError(f"braid serve exited early: {log.read()[-2000:]}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return process, url
        except requests.ConnectionError:
            time.sleep(0.3)
    process.kill()
    raise AssertionError("braid serve did not answer /health within 300 s")


@pytest.fixture(scope="module")
def server(three_way_small_index: Path) -> Iterator[str]:
    process, url = start_server(three_way_small_index)
    yield url
    process.terminate()
    process.wait(timeout=30)
