"""SIGINT and SIGTERM unwind the stack like Ctrl-C, so every `finally` and staging cleanup runs.

Python's default SIGTERM kills the process on the spot (a build's staging folder stays behind);
the JVM is started with -Xrs (see braid.indexing.jvm) so that it leaves both signals to Python.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType

# Signals received since `raise_on_termination` was installed, in order.
received: list[int] = []


class Terminated(KeyboardInterrupt):
    """Raised in the main thread when SIGTERM (or SIGINT) arrives."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    received.append(signum)
    if len(received) == 1:  # a second signal during cleanup must not interrupt the cleanup
        raise Terminated(signum)


def raise_on_termination() -> None:
    """Make SIGINT and SIGTERM raise `Terminated` in the main thread (no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, _raise)


def exit_code() -> int | None:
    """The shell's code for the first signal received (130 for SIGINT, 143 for SIGTERM), if any."""
    return 128 + received[0] if received else None
