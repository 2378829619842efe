"""The `braid` program's first lines. Until `main()` installs braid's own signal handling, Ctrl-C or
SIGTERM would kill the process mid-import with a traceback or no word at all; nothing has been
created by then, so the early handler below just says so and exits with the shell's code."""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType


def _interrupted_early(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("braid: interrupted\n")
    sys.stderr.flush()
    os._exit(128 + signum)


def run() -> None:
    """Entry point of the `braid` command and of `python -m braid.cli`."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupted_early)
    from braid.cli.main import main

    main()
