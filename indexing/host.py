"""What machine this is: figures and host-dependent choices are recorded against it."""

from __future__ import annotations

import os
import platform


def all_cores() -> int:
    """torch's intra-op threads wherever braid wants the whole machine (model loading, batches,
    one query's encoder run in the calling thread)."""
    return os.cpu_count() or 1


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
