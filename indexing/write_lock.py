"""One writer per index: an exclusive flock on write.lock. The kernel releases it when the holder
exits, however it exits (SIGKILL included), so a crashed writer never blocks the next one."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from braid.fusion.errors import BraidError
from braid.indexing.layout import WRITE_LOCK


class WriteLock:
    def __init__(self, index: Path) -> None:
        self.path = index / WRITE_LOCK
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            os.close(fd)
            raise BraidError(f"another writer (pid {holder}) is writing to {self.path.parent}; wait for it to finish") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing drops the flock
            self._fd = None
