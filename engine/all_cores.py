"""The one thread per process where single queries run torch on every core.

Torch's OpenMP runtime on Linux (libgomp) keeps a team of helper threads for each thread that has
run a parallel region on several cores, for as long as that thread lives. Once the teams' threads
outnumber the cores, libgomp stops its helpers spinning between parallel regions (a short
"throttled" spin, then sleep), so every region of a small one-query encode waits for a helper to
wake. Measured with the MiniLM query encoder on two cores (Intel Xeon, 2026-12-04): 3.7 ms a query
in a thread alone, 9.6 ms in a second thread while the first one, which had encoded on both cores,
lived on (7.6 ms with OMP_WAIT_POLICY=ACTIVE, 10.1-10.8 ms everywhere with PASSIVE; a thread that
had encoded on one core slowed nobody: 3.8 against 3.6 ms). A server answers from many worker
threads, and a script's first search runs in whatever thread made it, so with a way that encodes
in the calling thread every such thread became a team: `braid serve` with `serial` answered in
21.2 ms p50 against 10.6 with `threads`, where the encoders run in the engine's one-core threads.

So every search of a few queries that may run torch on every core runs here, in one long-lived
thread, whichever thread asked: there is then one multi-core team in the process. Batches run in
threads of their own that end with the batch (their teams go with them). Concurrent searches queue
for the thread: eight HTTP clients at once with `serial` got 80.2 q/s, against 95.7 when every
worker encoded on every core and 112.8 with `threads` (one-core encoders, no hand-off); sending a
search the `threads` way while this thread was taken gave 72.6 (SciFact, Intel Xeon, 2026-12-05)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from braid.engine.context_pool import ContextThreadPool

P = ParamSpec("P")
T = TypeVar("T")

_lock = threading.Lock()
_pool: ContextThreadPool | None = None
_thread: int | None = None  # the ident of the pool's thread, once it has started


def on_all_cores(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)` run in the process's all-cores thread (the caller's context
    variables go with it), and its result or exception. Called from that thread, it runs directly."""
    if threading.get_ident() == _thread:
        return function(*args, **kwargs)
    return _executor().submit(function, *args, **kwargs).result()


def _executor() -> ContextThreadPool:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ContextThreadPool(max_workers=1, thread_name_prefix="braid-all-cores", initializer=_started)
        return _pool


def _started() -> None:
    global _thread
    _thread = threading.get_ident()
