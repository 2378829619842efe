"""A `braid serve` process with chosen options, on a port the server picks itself (--port 0)."""

from __future__ import annotations

import http.client
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ANNOUNCED = re.compile(r"serving .* on (http://127\.0\.0\.1:(\d+))/")


@dataclass
class Served:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    _log: IO[str]

    def log(self) -> str:
        """Everything the server wrote to stderr so far."""
        self._log.seek(0)
        return self._log.read()


@contextmanager
def serve(index: Path, *options: str, timeout: float = 300) -> Iterator[Served]:
    """`braid serve INDEX --port 0 OPTIONS` on 127.0.0.1, once it has announced its port and /health
    answers; stopped on exit. A server that fails to start fails the test with its log."""
    log = tempfile.TemporaryFile(mode="w+")
    command = [sys.executable, "-m", "braid.cli", "serve", str(index), "--host", "127.0.0.1", "--port", "0", *options]
    process = subprocess.Popen(command, stderr=log)
    try:
        served = _wait_until_ready(process, log, time.monotonic() + timeout)
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_until_ready(process: subprocess.Popen[bytes], log: IO[str], deadline: float) -> Served:
    served: Served | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if served is None:
            log.seek(0)
            found = ANNOUNCED.search(log.read())
            if found:
                served = Served(found[1], int(found[2]), process, log)
        if served is not None and _healthy(served.port):
            return served
        time.sleep(0.2)
    log.seek(0)
    raise AssertionError(f"braid serve did not start (exit code {process.poll()}): {log.read()[-3000:]}")


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", "/health")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()
