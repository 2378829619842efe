"""Joining a Ray cluster (`--ray ADDRESS`; `pip install 'braid[ray]'`): nothing else in braid imports Ray."""

from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from braid.fusion.errors import BraidError

# `--ray local` starts a cluster on this machine; `auto` joins a running one; anything else is its address.
LOCAL = "local"


def ray_module() -> Any:
    try:
        import ray
    except ImportError:
        raise BraidError("--ray needs Ray: pip install 'braid[ray]'") from None
    return ray


# Signals the JVM raises on purpose (implicit null checks, safepoints) and handles itself.
_JVM_SIGNALS = (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL)
_SIGACTION_BYTES = 512  # more than any libc's struct sigaction


@contextmanager
def kept_crash_handlers() -> Iterator[None]:
    """Starting Ray installs crash handlers for SIGSEGV and its kin (absl's, or Python's
    faulthandler), and stopping it resets them to the default action. Either way the SIGSEGVs the
    JVM raises on purpose then kill the process: Lucene's indexer died so after `ray.init` in a
    process whose JVM had started before, and a test suite segfaulted after `ray.shutdown`. Around
    both, the handlers in place before are put back when the block ends."""
    libc = ctypes.CDLL(None, use_errno=True)
    saved = {}
    for number in _JVM_SIGNALS:
        action = ctypes.create_string_buffer(_SIGACTION_BYTES)
        if libc.sigaction(int(number), None, action) == 0:
            saved[number] = action
    try:
        yield
    finally:
        for number, action in saved.items():
            libc.sigaction(int(number), action, None)


class RayConnection:
    """This process's use of the cluster at `address`. Ray allows one connection per process, so
    connections share it: the cluster a connection started is stopped when the last open
    connection closes (a test's or a caller's own `ray.init` is left running)."""

    _open = 0  # connections not yet closed
    _started = False  # whether one of them started Ray here

    def __init__(self, address: str) -> None:
        ray = ray_module()
        if not ray.is_initialized():
            try:
                with kept_crash_handlers():
                    if address == LOCAL:
                        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="warning")
                    else:
                        ray.init(address=address, logging_level="warning")
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise BraidError(f"cannot join the Ray cluster at {address!r}: {str(error).splitlines()[0]}") from None
            RayConnection._started = True
        RayConnection._open += 1
        self.closed = False

    @property
    def cpus(self) -> int:
        return int(ray_module().cluster_resources().get("CPU", 0))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        RayConnection._open -= 1
        if RayConnection._open == 0 and RayConnection._started:
            with kept_crash_handlers():  # shutting down resets SIGSEGV to the default action
                ray_module().shutdown()
            RayConnection._started = False
