"""What machine this is: figures and host-dependent choices are recorded against it."""

from __future__ import annotations

import functools
import os
import platform
import sys


@functools.cache
def all_cores() -> int:
    """torch's intra-op threads wherever braid wants the whole machine (model loading, batches,
    one query's encoder run in the calling thread). Read once: os.cpu_count reads a file each call
    (23 us on the 2-core VM, 2026-12-04), and each retriever of a query asks."""
    return os.cpu_count() or 1


def use_torch_threads(threads: int | None = None) -> None:
    """Torch's intra-op threads for the calling thread set to `threads` (None: every core), unless
    already so. Per thread, but a new thread starts from the last setting made anywhere, so callers
    that want every core say so. Torch is not imported for this: until it is, nothing was set."""
    torch = sys.modules.get("torch")
    wanted = threads or all_cores()
    if torch is not None and torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)


def cpu_model() -> str:
    """The CPU's model name (e.g. "AMD EPYC"), from /proc/cpuinfo where there is one."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
