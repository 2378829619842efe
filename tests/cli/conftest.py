"""A real `braid serve` process on 127.0.0.1, shared by the API and page tests of a module."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from braid.eval.bench_http import free_port
from braid.eval.bench_http import start_server as launch


def start_server(index: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The server process and its base URL; its log is shown if it fails to start."""
    port = free_port()
    log = tempfile.TemporaryFile(mode="w+")
    try:
        process = launch(str(index), port, log)
    except click.ClickException as error:
        log.seek(0)
        raise AssertionError(f"{error.message}: {log.read()[-2000:]}") from None
    return process, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def server(three_way_small_index: Path) -> Iterator[str]:
    process, url = start_server(three_way_small_index)
    yield url
    process.terminate()
    process.wait(timeout=30)
